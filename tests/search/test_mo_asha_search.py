"""A multi-objective search pruned by MO-ASHA, end to end through ``nas search``, and resumed."""

from __future__ import annotations

import optuna
from optuna.trial import TrialState

from nas.search.mo_asha import RUNG_ATTR, MOASHAPruner, promoted
from nas.store import open_storage

from ..helpers import run_cli, write_experiment

# Learning rates over two decades: after one epoch some candidates are far behind.
SPACE = """
name: sized
input: flat
layers:
  - type: dense
    repeat: {low: 1, high: 2}
    features: {choices: [8, 16, 32]}
optimizer:
  learning_rate: {low: 1.0e-4, high: 3.0e-2, log: true}
  batch_size: 32
"""
OBJECTIVES = (("val_accuracy", "maximize"), ("n_params", "minimize"))


def _experiment(folder, trials):
    return write_experiment(
        folder,
        space=SPACE,
        trials=trials,
        training="{epochs: 4}",
        objectives="{val_accuracy: maximize, n_params: minimize}",
        pruner="{name: mo_asha, eta: 2}",
    )


def _study(folder) -> optuna.Study:
    storage = open_storage(f"sqlite:///{folder / 'store.db'}")
    return optuna.load_study(study_name="t", storage=storage)


def _check_every_decision(study: optuna.Study) -> None:
    """Each trial's fate at each rung is what ranking it among the points recorded there by
    earlier trials gives (one driver trains its trials in order)."""
    pruner = MOASHAPruner(OBJECTIVES, 4, eta=2)
    trials = study.get_trials(states=(TrialState.COMPLETE, TrialState.PRUNED))
    for trial in trials:
        for epoch in pruner.rungs:
            key = RUNG_ATTR.format(epoch=epoch)
            if key not in trial.system_attrs:
                continue
            earlier = [
                t.system_attrs[key]
                for t in trials
                if t.number < trial.number and key in t.system_attrs
            ]
            points = [pruner.losses(p) for p in [*earlier, trial.system_attrs[key]]]
            went_on = trial.user_attrs["epochs_run"] > epoch
            assert promoted(points, len(points) - 1, pruner.eta) == went_on, trial.number


def test_a_pruned_multi_objective_search_through_the_cli(tmp_path):
    done = run_cli("search", str(_experiment(tmp_path, 8)), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "pruner mo_asha (eta 2)" in done.stdout + done.stderr
    study = _study(tmp_path)
    states = [t.state for t in study.trials]
    assert len(states) == 8 and set(states) <= {TrialState.COMPLETE, TrialState.PRUNED}
    pruned = [t for t in study.trials if t.state == TrialState.PRUNED]
    assert pruned, "no trial was pruned"
    for t in pruned:
        # Stopped at a rung (epochs 1 and 2 of 4), with the point it was judged on.
        assert t.user_attrs["epochs_run"] in (1, 2)
        point = t.system_attrs[RUNG_ATTR.format(epoch=t.user_attrs["epochs_run"])]
        assert point == [t.intermediate_values[t.last_step], t.user_attrs["n_params"]]
        assert t.user_attrs["prune_reason"] == f"pruned at epoch {t.user_attrs['epochs_run']}"
    complete = [t for t in study.trials if t.state == TrialState.COMPLETE]
    assert all(t.user_attrs["epochs_run"] == 4 and len(t.values) == 2 for t in complete)
    assert {t.number for t in study.best_trials} <= {t.number for t in complete}
    _check_every_decision(study)


def test_a_resumed_search_ranks_new_trials_against_the_earlier_run(tmp_path):
    path = _experiment(tmp_path, 5)
    first = run_cli("search", str(path), cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    again = run_cli("search", str(path), "--trials", "10", cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    study = _study(tmp_path)
    assert len(study.trials) == 10
    assert all(RUNG_ATTR.format(epoch=1) in t.system_attrs for t in study.trials)
    _check_every_decision(study)
