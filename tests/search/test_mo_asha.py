"""MO-ASHA's rung decision on real Optuna studies, trials built by hand through the pruner."""

from __future__ import annotations

import math

import optuna
import pytest
from optuna.trial import TrialState

from nas.search.mo_asha import (
    MOASHAPruner,
    crowding_distances,
    nondominated_fronts,
    promoted,
    rung_epochs,
)

ACC_PARAMS = (("val_accuracy", "maximize"), ("n_params", "minimize"))


def _study(objectives=ACC_PARAMS, **options) -> tuple[optuna.Study, MOASHAPruner]:
    pruner = MOASHAPruner(objectives, epochs=options.pop("epochs", 9), **options)
    study = optuna.create_study(directions=[d for _, d in objectives], pruner=pruner)
    return study, pruner


def reach(study, pruner, epoch_values, sizes=None, state=None) -> bool:
    """A new trial of ``sizes`` reporting ``epoch_values`` (one metrics mapping per epoch,
    from epoch 1) the way the driver does, until the pruner stops it: whether it did.
    ``state`` closes it; ``None`` leaves it running (it still competes)."""
    trial = study.ask()
    for name, value in (sizes or {}).items():
        trial.set_user_attr(name, value)
    storage, tid = study._storage, trial._trial_id
    stopped = False
    for epoch, metrics in enumerate(epoch_values, start=1):
        pruner.record_epoch(storage, tid, epoch, metrics)
        if pruner.prune(study, storage.get_trial(tid)):
            stopped = True
            break
    if state is not None:
        study.tell(trial, state=state)
    return stopped


def at_rung(study, pruner, accuracy, n_params, state=TrialState.PRUNED) -> bool:
    return reach(study, pruner, [{"val_accuracy": accuracy}], {"n_params": n_params}, state)


@pytest.mark.parametrize(
    ("losses", "fronts"),
    [
        ([[1, 1]], [[0]]),
        ([[1, 2], [2, 1], [3, 3]], [[0, 1], [2]]),
        ([[3, 3], [2, 2], [1, 1]], [[2], [1], [0]]),
        ([[1, 1], [1, 1], [2, 2]], [[0, 1], [2]]),  # equal points share a front
        ([[1, 3], [2, 2], [3, 1], [2, 3], [3, 3], [4, 4]], [[0, 1, 2], [3], [4], [5]]),
        ([[1, 2], [1, 3]], [[0], [1]]),  # equal in one objective, worse in the other
        ([[0, 0, 1], [0, 1, 0], [1, 0, 0], [1, 1, 1]], [[0, 1, 2], [3]]),
    ],
)
def test_nondominated_fronts(losses, fronts):
    assert nondominated_fronts(losses) == fronts


def test_crowding_distance_keeps_the_extremes_and_favours_isolated_points():
    front = [[0.0, 4.0], [1.0, 3.0], [1.2, 2.8], [4.0, 0.0]]
    distances = crowding_distances(front)
    assert distances[0] == distances[3] == math.inf
    # (1.2 - 0) / 4 + (4 - 2.8) / 4 and (4 - 1) / 4 + (3 - 0) / 4
    assert distances[1] == pytest.approx(0.6)
    assert distances[2] == pytest.approx(1.5)
    assert crowding_distances([[1.0, 1.0], [2.0, 0.0]]) == [math.inf, math.inf]


@pytest.mark.parametrize(
    ("min_epochs", "eta", "epochs", "rungs"),
    [(1, 3, 20, (1, 3, 9)), (1, 3, 9, (1, 3)), (2, 2, 20, (2, 4, 8, 16)), (1, 3, 1, ())],
)
def test_rungs_lie_below_the_last_epoch(min_epochs, eta, epochs, rungs):
    assert rung_epochs(min_epochs, eta, epochs) == rungs


def test_within_a_front_the_more_isolated_point_goes_on():
    # Six points on one front: the top 6 // 3 = 2 are the two extremes.
    losses = [[0.0, 5.0], [1.0, 4.0], [2.0, 3.0], [3.0, 2.0], [4.0, 1.0], [5.0, 0.0]]
    assert [promoted(losses, i, 3) for i in range(6)] == [True] + [False] * 4 + [True]


def test_a_dominated_trial_is_pruned_and_a_front_trial_kept():
    study, pruner = _study()
    for accuracy, n_params in [(0.9, 1000), (0.8, 2000), (0.7, 3000), (0.95, 5000), (0.6, 500)]:
        at_rung(study, pruner, accuracy, n_params)
    # Dominated by (0.9, 1000): on the second front of seven, outside the top 7 // 3 = 2.
    assert at_rung(study, pruner, 0.85, 1500, state=None) is True
    # It dominates every other point: first front alone.
    assert at_rung(study, pruner, 0.99, 100, state=None) is False


def test_the_smallest_model_goes_on_whatever_its_accuracy():
    study, pruner = _study()
    for accuracy, n_params in [(0.9, 1000), (0.8, 2000), (0.7, 3000), (0.95, 5000)]:
        at_rung(study, pruner, accuracy, n_params)
    assert at_rung(study, pruner, 0.1, 10, state=None) is False


