"""Trials left running by a dead driver, recovered on real SQLite storage.

A driver can die at any point of a trial's life: while its candidate is being sampled, or
after the candidate went to a worker. Only a complete candidate is run again.
"""

from __future__ import annotations

import socket
import subprocess
import sys

import optuna
import pytest
from optuna.trial import TrialState

from nas.processes import process_name as driver_id
from nas.search import counted_trials, load_experiment, recover_stale, run_search
from nas.store import open_storage

from ..helpers import write_experiment

# The store records heartbeats (as a search driver does); asking by hand is fine here.
pytestmark = pytest.mark.filterwarnings("ignore:Heartbeat of storage")


@pytest.fixture
def dead_driver() -> str:
    """A driver id on this host whose process has exited."""
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return f"{socket.gethostname()}:{proc.pid}"


@pytest.fixture
def study(tmp_path) -> optuna.Study:
    return optuna.create_study(
        study_name="s", storage=open_storage(f"sqlite:///{tmp_path / 'store.db'}")
    )


def _ask(study: optuna.Study, driver: str, *, complete: bool) -> optuna.Trial:
    trial = study.ask()
    trial.set_user_attr("driver", driver)
    trial.suggest_int("width", 1, 64)
    if complete:
        trial.suggest_float("lr", 1e-3, 1e-1, log=True)
        trial.set_user_attr("architecture", "{}")
    return trial


def test_started_trial_runs_again_with_its_candidate(study, dead_driver):
    trial = _ask(study, dead_driver, complete=True)
    assert recover_stale(study) == [trial.number]
    crashed = study.trials[trial.number]
    assert crashed.state == TrialState.FAIL
    assert crashed.user_attrs["fail_reason"].startswith("the search driver stopped while")
    assert crashed.user_attrs["counts"] is False
    retry = study.ask()
    assert retry.user_attrs == {
        "attempt": 1,
        "retry_of": trial.number,
        "retry_reason": crashed.user_attrs["fail_reason"],
    }
    assert retry.suggest_int("width", 1, 64) == crashed.params["width"]
    assert retry.suggest_float("lr", 1e-3, 1e-1, log=True) == crashed.params["lr"]


def test_half_sampled_trial_is_failed_not_requeued(study, dead_driver):
    trial = _ask(study, dead_driver, complete=False)
    assert recover_stale(study) == [trial.number]
    crashed = study.trials[trial.number]
    assert crashed.state == TrialState.FAIL
    assert "before this trial's candidate was complete" in crashed.user_attrs["fail_reason"]
    assert crashed.user_attrs["counts"] is False
    assert study.get_trials(states=(TrialState.WAITING,)) == []


def test_queued_candidate_taken_but_not_started_is_queued_again(study, dead_driver):
    study.enqueue_trial({"width": 7}, user_attrs={"attempt": 2, "retry_of": 0})
    trial = _ask(study, dead_driver, complete=False)
    assert trial.params == {"width": 7}
    assert recover_stale(study) == [trial.number]
    (waiting,) = study.get_trials(states=(TrialState.WAITING,))
    # It never ran, so it is the same attempt of the same candidate.
    assert waiting.user_attrs == {"attempt": 2, "retry_of": 0}
    assert waiting.system_attrs["fixed_params"] == {"width": 7}


def test_live_drivers_trials_are_left_alone(study):
    _ask(study, driver_id(), complete=True)
    assert recover_stale(study) == []
    assert study.trials[0].state == TrialState.RUNNING


def test_search_resumes_past_a_half_sampled_trial(tmp_path, dead_driver):
    path = write_experiment(tmp_path, trials=1)
    run_search(load_experiment(path))
    exp = load_experiment(path, {"trials": 2})
    study = optuna.load_study(study_name=exp.study, storage=open_storage(exp.storage))
    _ask(study, dead_driver, complete=False)
    summary = run_search(exp)
    assert summary.new_trials == 1
    states = [t.state for t in study.get_trials()]
    assert states == [TrialState.COMPLETE, TrialState.FAIL, TrialState.COMPLETE]
    assert counted_trials(study) == 2


def test_trial_whose_driver_died_before_naming_itself(study, monkeypatch):
    # The driver asked for the trial and died before it could name itself on it.
    trial = study.ask()
    assert recover_stale(study) == []  # it may still be a live driver's, about to name itself
    monkeypatch.setattr("nas.search.recovery.ORPHAN_GRACE_SECONDS", 0.0)
    assert recover_stale(study) == [trial.number]
    crashed = study.trials[trial.number]
    assert crashed.state == TrialState.FAIL
    assert "before this trial's candidate was complete" in crashed.user_attrs["fail_reason"]
    assert study.get_trials(states=(TrialState.WAITING,)) == []


def test_search_waits_out_a_nameless_trial_and_reaches_its_target(tmp_path, monkeypatch):
    monkeypatch.setattr("nas.search.recovery.ORPHAN_GRACE_SECONDS", 3.0)
    path = write_experiment(tmp_path, trials=1)
    run_search(load_experiment(path))
    exp = load_experiment(path, {"trials": 2})
    study = optuna.load_study(study_name=exp.study, storage=open_storage(exp.storage))
    study.ask()  # nameless: it holds the last place until it is told abandoned
    summary = run_search(exp)
    assert summary.new_trials == 1
    states = [t.state for t in study.get_trials()]
    assert states == [TrialState.COMPLETE, TrialState.FAIL, TrialState.COMPLETE]
    assert counted_trials(study) == 2


def test_a_drivers_process_id_taken_by_a_new_process_counts_as_gone(study):
    # The system may give a dead driver's id to a new process: this test's own process
    # stands for it, under a name with another start time.
    host, pid, started = driver_id().split(":")
    reused = f"{host}:{pid}:{int(started) - 5000}"
    trial = _ask(study, reused, complete=True)
    assert recover_stale(study) == [trial.number]
    # An older name without a start time keeps counting a live process as alive.
    older = _ask(study, f"{host}:{pid}", complete=True)
    assert recover_stale(study) == []
    assert study.trials[older.number].state == TrialState.RUNNING
