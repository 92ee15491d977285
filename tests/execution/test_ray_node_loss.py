"""A Ray node dies under a running search: its trials fail with a reason naming the node, are
retried, and the search goes on on a new local instance to its target."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import optuna
import psutil
import pytest
import ray
from optuna.trial import TrialState
from ray.cluster_utils import Cluster

from nas.config import ExecutionSection
from nas.execution import TrialJob
from nas.execution.ray import RayExecutor
from nas.execution.ray import cluster as ray_cluster
from nas.execution.ray import host as ray_host
from nas.model import Architecture, Dense
from nas.search import counted_trials
from nas.store import open_storage
from nas.training import TrainConfig

from ..helpers import LONG_TRIALS_SPACE, write_experiment

TRIALS = 2


def test_search_survives_its_local_raylet_dying(tmp_path):
    path = write_experiment(
        tmp_path, trials=TRIALS, training="{epochs: 60}", space=LONG_TRIALS_SPACE
    )
    storage = f"sqlite:///{tmp_path / 'store.db'}"
    env = {k: v for k, v in os.environ.items() if k != "RAY_ADDRESS"}
    log = tmp_path / "search.log"
    with log.open("w") as out:
        search = subprocess.Popen(
            [sys.executable, "-m", "nas.cli", "search", str(path), "--workers", "2"],
            cwd=tmp_path,
            env=env,
            stdout=out,
            stderr=out,
        )
    try:
        running = _wait_for_running(search, log, storage, count=2)
        # The raylet of the instance this search started: in the search's own process tree.
        tree = psutil.Process(search.pid).children(recursive=True)
        (raylet,) = [p for p in tree if p.name() == "raylet"]
        node_id = _node_id(raylet)
        os.kill(raylet.pid, signal.SIGKILL)
        assert search.wait(timeout=240) == 0, log.read_text()
    finally:
        if search.poll() is None:
            search.kill()
            search.wait()

    output = log.read_text()
    assert "(raylet)" not in output, "Ray's own log lines stay off the terminal"
    study = optuna.load_study(study_name="t", storage=open_storage(storage))
    assert counted_trials(study) == TRIALS
    assert not study.get_trials(states=(TrialState.RUNNING,))
    for number in running:
        killed = study.trials[number]
        assert killed.state == TrialState.FAIL
        reason = killed.user_attrs["fail_reason"]
        assert reason.startswith("node lost: ") and node_id in reason, reason
        assert "\n" not in reason
        assert killed.user_attrs["counts"] is False
        (retry,) = [t for t in study.trials if t.user_attrs.get("retry_of") == number]
        assert retry.state == TrialState.COMPLETE and retry.params == killed.params
        assert retry.user_attrs["node"] != node_id
    # What was left of the lost instance is gone with the search.
    _, left = psutil.wait_procs([p for p in tree if p.is_running()], timeout=30)
    assert not [p for p in left if p.status() != psutil.STATUS_ZOMBIE]


def test_a_host_that_stops_answering_is_replaced(synthetic, monkeypatch):
    """A host that gives no answer in time (stopped here with SIGSTOP) is taken as lost: its
    trial fails naming it, and the trial run again completes on a new host."""
    monkeypatch.setattr(ray_host, "REPLY_GRACE_S", 3.0)
    arch = Architecture(layers=(Dense(16),), batch_size=32)
    stopped: list[psutil.Process] = []

    def stop_the_host(number: int, epoch: int, metrics: dict) -> bool:
        if not stopped:
            (host,) = [
                p
                for p in psutil.Process().children()
                if "nas.execution.ray" in " ".join(p.cmdline())
            ]
            host.send_signal(signal.SIGSTOP)
            stopped.append(host)
        return False

    with RayExecutor(synthetic, TrainConfig(epochs=20), ExecutionSection(workers=1)) as executor:
        executor.submit(TrialJob(0, arch.to_json(), seed=0))
        outcomes: list = []
        while not outcomes:  # waits of 1 s: the host has 1 s plus its grace to answer
            outcomes = executor.wait(stop_the_host, timeout=1.0)
        (lost,) = outcomes
        executor.submit(TrialJob(1, arch.to_json(), seed=0))
        (retry,) = executor.wait(lambda n, e, m: False)
    (host,) = stopped
    assert lost.trial_number == 0 and lost.state == "failed" and lost.worker_died
    assert lost.reason.startswith(f"node lost: the Ray driver process (pid {host.pid}) on Ray")
    assert "gave no answer for 4 s" in lost.reason, lost.reason
    # Its log is kept for its stacks (none here: a stopped process writes nothing).
    log = Path(lost.reason.rpartition("its stacks are in ")[2])
    assert log.is_file()
    log.unlink()
    assert retry.trial_number == 1 and retry.state == "complete"
    assert not host.is_running()


def _node_id(raylet: psutil.Process) -> str:
    """The Ray node id a raylet serves (its ``--node_id`` argument)."""
    (arg,) = [a for a in raylet.cmdline() if a.startswith("--node_id=")]
    return arg.removeprefix("--node_id=")


def _wait_for_running(proc: subprocess.Popen, log: Path, storage: str, count: int) -> list[int]:
    """Numbers of the first ``count`` trials running at once in the study."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        time.sleep(0.2)
        if proc.poll() is not None:
            pytest.fail(f"the search ended early: {log.read_text()}")
        try:
            study = optuna.load_study(study_name="t", storage=open_storage(storage))
        except KeyError:
            continue
        running = study.get_trials(deepcopy=False, states=(TrialState.RUNNING,))
        if len(running) >= count:
            return [t.number for t in running]
    pytest.fail("the search never ran two trials at once")


