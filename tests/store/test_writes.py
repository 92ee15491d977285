"""Writing to a store: many attributes of a running trial at once, on every kind of store,
and several processes creating one new store."""

from __future__ import annotations

import subprocess
import sys
import time
import uuid

import optuna
import pytest
from optuna.trial import TrialState

from nas.store import open_storage, write_trial

from ..helpers import postgres_url

pytestmark = pytest.mark.filterwarnings("ignore:Heartbeat of storage")

ATTRS = {"architecture": '{"layers":[]}', "n_params": 1234, "counts": False, "curve": [0.5, 0.7]}
STEPS = {1: 0.25, 2: 0.5, 3: float("nan")}


@pytest.fixture(params=["sqlite", "journal", "postgres"])
def study(request, tmp_path) -> optuna.Study:
    url = {
        "sqlite": lambda: f"sqlite:///{tmp_path / 'store.db'}",
        "journal": lambda: str(tmp_path / "store.log"),
        "postgres": postgres_url,
    }[request.param]()
    name = f"batch-{request.param}-{uuid.uuid4().hex[:8]}"
    return optuna.create_study(study_name=name, storage=open_storage(url))


def test_attributes_and_steps_are_stored(study):
    trial = study.ask()
    trial.set_user_attr("driver", "here")
    write_trial(study._storage, trial._trial_id, ATTRS, STEPS)
    stored = study._storage.get_trial(trial._trial_id)
    assert stored.user_attrs == {"driver": "here", **ATTRS}
    assert stored.intermediate_values[1] == 0.25 and stored.intermediate_values[2] == 0.5
    assert stored.intermediate_values[3] != stored.intermediate_values[3]  # NaN kept
    # Writing again replaces values, as single writes do.
    write_trial(study._storage, trial._trial_id, {"n_params": 99}, {1: 0.75})
    stored = study._storage.get_trial(trial._trial_id)
    assert stored.user_attrs["n_params"] == 99 and stored.intermediate_values[1] == 0.75


def test_finished_trial_refuses_and_keeps_what_it_had(study):
    trial = study.ask()
    study.tell(trial, 1.0)
    with pytest.raises(optuna.exceptions.UpdateFinishedTrialError):
        write_trial(study._storage, trial._trial_id, ATTRS, STEPS)
    stored = study._storage.get_trial(trial._trial_id)
    assert stored.state == TrialState.COMPLETE
    assert stored.user_attrs == {} and stored.intermediate_values == {}


OPEN_AT = """
import sys, time
from nas.store import open_storage
start = float(sys.argv[2])
while time.time() < start:
    time.sleep(0.001)
open_storage(sys.argv[1])
print("opened")
"""


def test_processes_creating_one_new_store_at_once_all_open_it(tmp_path):
    """Several drivers started together on a new SQLite file all get the store."""
    url = f"sqlite:///{tmp_path / 'new.db'}"
    start = time.time() + 4.0  # after every process has imported the toolkit
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", OPEN_AT, url, str(start)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(6)
    ]
    results = [proc.communicate(timeout=120) for proc in procs]
    for proc, (out, err) in zip(procs, results, strict=True):
        assert proc.returncode == 0 and out.strip() == "opened", err