def test_with_fewer_than_eta_trials_at_the_rung_the_first_front_goes_on():
    study, pruner = _study(eta=3)
    assert at_rung(study, pruner, 0.5, 1000) is False  # alone
    assert at_rung(study, pruner, 0.4, 2000) is True  # dominated by the first
    study, pruner = _study(eta=3)
    at_rung(study, pruner, 0.5, 1000)
    assert at_rung(study, pruner, 0.6, 2000) is False  # more accurate, larger: a front


def test_points_are_recorded_at_rungs_only():
    study, pruner = _study(eta=2, epochs=8)  # rungs 1, 2, 4
    assert pruner.rungs == (1, 2, 4)
    at_rung(study, pruner, 0.9, 100)
    epochs = [{"val_accuracy": v} for v in (0.95, 0.96, 0.97)]
    assert reach(study, pruner, epochs, {"n_params": 50}, None) is False
    trial = study.trials[-1]
    assert trial.intermediate_values == {1: 0.95, 2: 0.96, 3: 0.97}
    assert trial.system_attrs["mo_asha:rung_1"] == [0.95, 50.0]
    assert trial.system_attrs["mo_asha:rung_2"] == [0.96, 50.0]
    assert not any(key.startswith("mo_asha:rung_3") for key in trial.system_attrs)
    # Dominated by that trial at epoch 1 (of 3 points, the top 3 // 2 = 1 goes on).
    assert reach(study, pruner, epochs, {"n_params": 200}, None) is True
    assert study.trials[-1].last_step == 1


def test_trials_compete_only_with_points_of_the_same_epoch():
    study, pruner = _study(eta=2, epochs=8)
    at_rung(study, pruner, 0.9, 100)  # rung 1 only
    # At epoch 2 this trial is alone, so it goes on even though 0.5 < 0.9.
    two = [{"val_accuracy": 0.99}, {"val_accuracy": 0.5}]
    assert reach(study, pruner, two, {"n_params": 200}, None) is False


def test_failed_trials_do_not_compete():
    study, pruner = _study(eta=3)
    at_rung(study, pruner, 0.9, 100, state=TrialState.FAIL)
    assert at_rung(study, pruner, 0.5, 1000) is False  # alone among the competing


def test_a_non_finite_value_is_pruned():
    study, pruner = _study()
    assert at_rung(study, pruner, math.nan, 100, state=None) is True


def test_a_second_epoch_objective_is_read_from_the_rung_record():
    objectives = (("val_accuracy", "maximize"), ("val_loss", "minimize"), ("flops", "minimize"))
    study, pruner = _study(objectives)
    metrics = {"val_accuracy": 0.8, "val_loss": 0.3, "train_loss": 0.2}
    reach(study, pruner, [metrics], {"flops": 4000}, None)
    trial = study.trials[-1]
    assert trial.intermediate_values == {1: 0.8}
    assert trial.system_attrs["mo_asha:values_at_1"] == {"val_loss": 0.3}
    assert trial.system_attrs["mo_asha:rung_1"] == [0.8, 0.3, 4000.0]
    # Same accuracy and size, worse loss: dominated, and with fewer than eta points at the
    # rung only the first front goes on.
    worse = {"val_accuracy": 0.8, "val_loss": 0.5}
    assert reach(study, pruner, [worse], {"flops": 4000}, None) is True


def test_one_objective_decides_as_optuna_successive_halving():
    values = [0.5, 0.7, 0.6, 0.9, 0.2, 0.8, 0.65, 0.1, 0.95, 0.3, 0.75, 0.55]
    ours, _ = _study((("val_accuracy", "maximize"),), eta=3)
    theirs = optuna.create_study(
        direction="maximize",
        pruner=optuna.pruners.SuccessiveHalvingPruner(min_resource=1, reduction_factor=3),
    )
    for value in values:
        mine = reach(ours, ours.pruner, [{"val_accuracy": value}], state=TrialState.PRUNED)
        trial = theirs.ask()
        trial.report(value, 1)
        assert mine == trial.should_prune(), value
        theirs.tell(trial, state=TrialState.PRUNED)


@pytest.mark.parametrize(
    ("objectives", "options", "message"),
    [
        (ACC_PARAMS, {"eta": 1}, "eta must be an integer >= 2, got 1"),
        (ACC_PARAMS, {"min_epochs": 0}, "min_epochs must be an integer >= 1, got 0"),
        (ACC_PARAMS, {"eta": 2.5}, "eta must be an integer >= 2, got 2.5"),
        ((("n_params", "minimize"),), {}, "needs an epoch objective"),
        ((("val_accuracy", "maximize"), ("train_seconds", "minimize")), {}, "train_seconds"),
    ],
)
def test_bad_arguments_raise_value_error(objectives, options, message):
    with pytest.raises(ValueError, match=message.replace(".", r"\.")):
        MOASHAPruner(objectives, 9, **options)