@contextlib.contextmanager
def _cluster(*cpus: int) -> Iterator[Cluster]:
    """A cluster on 127.0.0.1 with a node of each number of CPUs, the head first; a node
    that goes silent is noticed within seconds."""
    node = {"node_ip_address": "127.0.0.1", "include_dashboard": False}
    fast = {"health_check_period_ms": 500, "health_check_failure_threshold": 3}
    with ray_cluster.loopback_only():
        made = Cluster(
            initialize_head=True,
            head_node_args={**node, "num_cpus": cpus[0], "_system_config": fast},
        )
        for count in cpus[1:]:
            made.add_node(**node, num_cpus=count)
        made.wait_for_nodes()
    try:
        yield made
    finally:
        made.shutdown()


def test_pool_goes_on_on_the_nodes_left(synthetic):
    """A lost worker node fails the trial it ran with a reason naming it; its replacement
    finds no room, and the trials left run on the node left.

    Trials are long (2000 epochs), so the one on the other node is surely mid-run when its
    node is killed at its first reported epoch, however late that report arrives on a busy
    machine; every other trial is stopped at its third epoch to keep the test short."""
    arch = Architecture(layers=(Dense(16),), batch_size=32)
    with _cluster(1, 1) as cluster:
        (other,) = cluster.worker_nodes
        session = ray_cluster.connect(cluster.address)
        try:
            here = ray.get_runtime_context().get_node_id()
            assert here == cluster.head_node.node_id  # the node this process drives from
            execution = ExecutionSection(workers=2, address=cluster.address)
            killed: dict[str, int] = {}

            def kill_other_node(number: int, epoch: int, metrics: dict) -> bool:
                # At the first epoch of a trial on the other node: the trial is mid-run.
                slot = executor.slot_of(number)
                if not killed and executor.worker_info()[slot]["node"] == other.node_id:
                    cluster.remove_node(other, allow_graceful=False)
                    killed["trial"] = number
                # The killed trial runs on until its node is gone: never stopped.
                return killed.get("trial") != number and epoch >= 2

            with RayExecutor(synthetic, TrainConfig(epochs=2000), execution) as executor:
                assert {i["node"] for i in executor.worker_info()} == {here, other.node_id}
                for number in range(4):
                    executor.submit(TrialJob(number, arch.to_json(), seed=number))
                outcomes = {}
                while executor.in_flight():
                    for outcome in executor.wait(kill_other_node, timeout=1.0):
                        outcomes[outcome.trial_number] = outcome
        finally:
            session.close()
    lost = outcomes.pop(killed["trial"])
    assert lost.state == "failed" and lost.worker_died
    assert lost.reason == f"node lost: Ray node {other.node_id} (127.0.0.1) is gone"
    assert len(outcomes) == 3
    assert {o.state for o in outcomes.values()} == {"pruned"}
    assert {o.node for o in outcomes.values()} == {here}


def test_search_whose_cluster_is_gone_exits_with_one_line(tmp_path):
    """The cluster a search joined goes down: the trials it ran fail naming the node and are
    queued again, and the search exits 2 with one line saying what to run."""
    path = write_experiment(tmp_path, trials=4, training="{epochs: 200}", space=LONG_TRIALS_SPACE)
    storage = f"sqlite:///{tmp_path / 'store.db'}"
    env = {k: v for k, v in os.environ.items() if k != "RAY_ADDRESS"}
    out, err = tmp_path / "out.log", tmp_path / "err.log"
    with _cluster(2) as cluster:
        address = cluster.address
        command = ["search", str(path), "--address", address, "--workers", "2"]
        with out.open("w") as stdout, err.open("w") as stderr:
            search = subprocess.Popen(
                [sys.executable, "-m", "nas.cli", *command],
                cwd=tmp_path,
                env=env,
                stdout=stdout,
                stderr=stderr,
            )
        try:
            running = _wait_for_running(search, err, storage, count=2)
            node_id = cluster.head_node.node_id
            cluster.remove_node(cluster.head_node, allow_graceful=False)
            status = search.wait(timeout=240)
        finally:
            if search.poll() is None:
                search.kill()
                search.wait()
    errors = err.read_text()
    assert status == 2, out.read_text() + errors
    assert "Traceback" not in errors and "(raylet)" not in errors, errors
    line = errors.strip().splitlines()[-1]  # progress lines come before it
    assert line.startswith(f"error: Ray node {node_id} (127.0.0.1) went down"), line
    assert f"ray status --address {address}" in line
    assert line.endswith("then run the same command again to resume")
    study = optuna.load_study(study_name="t", storage=open_storage(storage))
    assert not study.get_trials(states=(TrialState.RUNNING,))
    for number in running:
        killed = study.trials[number]
        assert killed.state == TrialState.FAIL
        assert killed.user_attrs["fail_reason"].startswith(f"node lost: Ray node {node_id}")
    # Their candidates wait for the next run.
    queued = study.get_trials(states=(TrialState.WAITING,))
    assert sorted(t.user_attrs["retry_of"] for t in queued) == sorted(running)
