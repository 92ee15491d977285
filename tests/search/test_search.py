"""The search driver on real Optuna storage with real training on tiny data."""

from __future__ import annotations

import itertools
import json

import numpy as np
import optuna
import pytest
from optuna.trial import TrialState

from nas.errors import SpecError
from nas.model import Architecture
from nas.results import load_trials
from nas.search import counted_trials, load_experiment, run_search
from nas.store import artifacts_dir, load_weights, open_storage

from ..helpers import write_experiment


def _study(exp):
    return optuna.load_study(study_name=exp.study, storage=open_storage(exp.storage))


# Without a pruner the per-epoch values are written with the trial's result, not live.
@pytest.mark.parametrize("pruner", ["none", "median"])
def test_search_records_everything(pruner, tmp_path):
    exp = load_experiment(write_experiment(tmp_path, trials=3, pruner=pruner))
    summary = run_search(exp)
    study = _study(exp)
    assert summary.counted == 3 and not summary.interrupted
    done = study.get_trials(states=(TrialState.COMPLETE,))
    assert len(done) == 3
    for t in done:
        arch = Architecture.from_json(t.user_attrs["architecture"])
        assert arch.to_json() == t.user_attrs["architecture"]
        assert t.values == [t.user_attrs["val_accuracy"]]
        for key in (
            "n_params",
            "flops",
            "compile_seconds",
            "train_seconds",
            "eval_seconds",
            "device",
            "val_loss",
            "train_loss",
            "epochs_run",
        ):
            assert key in t.user_attrs, key
        assert t.user_attrs["device"] == "cpu"
        curves = json.loads(t.user_attrs["curves"])
        assert len(curves) == 3
        assert t.intermediate_values == {row["epoch"]: row["val_accuracy"] for row in curves}
    # Test metrics exist for the best trial only, and its weights reproduce them.
    test = study.user_attrs["test_metrics"]
    assert list(test) == [str(study.best_trial.number)]
    assert 0.0 <= test[str(study.best_trial.number)]["test_accuracy"] <= 1.0
    folder = artifacts_dir(exp.storage, exp.study)
    variables = load_weights(folder, study.best_trial.user_attrs["weights"])
    assert "head" in variables["params"]


def test_resume_continues_to_target(tmp_path):
    path = write_experiment(tmp_path, trials=2)
    run_search(load_experiment(path))
    summary = run_search(load_experiment(path, {"trials": 4}))
    assert summary.new_trials == 2
    study = _study(load_experiment(path))
    assert counted_trials(study) == 4
    assert [t.number for t in study.trials] == [0, 1, 2, 3]
    # Nothing more to do: a third run adds no trial.
    assert run_search(load_experiment(path, {"trials": 4})).new_trials == 0


@pytest.mark.parametrize("lookahead", [0, 1])
def test_lookahead_decides_what_the_sampler_knows(lookahead, tmp_path):
    """With look-ahead the next candidate is proposed (its trial started) while the current
    one trains; with ``lookahead: 0`` only after the current one's result is stored."""
    path = write_experiment(tmp_path, trials=4, execution=f"{{lookahead: {lookahead}}}")
    run_search(load_experiment(path))
    trials = sorted(_study(load_experiment(path)).trials, key=lambda t: t.number)
    assert [t.state for t in trials] == [TrialState.COMPLETE] * 4
    asked_before_previous_ended = [
        later.datetime_start < earlier.datetime_complete
        for earlier, later in itertools.pairwise(trials)
    ]
    if lookahead == 0:
        assert not any(asked_before_previous_ended)
    else:
        assert all(asked_before_previous_ended)


# On synthetic data (16 features, 4 classes) the small candidate has 46 parameters and 80
# FLOPs, the big one 10,756 and 20,480: a limit of 1000 splits them either way.
SPACE_WITH_SMALL = """
name: small-or-big
input: flat
layers:
  - type: dense
    features: {choices: [2, 512]}
optimizer:
  batch_size: 32
"""


@pytest.mark.parametrize(
    ("constraint", "stat"), [("max_params", "n_params"), ("max_flops", "flops")]
)
def test_constraints_reject_before_training(constraint, stat, tmp_path):
    # One candidate fits, and two trials of it are wanted: it is trained twice on request.
    exp = load_experiment(
        write_experiment(
            tmp_path,
            constraints=f"{{{constraint}: 1000}}",
            trials=2,
            space=SPACE_WITH_SMALL,
            execution="{retrain_duplicates: true}",
        )
    )
    run_search(exp)
    study = _study(exp)
    rejected = [t for t in study.trials if t.user_attrs.get("rejected")]
    assert rejected, f"the space has candidates above 1000 {stat}"
    for t in rejected:
        assert t.state == TrialState.FAIL
        assert t.user_attrs["fail_reason"].startswith(f"constraint: {stat} ")
        assert f"> {constraint} 1000" in t.user_attrs["fail_reason"]
        assert t.user_attrs["counts"] is False
        assert "compile_seconds" not in t.user_attrs  # never trained
    assert counted_trials(study) == 2
    done = study.get_trials(states=(TrialState.COMPLETE,))
    assert len(done) == 2 and all(t.user_attrs[stat] <= 1000 for t in done)


# artifacts, objectives: the first objective ranks, the rest make a Pareto front.
KEEP_WEIGHTS = {
    "best_k": ("{keep_weights: best_k, k: 2}", "{val_loss: minimize}"),
    "best_k-and-front": (
        "{keep_weights: best_k, k: 1}",
        "{val_accuracy: maximize, n_params: minimize}",
    ),
    "all": ("{keep_weights: all}", "{val_loss: minimize}"),
    "none": ("{keep_weights: none}", "{val_loss: minimize}"),
}


