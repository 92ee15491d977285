"""A Ray node dies under a running search: its trials fail with a reason naming the node, are
retried, and the search goes on on a new local instance to its target."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import optuna
import psutil
import pytest
from optuna.trial import TrialState

from nas.search import counted_trials
from nas.store import open_storage

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
