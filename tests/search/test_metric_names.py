"""A study names its objectives as Optuna's metric names, so optuna-dashboard and Optuna's
plots label each axis by objective: on creation, and on resuming a study that lacks them."""

from __future__ import annotations

import sqlite3

import optuna
import pytest

from nas.errors import SpecError
from nas.search import load_experiment, run_search
from nas.store import open_storage

from ..helpers import write_experiment

TWO = {"training": "{epochs: 1}", "objectives": "{val_accuracy: maximize, n_params: minimize}"}


def _study(exp) -> optuna.Study:
    return optuna.load_study(study_name=exp.study, storage=open_storage(exp.storage))


def test_a_new_study_names_its_metrics_after_the_objectives(tmp_path):
    exp = load_experiment(write_experiment(tmp_path, trials=1, **TWO))
    run_search(exp)
    study = _study(exp)
    assert study.metric_names == ["val_accuracy", "n_params"]
    # Optuna's own frame labels the values by them.
    frame = study.trials_dataframe(multi_index=True)
    assert list(frame["values"].columns) == ["val_accuracy", "n_params"]


def test_resuming_a_study_without_metric_names_adds_them(tmp_path):
    exp = load_experiment(write_experiment(tmp_path, trials=1, **TWO))
    run_search(exp)
    # A study searched before the names were recorded: the same store without them.
    with sqlite3.connect(tmp_path / "store.db") as db:
        db.execute("DELETE FROM study_system_attributes WHERE key = 'study:metric_names'")
    assert _study(exp).metric_names is None
    resumed = load_experiment(write_experiment(tmp_path, trials=2, **TWO))
    assert run_search(resumed).new_trials == 1
    assert _study(exp).metric_names == ["val_accuracy", "n_params"]


def test_a_study_with_no_record_gets_names_once_its_directions_match(tmp_path):
    exp = load_experiment(write_experiment(tmp_path, trials=1, training="{epochs: 1}"))
    optuna.create_study(
        study_name=exp.study, storage=open_storage(exp.storage), direction="maximize"
    )
    run_search(exp)
    assert _study(exp).metric_names == ["val_accuracy"]


def test_a_refused_resume_leaves_the_names_alone(tmp_path):
    exp = load_experiment(write_experiment(tmp_path, trials=1, **TWO))
    run_search(exp)
    other = {**TWO, "objectives": "{val_loss: minimize, n_params: minimize}"}
    with pytest.raises(SpecError, match="objectives: stored"):
        run_search(load_experiment(write_experiment(tmp_path, trials=2, **other)))
    assert _study(exp).metric_names == ["val_accuracy", "n_params"]
