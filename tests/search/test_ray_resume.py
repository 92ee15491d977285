"""A search driver killed with SIGKILL mid-search, with Ray workers, then run again.

The store is SQLite and PostgreSQL (``NAS_TEST_POSTGRES_URL``, e.g. from
``.ci/postgres.sh``; required where ``CI`` is set). No Ray runs in this test process: each
``nas search`` starts its own local instance.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import optuna
import psutil
import pytest
from optuna.trial import TrialState

from nas.search import counted_trials
from nas.store import open_storage

from ..helpers import LONG_TRIALS_SPACE, postgres_url, write_experiment

SPACE = LONG_TRIALS_SPACE
TRIALS = 4


@pytest.fixture(params=["sqlite", "postgres"])
def storage(request, tmp_path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.db'}"
    return postgres_url()


def _search(path: Path, study: str) -> list[str]:
    return [sys.executable, "-m", "nas.cli", "search", str(path), "--study", study]


def _env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k != "RAY_ADDRESS"}


def _holders(folder: Path) -> list[int]:
    """Live processes with files open under ``folder``."""
    prefix = str(folder) + os.sep
    pids = []
    for proc in psutil.process_iter():
        try:
            if any(f.path.startswith(prefix) for f in proc.open_files()):
                pids.append(proc.pid)
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            continue
    return pids


def test_driver_killed_mid_search_resumes(storage, tmp_path):
    study_name = f"kill-{uuid.uuid4().hex[:8]}"
    path = write_experiment(
        tmp_path,
        trials=TRIALS,
        training="{epochs: 60}",
        space=SPACE,
        storage=storage,
        execution="{workers: 2}",
    )
    log = tmp_path / "killed.log"
    began = time.time() - 1.0
    with log.open("w") as err:
        proc = subprocess.Popen(
            _search(path, study_name), cwd=tmp_path, env=_env(), stdout=err, stderr=err
        )
    try:
        study = _wait_for_finished_and_running(proc, log, storage, study_name)
        # Ray's driver may be the search or a process of its own (nas.execution.ray.host).
        hosts = psutil.Process(proc.pid).children()
        drivers = [proc.pid] + [p.pid for p in hosts]
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=60)
        # A host outlives its search driver only while it stops its Ray session.
        _, left = psutil.wait_procs(hosts, timeout=120)
        assert not left, [p.cmdline() for p in left]
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    before = {t.number: t for t in study.get_trials() if t.state.is_finished()}
    running = {t.number for t in study.get_trials() if _started(t)}
    assert before and running
    # The killed driver's local Ray instance: its session folder is named after Ray's driver
    # (process ids are reused: an older run's folder may carry the same one).
    (session,) = [
        s
        for pid in drivers
        for s in Path("/tmp/ray").glob(f"session_*_{pid}")
        if s.stat().st_mtime >= began
    ]

    out = subprocess.run(
        _search(path, study_name),
        cwd=tmp_path,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr
    study = optuna.load_study(study_name=study_name, storage=open_storage(storage))
    trials = study.get_trials()
    assert counted_trials(study) == TRIALS, out.stdout + out.stderr
    assert not [t.number for t in trials if t.state == TrialState.RUNNING]
    # Finished trials are kept as they were.
    for number, old in before.items():
        assert trials[number].state == old.state and trials[number].values == old.values
    # Trials running at the crash failed, do not count, and their candidates ran again once.
    for number in running:
        crashed = trials[number]
        assert crashed.state == TrialState.FAIL
        assert crashed.user_attrs["fail_reason"].startswith("the search driver stopped")
        assert crashed.user_attrs["counts"] is False
        (retry,) = [t for t in trials if t.user_attrs.get("retry_of") == number]
        assert retry.params == crashed.params and retry.state == TrialState.COMPLETE
    # No candidate counted twice: a counted retry's original never counts.
    counted = {
        t.number for t in trials if t.state.is_finished() and t.user_attrs.get("counts", True)
    }
    assert not {t.user_attrs.get("retry_of") for t in trials if t.number in counted} & counted
    # What the killed driver's Ray left behind was stopped by the next run.
    assert not _holders(session)


def _started(trial: optuna.trial.FrozenTrial) -> bool:
    return trial.state == TrialState.RUNNING and "architecture" in trial.user_attrs


def _wait_for_finished_and_running(
    proc: subprocess.Popen, log: Path, storage: str, study_name: str
) -> optuna.Study:
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        time.sleep(0.2)
        if proc.poll() is not None:
            pytest.fail(f"the search ended before it could be killed: {log.read_text()}")
        try:
            study = optuna.load_study(study_name=study_name, storage=open_storage(storage))
        except KeyError:
            continue
        trials = study.get_trials(deepcopy=False)
        done = any(t.state == TrialState.COMPLETE for t in trials)
        # A running trial whose candidate went to a worker (not one still being sampled).
        if done and any(_started(t) for t in trials):
            return study
    pytest.fail("the search never had a finished and a running trial at once")
