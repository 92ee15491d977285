"""Joining an existing Ray cluster: two nodes on this machine, one search across both."""

from __future__ import annotations

import os
import subprocess
import sys

import optuna
import pytest
from optuna.trial import TrialState
from ray.cluster_utils import Cluster

from nas import ray_cluster
from nas.search import counted_trials
from nas.store import open_storage

from .helpers import write_experiment


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
