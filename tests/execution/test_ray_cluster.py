"""Where trials run: a local Ray instance sized for the workers asked for, or an existing
cluster (two nodes on this machine) that a search joins."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

import optuna
import pytest
import ray
from optuna.trial import TrialState
from ray.cluster_utils import Cluster

from nas.config import ExecutionSection
from nas.errors import SpecError
from nas.execution import TrialJob
from nas.execution.ray import RayExecutor
from nas.execution.ray import cluster as ray_cluster
from nas.model import Architecture, Dense
from nas.search import counted_trials
from nas.store import open_storage
from nas.training import TrainConfig

from ..helpers import write_experiment


def test_local_instance_runs_more_workers_than_cores(synthetic):
    """Three trials at a time on a two-core machine share the cores; none waits forever."""
    workers = (os.cpu_count() or 1) + 1
    arch = Architecture(layers=(Dense(16),), batch_size=32)
    with RayExecutor(synthetic, TrainConfig(epochs=2), ExecutionSection(workers=workers)) as ex:
        assert ex.session.started
        assert len({info["pid"] for info in ex.worker_info()}) == workers
        for number in range(workers):
            ex.submit(TrialJob(number, arch.to_json(), seed=number))
        outcomes = []
        while ex.in_flight():
            outcomes += ex.wait(lambda n, e, m: False)
    assert sorted(o.trial_number for o in outcomes) == list(range(workers))
    assert {o.state for o in outcomes} == {"complete"}
    assert not ray.is_initialized()


def test_local_instance_refuses_gpus_it_lacks(synthetic, tmp_path):
    execution = ExecutionSection(workers=2, gpus_per_trial=0.5)
    with pytest.raises(SpecError, match=r"execution\.gpus_per_trial: 2 trial"):
        RayExecutor(synthetic, TrainConfig(epochs=1), execution, source=tmp_path / "exp.yaml")
    assert not ray.is_initialized()


def test_search_whose_cluster_cannot_be_reached_exits_with_one_line(tmp_path):
    """Nothing listens at the address given: the search exits 2 with one line saying so and
    what to check, before any trial."""
    with socket.socket() as free:  # a port of this machine that nothing listens on
        free.bind(("127.0.0.1", 0))
        address = f"127.0.0.1:{free.getsockname()[1]}"
    path = write_experiment(tmp_path, trials=2)
    env = {k: v for k, v in os.environ.items() if k != "RAY_ADDRESS"}
    out = subprocess.run(
        [sys.executable, "-m", "nas.cli", "search", str(path), "--address", address],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 2, out.stderr
    assert "Traceback" not in out.stderr
    line = out.stderr.strip().splitlines()[-1]
    assert line.startswith(f"error: Ray could not be joined at {address}: cannot reach"), line
    assert line.endswith(f"(ray status --address {address}), then run the same command again")


@pytest.fixture
def two_nodes():
    """A head and a worker node of one CPU each, both on 127.0.0.1."""
    node = {"num_cpus": 1, "node_ip_address": "127.0.0.1", "include_dashboard": False}
    with ray_cluster.loopback_only():
        cluster = Cluster(initialize_head=True, head_node_args=node)
        cluster.add_node(**node)
        cluster.wait_for_nodes()
    yield cluster
    cluster.shutdown()


def test_search_runs_on_both_nodes_of_a_cluster(two_nodes, tmp_path):
    # One trial per node at a time: each node has one CPU and a trial takes one.
    path = write_experiment(tmp_path, trials=6, training="{epochs: 20}")
    env = {k: v for k, v in os.environ.items() if k != "RAY_ADDRESS"}
    command = ["search", str(path), "--address", two_nodes.address, "--workers", "2"]
    out = subprocess.run(
        [sys.executable, "-m", "nas.cli", *command],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr
    study = optuna.load_study(
        study_name="t", storage=open_storage(f"sqlite:///{tmp_path / 'store.db'}")
    )
    assert counted_trials(study) == 6
    nodes = {two_nodes.head_node.node_id} | {n.node_id for n in two_nodes.worker_nodes}
    assert len(nodes) == 2
    ran_on = {t.user_attrs["node"] for t in study.get_trials(states=(TrialState.COMPLETE,))}
    assert ran_on == nodes
    # RAY_ADDRESS in the environment joins the cluster as --address does.
    out = subprocess.run(
        [sys.executable, "-m", "nas.cli", "search", str(path), "--trials", "8"],
        cwd=tmp_path,
        env={**env, "RAY_ADDRESS": two_nodes.address},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr
    new = [t for t in study.get_trials(states=(TrialState.COMPLETE,)) if t.number >= 6]
    assert len(new) == 2 and {t.user_attrs["node"] for t in new} <= nodes
    # Joining does not stop the cluster: both nodes are still alive after the search.
    with ray_cluster.loopback_only():
        alive = [n for n in two_nodes.global_state.node_table() if n["Alive"]]
    assert {n["NodeID"] for n in alive} == nodes
