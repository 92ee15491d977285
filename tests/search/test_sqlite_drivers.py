"""Two ``nas search`` processes started together on one SQLite study: exactly the target
count of trials, each a different candidate."""

from __future__ import annotations

import os
import subprocess
import sys

import optuna
from optuna.trial import TrialState

from nas.search import counted_trials
from nas.store import open_storage

from ..helpers import write_experiment

TRIALS = 4


def test_two_drivers_started_together_train_distinct_candidates(tmp_path):
    storage = f"sqlite:///{tmp_path / 's.db'}"
    path = write_experiment(tmp_path, trials=TRIALS, training="{epochs: 1}", storage=storage)
    command = [sys.executable, "-m", "nas.cli", "search", str(path)]
    env = {k: v for k, v in os.environ.items() if k != "RAY_ADDRESS"}
    logs = [tmp_path / "a.log", tmp_path / "b.log"]
    procs = []
    try:
        for log in logs:
            with log.open("w") as out:
                procs.append(
                    subprocess.Popen(command, cwd=tmp_path, env=env, stdout=out, stderr=out)
                )
        for proc, log in zip(procs, logs, strict=True):
            assert proc.wait(timeout=300) == 0, log.read_text()
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    study = optuna.load_study(study_name="t", storage=open_storage(storage))
    assert counted_trials(study) == TRIALS
    trained = [t for t in study.trials if t.user_attrs.get("counts", True)]
    assert all(t.state == TrialState.COMPLETE for t in trained)
    assert len({t.user_attrs["architecture"] for t in trained}) == TRIALS
    assert len({tuple(sorted(t.params.items())) for t in trained}) == TRIALS