@pytest.mark.parametrize("case", list(KEEP_WEIGHTS))
def test_keep_weights_leaves_exactly_the_kept_files(case, tmp_path):
    artifacts, objectives = KEEP_WEIGHTS[case]
    exp = load_experiment(
        write_experiment(
            tmp_path, trials=5, training="{epochs: 2}", artifacts=artifacts, objectives=objectives
        )
    )
    run_search(exp)
    study = _study(exp)
    done = study.get_trials(states=(TrialState.COMPLETE,))
    assert len(done) == 5
    policy, k = exp.artifacts.keep_weights, exp.artifacts.k
    if policy == "all":
        want = {t.number for t in done}
    elif policy == "none":
        want = set()
    else:
        sign = -1 if study.directions[0] == optuna.study.StudyDirection.MAXIMIZE else 1
        ranked = sorted(done, key=lambda t: (sign * t.values[0], t.number))
        want = {t.number for t in ranked[:k]}
        if len(study.directions) > 1:
            want |= {t.number for t in study.best_trials}
        assert len(want) < len(done), "the case should drop some weights"
    folder = artifacts_dir(exp.storage, exp.study)
    files = {p.name for p in folder.iterdir()} if folder.exists() else set()
    assert files == {f"trial_{n}.msgpack" for n in want}
    # Readers say which trials kept weights, though a finished trial's own attribute
    # still names a deleted file.
    frame = load_trials(exp.storage, exp.study).set_index("number")
    kept = set(frame.index[frame["weights"].notna()]) if "weights" in frame else set()
    assert kept == want
    lost = {t.number for t in done} - want if policy == "best_k" else set()
    assert frame.attrs["weights_dropped"] == dict.fromkeys(lost, f"best_k (k={k})")
    # The best trials still got their test metrics from the kept weights.
    assert set(study.user_attrs["test_metrics"]) == (
        {str(t.number) for t in study.best_trials} if want else set()
    )


def test_failed_trial_is_recorded_and_search_goes_on(tmp_path):
    # Plain SGD at an absurd learning rate diverges to a non-finite loss.
    space = """
    name: diverging
    input: flat
    layers:
      - type: dense
        features: 32
    optimizer:
      name: sgd
      learning_rate: {choices: [1.0e+12, 1.0e-2]}
      batch_size: 32
    """
    exp = load_experiment(write_experiment(tmp_path, space=space, sampler="grid", trials=2))
    run_search(exp)
    study = _study(exp)
    states = {t.params["optimizer.learning_rate"]: t for t in study.trials}
    failed = states[1e12]
    assert failed.state == TrialState.FAIL
    assert failed.user_attrs["fail_reason"].startswith("non-finite loss at epoch")
    assert states[1e-2].state == TrialState.COMPLETE


def test_pruner_prunes(tmp_path):
    exp = load_experiment(
        write_experiment(
            tmp_path,
            trials=8,
            training="{epochs: 6}",
            pruner="{name: median, n_startup_trials: 1, n_warmup_steps: 1}",
            space=SPACE_LR,
        )
    )
    run_search(exp)
    pruned = _study(exp).get_trials(states=(TrialState.PRUNED,))
    assert pruned
    for t in pruned:
        assert t.user_attrs["epochs_run"] < 6
        assert t.user_attrs["prune_reason"].startswith("pruned at epoch")


SPACE_LR = """
name: lr
input: flat
layers:
  - type: dense
    features: 16
optimizer:
  learning_rate: {low: 1.0e-6, high: 1.0e-1, log: true}
  batch_size: 32
"""


def test_different_space_refused_on_resume(tmp_path):
    path = write_experiment(tmp_path, trials=1)
    run_search(load_experiment(path))
    write_experiment(tmp_path, trials=1, space=SPACE_LR)
    with pytest.raises(SpecError, match="different search space"):
        run_search(load_experiment(path))
    assert counted_trials(_study(load_experiment(path))) == 1


def test_shape_mismatch_writes_nothing(tmp_path):
    space = """
    name: images
    input: image
    layers:
      - type: conv
        features: 4
    """
    path = write_experiment(tmp_path, space=space)
    with pytest.raises(SpecError):
        run_search(load_experiment(path))
    assert not (tmp_path / "store.db").exists()


def test_time_budget_stops_new_trials(tmp_path):
    exp = load_experiment(write_experiment(tmp_path, trials=None, timeout=1))
    summary = run_search(exp)
    # Trials already started finish; none starts after the budget. Two may be in flight
    # (one training, one compiling ahead), so at least one and only a handful finish.
    assert 1 <= summary.counted <= 6 and not summary.interrupted


def test_search_on_a_users_npz_file(tmp_path):
    rng = np.random.default_rng(0)
    centers = rng.normal(size=(3, 5)) * 4

    def draw(n):
        y = rng.integers(0, 3, n)
        return (centers[y] + rng.normal(size=(n, 5))).astype(np.float32), y

    x_train, y_train = draw(300)
    x_test, y_test = draw(100)
    np.savez(tmp_path / "mine.npz", x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test)
    exp = load_experiment(write_experiment(tmp_path, dataset="{path: mine.npz}", trials=2))
    run_search(exp)
    study = _study(exp)
    assert study.user_attrs["dataset"]["input_shape"] == [5]
    assert study.user_attrs["dataset"]["num_classes"] == 3
    assert study.best_value > 0.9
