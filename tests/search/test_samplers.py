"""Every sampler and pruner an experiment can name runs a real (tiny) search."""

from __future__ import annotations

import optuna
import pytest
from optuna.trial import TrialState

from nas.search import load_experiment, run_search
from nas.store import open_storage

from ..helpers import write_experiment

FINITE = """
name: finite
input: flat
skip: {choices: [none, residual]}
layers:
  - type: dense
    features: {choices: [8, 16]}
optimizer:
  learning_rate: {choices: [0.003, 0.01]}
  batch_size: 32
"""


@pytest.mark.parametrize(
    ("sampler", "objectives"),
    [
        ("tpe", "{val_accuracy: maximize}"),
        ("random", "{val_accuracy: maximize}"),
        ("cmaes", "{val_accuracy: maximize}"),
        ("{name: gp, n_startup_trials: 2}", "{val_accuracy: maximize}"),
        ("qmc", "{val_accuracy: maximize}"),
        ("{name: nsga2, population_size: 2}", "{val_accuracy: maximize, n_params: minimize}"),
        ("{name: tpe, n_startup_trials: 2}", "{val_accuracy: maximize, n_params: minimize}"),
        ("{name: evolution, population: 2}", "{val_accuracy: maximize}"),
        ("{name: evolution, population: 2}", "{val_accuracy: maximize, n_params: minimize}"),
        ("local_search", "{val_loss: minimize}"),
    ],
)
def test_sampler_runs_a_search(sampler, objectives, tmp_path):
    exp = load_experiment(
        write_experiment(
            tmp_path, sampler=sampler, objectives=objectives, trials=4, training="{epochs: 2}"
        )
    )
    summary = run_search(exp)
    study = optuna.load_study(study_name=exp.study, storage=open_storage(exp.storage))
    done = study.get_trials(states=(TrialState.COMPLETE,))
    assert len(done) == 4
    assert all(len(t.values) == len(exp.objectives) for t in done)
    assert summary.best and summary.test  # best trial(s) evaluated on the test split


def test_grid_covers_a_finite_space_then_stops(tmp_path):
    exp = load_experiment(
        write_experiment(tmp_path, space=FINITE, sampler="grid", trials=50, training="{epochs: 1}")
    )
    assert exp.space.cardinality() == 8
    summary = run_search(exp)
    study = optuna.load_study(study_name=exp.study, storage=open_storage(exp.storage))
    seen = {tuple(sorted(t.params.items())) for t in study.trials}
    assert summary.new_trials == 8 and len(seen) == 8


def test_local_search_ends_the_search_at_its_last_local_optimum(tmp_path):
    space = FINITE.replace("features: {choices: [8, 16]}", "features: {choices: [8, 16, 32, 64]}")
    exp = load_experiment(
        write_experiment(
            tmp_path,
            space=space,
            sampler="{name: local_search, restarts: 0}",
            trials=16,
            training="{epochs: 1}",
        )
    )
    summary = run_search(exp)
    assert summary.stopped == (
        "local search is done: its 1 descent(s) each reached a local optimum (sampler.restarts: 0)"
    )
    study = optuna.load_study(study_name=exp.study, storage=open_storage(exp.storage))
    roles = [t.system_attrs["local_search"]["role"] for t in study.trials]
    assert roles[0] == "restart" and roles.count("restart") == 1
    assert "neighbour" in roles and summary.new_trials < 16


@pytest.mark.parametrize(
    "pruner",
    [
        "median",
        "{name: successive_halving, min_resource: 1}",
        "hyperband",
        "none",
        "{name: mo_asha, eta: 2}",  # one objective: successive halving
    ],
)
def test_pruner_runs_a_search(pruner, tmp_path):
    exp = load_experiment(
        write_experiment(tmp_path, pruner=pruner, trials=4, training="{epochs: 3}")
    )
    run_search(exp)
    study = optuna.load_study(study_name=exp.study, storage=open_storage(exp.storage))
    states = [t.state for t in study.trials]
    assert len(states) == 4
    assert set(states) <= {TrialState.COMPLETE, TrialState.PRUNED}
