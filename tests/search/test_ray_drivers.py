"""Two ``nas search`` drivers on one study at once, on a journal file and on SQLite.

``--trials`` is the study-wide target: together the drivers leave exactly that many counted
trials, every trial number recorded once and every finished trial complete in the store.
Each driver trains in its own process (one worker each), which keeps the test about the
store, the part the drivers share.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import optuna
import pytest
from optuna.trial import TrialState

from nas.search import counted_trials
from nas.store import open_storage

from ..helpers import LONG_TRIALS_SPACE, write_experiment

# Wide layers and small batches keep each trial busy for a second or more (one compiled epoch
# runs all its steps), so the second driver joins while the first still has trials to run.
SPACE = LONG_TRIALS_SPACE
TRIALS = 6


@pytest.mark.parametrize("kind", ["journal", "sqlite"])
def test_two_drivers_share_one_study(kind, tmp_path):
    storage = str(tmp_path / "store.log") if kind == "journal" else f"sqlite:///{tmp_path}/s.db"
    path = write_experiment(
        tmp_path, trials=TRIALS, training="{epochs: 200}", space=SPACE, storage=storage
    )
    command = [sys.executable, "-m", "nas.cli", "search", str(path)]
    env = {k: v for k, v in os.environ.items() if k != "RAY_ADDRESS"}
    logs = [tmp_path / "a.log", tmp_path / "b.log"]
    with logs[0].open("w") as out:
        first = subprocess.Popen(command, cwd=tmp_path, env=env, stdout=out, stderr=out)
    procs = [first]
    try:
        # The second driver joins while the first is mid-search.
        _wait_until_running(first, logs[0], storage)
        with logs[1].open("w") as out:
            procs.append(subprocess.Popen(command, cwd=tmp_path, env=env, stdout=out, stderr=out))
        for proc, log in zip(procs, logs, strict=True):
            assert proc.wait(timeout=300) == 0, log.read_text()
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()

    study = optuna.load_study(study_name="t", storage=open_storage(storage))
    trials = study.get_trials()
    assert counted_trials(study) == TRIALS
    assert [t.number for t in trials] == list(range(len(trials)))
    assert all(t.state.is_finished() for t in trials)
    finished = [t for t in trials if t.state in (TrialState.COMPLETE, TrialState.PRUNED)]
    for t in finished:
        assert t.params and t.user_attrs["architecture"]
        assert t.values == [t.user_attrs["val_accuracy"]]
        assert len(json.loads(t.user_attrs["curves"])) == t.user_attrs["epochs_run"]
    # Both drivers trained counted trials; anything else is a closed, uncounted place.
    drivers = {t.user_attrs["driver"] for t in trials if t.user_attrs.get("counts", True)}
    assert len(drivers) == 2
    others = [t for t in trials if not t.user_attrs.get("counts", True)]
    assert all(t.user_attrs["fail_reason"].startswith("not needed") for t in others)


def _wait_until_running(proc: subprocess.Popen, log: Path, storage: str) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        time.sleep(0.2)
        if proc.poll() is not None:
            pytest.fail(f"the first driver ended early: {log.read_text()}")
        try:
            study = optuna.load_study(study_name="t", storage=open_storage(storage))
        except KeyError:
            continue
        if study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
            return
    pytest.fail("the first driver never started a trial")
