"""Experiment files: the shipped ones load, overrides apply, and every mistake is named."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from nas.config import ArtifactsSection, Constraints, ExecutionSection, TrainingSection
from nas.errors import SpecError
from nas.search import load_experiment

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = sorted((ROOT / "experiments").glob("*.yaml"))

CONTINUOUS_SPACE = """\
name: tiny
input: flat
layers:
  - type: dense
    features: {choices: [8, 16]}
optimizer:
  learning_rate: {low: 1.0e-3, high: 1.0e-2, log: true}
"""
FINITE_SPACE = """\
name: finite
input: flat
layers:
  - type: dense
    features: {choices: [8, 16]}
"""
IMAGE_SPACE = """\
name: images
input: image
layers:
  - type: conv
    features: 4
"""

BASE: dict[str, Any] = {
    "study": "tiny-study",
    "space": "spaces/tiny.yaml",
    "dataset": "synthetic",
    "training": {"epochs": 3},
    "objectives": {"val_accuracy": "maximize"},
    "trials": 4,
}
DELETE = object()


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    (tmp_path / "spaces").mkdir()
    (tmp_path / "spaces" / "tiny.yaml").write_text(CONTINUOUS_SPACE)
    (tmp_path / "spaces" / "finite.yaml").write_text(FINITE_SPACE)
    (tmp_path / "spaces" / "images.yaml").write_text(IMAGE_SPACE)
    return tmp_path


def patched(base: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    """``base`` with ``patch`` applied: ``training`` entries merge, other values replace,
    ``DELETE`` removes a key."""
    out = copy.deepcopy(base)
    for key, value in patch.items():
        if value is DELETE:
            out.pop(key, None)
        elif key == "training" and isinstance(value, dict):
            out[key] = {**out[key], **value}
        else:
            out[key] = value
    return out


def write(folder: Path, patch: dict[str, Any] | None = None, text: str | None = None) -> Path:
    path = folder / "experiment.yaml"
    if text is None:
        text = yaml.safe_dump(patched(BASE, patch or {}), sort_keys=False)
    path.write_text(text)
    return path


@pytest.mark.parametrize("path", SHIPPED, ids=[p.name for p in SHIPPED])
def test_shipped_experiments_load(path):
    experiment = load_experiment(path)
    assert experiment.space_path.is_file()
    assert experiment.trials is not None and experiment.trials >= 1
    header = path.read_text().splitlines()
    assert header[0].startswith("#")
    assert f"#   nas search experiments/{path.name}" in header


def test_shipped_set_is_complete():
    expected = {
        "digits_mlp.yaml": ("digits-mlp", "mlp", "tpe", "median", 20),
        "digits_cnn.yaml": ("digits-cnn", "cnn2d", "nsga2", "none", 20),
        "digits_cells.yaml": ("digits-cells", "cells_small", "evolution", "none", 16),
        "mnist1d_cnn.yaml": ("mnist1d-cnn", "cnn1d", "tpe", "median", 20),
        "mnist1d_rnn.yaml": ("mnist1d-rnn", "rnn", "tpe", "median", 20),
        "nb201_cifar10.yaml": ("nb201-cifar10", "nb201", "evolution", "none", 100),
        "shapes32_cnn.yaml": ("shapes32-cnn", "resnet32", "tpe", "median", 20),
    }
    found = {}
    for path in SHIPPED:
        e = load_experiment(path)
        found[path.name] = (e.study, e.space.name, e.sampler[0], e.pruner[0], e.trials)
    assert found == expected
    cnn = load_experiment(ROOT / "experiments" / "digits_cnn.yaml")
    assert cnn.objectives == (("val_accuracy", "maximize"), ("n_params", "minimize"))


def test_defaults(folder):
    experiment = load_experiment(write(folder))
    assert experiment.path == folder / "experiment.yaml"
    assert experiment.space_path == folder / "spaces" / "tiny.yaml"
    assert experiment.space.name == "tiny"
    assert experiment.dataset == "synthetic"
    assert experiment.validation_fraction == 0.2
    assert experiment.training == TrainingSection(epochs=3)
    assert experiment.training.optimizer_defaults() == {}
    assert experiment.objectives == (("val_accuracy", "maximize"),)
    assert experiment.constraints == Constraints()
    assert experiment.sampler == ("tpe", {})
    assert experiment.pruner == ("none", {})
    assert (experiment.trials, experiment.timeout, experiment.seed) == (4, None, 0)
    assert experiment.storage == "sqlite:///nas.db"
    assert experiment.execution == ExecutionSection()
    assert experiment.artifacts == ArtifactsSection()


def test_every_field(folder):
    text = """\
study: full
space: spaces/finite.yaml
dataset: {name: digits}
validation_fraction: 0.25
training:
  epochs: 2
  eval_batch_size: 128
  optimizer: sgd
  learning_rate: 1e-4
  weight_decay: 0
  batch_size: 16
objectives:
  val_loss: minimize
  flops: minimize
constraints: {max_params: 5000, max_flops: 100000}
sampler: {name: grid}
pruner: none
timeout: 90
seed: 7
storage: runs/nas.jsonl
execution:
  workers: 2
  cpus_per_trial: 0.5
  gpus_per_trial: 0.25
  retries: 0
  trial_timeout: 30
  address: head:6379
  lookahead: 0
artifacts: {keep_weights: all, k: 2, dir: weights}
"""
    experiment = load_experiment(write(folder, text=text))
    assert experiment.training == TrainingSection(2, 128, "sgd", 1e-4, 0.0, 16)
    assert experiment.training.optimizer_defaults() == {
        "optimizer": "sgd", "learning_rate": 1e-4, "weight_decay": 0.0, "batch_size": 16,
    }  # fmt: skip
    assert experiment.objectives == (("val_loss", "minimize"), ("flops", "minimize"))
    assert experiment.constraints == Constraints(5000, 100000)
    assert experiment.sampler == ("grid", {})
    assert (experiment.trials, experiment.timeout, experiment.seed) == (None, 90.0, 7)
    assert experiment.storage == "runs/nas.jsonl"
    assert experiment.execution == ExecutionSection(2, 0.5, 0.25, 0, 30.0, "head:6379", 0)
    assert experiment.artifacts == ArtifactsSection("all", 2, "weights")


@pytest.mark.parametrize(
    ("patch", "sampler", "pruner"),
    [
        ({"sampler": {"name": "tpe", "n_startup_trials": 3}}, ("tpe", {"n_startup_trials": 3}),
         ("none", {})),
        ({"objectives": {"val_accuracy": "maximize", "n_params": "minimize"}}, ("tpe", {}),
         ("none", {})),
        ({"sampler": "nsga2"}, ("nsga2", {}), ("none", {})),
        ({"sampler": "random", "pruner": {"name": "median", "n_startup_trials": 2}},
         ("random", {}), ("median", {"n_startup_trials": 2})),
        ({"pruner": "hyperband", "objectives": {"val_loss": "minimize"}}, ("tpe", {}),
         ("hyperband", {})),
        ({"space": "spaces/finite.yaml", "sampler": "grid"}, ("grid", {}), ("none", {})),
        ({"sampler": "qmc", "objectives": {"val_accuracy": "maximize", "flops": "minimize"}},
         ("qmc", {}), ("none", {})),
        ({"sampler": {"name": "evolution", "population": 8, "tournament": 8}},
         ("evolution", {"population": 8, "tournament": 8}), ("none", {})),
        ({"sampler": {"name": "evolution", "tournament": 20},
          "objectives": {"val_accuracy": "maximize", "n_params": "minimize"}},
         ("evolution", {"tournament": 20}), ("none", {})),
        ({"sampler": {"name": "local_search", "restarts": 0}, "pruner": "median"},
         ("local_search", {"restarts": 0}), ("median", {})),
        ({"pruner": {"name": "mo_asha", "eta": 2, "min_epochs": 2},
          "objectives": {"val_accuracy": "maximize", "n_params": "minimize"}},
         ("tpe", {}), ("mo_asha", {"eta": 2, "min_epochs": 2})),
        ({"pruner": "mo_asha", "objectives": {"val_loss": "minimize", "val_accuracy": "maximize",
                                              "flops": "minimize"}},
         ("tpe", {}), ("mo_asha", {})),
        ({"pruner": "mo_asha"}, ("tpe", {}), ("mo_asha", {})),  # one objective: ASHA
    ],
)  # fmt: skip
def test_valid_search_settings(folder, patch, sampler, pruner):
    experiment = load_experiment(write(folder, patch))
    assert experiment.sampler == sampler
    assert experiment.pruner == pruner


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({}, {"trials": 4, "timeout": None, "seed": 0, "study": "tiny-study"}),
        ({"trials": 9, "seed": None}, {"trials": 9, "seed": 0}),
        ({"timeout": 30.0}, {"trials": 4, "timeout": 30.0}),
        ({"study": "other", "seed": 3}, {"study": "other", "seed": 3}),
        ({"storage": "postgresql://db/nas"}, {"storage": "postgresql://db/nas"}),
        ({"storage": "out/log.jsonl"}, {"storage": "out/log.jsonl"}),
    ],
)
def test_overrides(folder, overrides, expected):
    experiment = load_experiment(write(folder), overrides)
    for name, value in expected.items():
        assert getattr(experiment, name) == value


def test_execution_overrides(folder):
    path = write(folder, {"execution": {"workers": 2, "address": "a:6379", "retries": 3}})
    experiment = load_experiment(path, {"workers": 4, "address": "b:6379"})
    assert experiment.execution == ExecutionSection(workers=4, retries=3, address="b:6379")


def test_ray_client_address_refused_from_flag_and_environment(folder, monkeypatch):
    path = write(folder)
    with pytest.raises(SpecError) as caught:
        load_experiment(path, {"address": "ray://b:10001"})
    assert (caught.value.source, caught.value.field) == ("command line", "--address")
    assert "host:port" in caught.value.problem
    monkeypatch.setenv("RAY_ADDRESS", "ray://c:10001")
    with pytest.raises(SpecError) as caught:
        load_experiment(path)
    assert (caught.value.source, caught.value.field) == ("environment", "RAY_ADDRESS")
    # An address given in the file or by flag is the one used: RAY_ADDRESS is not read then.
    assert load_experiment(path, {"address": "b:6379"}).execution.address == "b:6379"
    monkeypatch.setenv("RAY_ADDRESS", "c:6379")
    assert load_experiment(path).execution.address is None


def test_timeout_override_alone_is_enough(folder):
    experiment = load_experiment(write(folder, {"trials": DELETE}), {"timeout": 5})
    assert (experiment.trials, experiment.timeout) == (None, 5.0)


@pytest.mark.parametrize(
    ("overrides", "field", "problem"),
    [
        ({"trials": 0}, "--trials", "must be an integer >= 1, got 0"),
        ({"timeout": -1.0}, "--timeout", "must be a number > 0, got -1.0"),
        ({"seed": -2}, "--seed", "must be an integer in [0, 4294967295], got -2"),
        ({"workers": 0}, "--workers", "must be an integer >= 1"),
        ({"study": " "}, "--study", "must be non-empty text"),
        ({"storage": "nas.db"}, "--storage", "neither a database URL"),
    ],
)
def test_bad_overrides(folder, overrides, field, problem):
    with pytest.raises(SpecError) as caught:
        load_experiment(write(folder), overrides)
    assert (caught.value.source, caught.value.field) == ("command line", field)
    assert problem in caught.value.problem


def test_unknown_override_is_a_caller_bug(folder):
    with pytest.raises(ValueError, match="unknown override"):
        load_experiment(write(folder), {"epochs": 3})


# id, patch of BASE, field, problem fragment
INVALID = [
    ("unknown-top-key", {"epochs": 3}, "epochs",
     "unknown key; allowed: study, space, dataset, validation_fraction, training"),
    ("unknown-training-key", {"training": {"lr": 0.1}}, "training.lr",
     "unknown key; allowed: epochs, eval_batch_size, optimizer"),
    ("unknown-execution-key", {"execution": {"gpus": 1}}, "execution.gpus", "unknown key"),
    ("ray-client-address", {"execution": {"address": "ray://head:10001"}}, "execution.address",
     "'ray://head:10001' is a Ray Client address, which is not supported"),
    ("missing-study", {"study": DELETE}, "study", "required: the Optuna study name"),
    ("study-not-text", {"study": 12}, "study", "must be non-empty text, got 12"),
    ("missing-space-file", {"space": "spaces/nope.yaml"}, "space", "file not found:"),
    ("space-name-too-long", {"space": "s" * 5000 + ".yaml"}, "space",
     "cannot be a file: File name too long"),
    ("missing-training", {"training": DELETE}, "training", "required"),
    ("training-not-mapping", {"training": [3]}, "training", "must be a mapping, got a list"),
    ("missing-epochs", {"training": {"epochs": None}}, "training.epochs", "required"),
    ("epochs-zero", {"training": {"epochs": 0}}, "training.epochs",
     "must be an integer >= 1, got 0"),
    ("epochs-text", {"training": {"epochs": "ten"}}, "training.epochs", "got 'ten'"),
    ("epochs-float", {"training": {"epochs": 2.5}}, "training.epochs", "got 2.5"),
    ("epochs-bool", {"training": {"epochs": True}}, "training.epochs", "got True"),
    ("bad-learning-rate", {"training": {"learning_rate": 0}}, "training.learning_rate",
     "must be a number > 0, got 0"),
    ("bad-optimizer", {"training": {"optimizer": "rmsprop"}}, "training.optimizer",
     "unknown value 'rmsprop'; expected one of adamw, adam, sgd"),
    ("no-objectives", {"objectives": {}}, "objectives", "must be a non-empty mapping"),
    ("objectives-list", {"objectives": ["val_accuracy"]}, "objectives", "got a list"),
    ("unknown-metric", {"objectives": {"accuracy": "maximize"}}, "objectives.accuracy",
     "unknown metric; expected one of ['val_accuracy', 'val_loss', 'n_params', 'flops', "
     "'train_seconds', 'latency', 'model_size']"),
    ("bad-direction", {"objectives": {"val_accuracy": "max"}}, "objectives.val_accuracy",
     "unknown value 'max'; expected one of maximize, minimize"),
    ("unknown-sampler", {"sampler": "bayes"}, "sampler",
     "unknown value 'bayes'; expected one of tpe, random, cmaes, gp, nsga2, qmc, grid, "
     "evolution, local_search"),
    ("sampler-without-name", {"sampler": {"n_startup_trials": 3}}, "sampler.name", "required"),
    ("sampler-seed", {"sampler": {"name": "tpe", "seed": 1}}, "sampler.seed",
     "set the top-level seed instead"),
    ("sampler-bad-option", {"sampler": {"name": "tpe", "n_startup": 3}}, "sampler",
     "bad options: TPESampler.__init__() got an unexpected keyword argument 'n_startup'"),
    ("sampler-number", {"sampler": 3}, "sampler", "must be a name or a mapping"),
    ("grid-continuous", {"sampler": "grid"}, "sampler",
     "grid needs a finite space; 'tiny' is continuous (optimizer.learning_rate)"),
    ("cmaes-two-objectives",
     {"sampler": "cmaes", "objectives": {"val_accuracy": "maximize", "flops": "minimize"}},
     "sampler", "cmaes supports one objective, got 2"),
    ("evolution-tournament-over-population",
     {"sampler": {"name": "evolution", "population": 4, "tournament": 5}}, "sampler.tournament",
     "must be at most the population (4), got 5"),
    ("evolution-tournament-over-default-population",
     {"sampler": {"name": "evolution", "tournament": 21}}, "sampler.tournament",
     "must be at most the population (20), got 21"),
    ("evolution-population-one", {"sampler": {"name": "evolution", "population": 1}},
     "sampler.population", "must be an integer >= 2, got 1"),
    ("evolution-tournament-zero", {"sampler": {"name": "evolution", "tournament": 0}},
     "sampler.tournament", "must be an integer >= 1, got 0"),
    ("evolution-population-text", {"sampler": {"name": "evolution", "population": "big"}},
     "sampler.population", "must be an integer >= 2, got 'big'"),
    ("evolution-population-bool", {"sampler": {"name": "evolution", "population": True}},
     "sampler.population", "got True"),
    ("evolution-unknown-option", {"sampler": {"name": "evolution", "size": 4}},
     "sampler.size", "unknown option; evolution takes population, tournament"),
    ("local-search-restarts-negative", {"sampler": {"name": "local_search", "restarts": -1}},
     "sampler.restarts", "must be an integer >= 0, got -1"),
    ("local-search-restarts-float", {"sampler": {"name": "local_search", "restarts": 2.5}},
     "sampler.restarts", "got 2.5"),
    ("local-search-unknown-option", {"sampler": {"name": "local_search", "population": 3}},
     "sampler.population", "unknown option; local_search takes restarts"),
    ("local-search-two-objectives",
     {"sampler": "local_search", "objectives": {"val_accuracy": "maximize", "flops": "minimize"}},
     "sampler", "local_search supports one objective, got 2"),
    ("unknown-pruner", {"pruner": "early"}, "pruner",
     "expected one of none, median, successive_halving, hyperband"),
    ("pruner-two-objectives",
     {"pruner": "median", "objectives": {"val_accuracy": "maximize", "n_params": "minimize"}},
     "pruner", "Optuna pruners support one objective, got 2 ['val_accuracy', 'n_params']; use "
     "pruner: mo_asha"),
    ("mo-asha-eta-one", {"pruner": {"name": "mo_asha", "eta": 1}}, "pruner.eta",
     "must be an integer >= 2, got 1"),
    ("mo-asha-eta-float", {"pruner": {"name": "mo_asha", "eta": 2.5}}, "pruner.eta",
     "must be an integer >= 2, got 2.5"),
    ("mo-asha-min-epochs-zero", {"pruner": {"name": "mo_asha", "min_epochs": 0}},
     "pruner.min_epochs", "must be an integer >= 1, got 0"),
    ("mo-asha-unknown-option",
     {"pruner": {"name": "mo_asha", "reduction_factor": 3}}, "pruner.reduction_factor",
     "unknown option; mo_asha takes eta, min_epochs"),
    ("mo-asha-min-epochs-at-the-end", {"pruner": {"name": "mo_asha", "min_epochs": 3}},
     "pruner.min_epochs",
     "the first rung (min_epochs 3) must come before the last epoch (training.epochs 3)"),
    ("mo-asha-one-epoch", {"pruner": "mo_asha", "training": {"epochs": 1}}, "pruner",
     "the first rung (min_epochs 1) must come before the last epoch (training.epochs 1)"),
    ("mo-asha-train-seconds",
     {"pruner": "mo_asha",
      "objectives": {"val_accuracy": "maximize", "train_seconds": "minimize"}}, "pruner",
     "train_seconds is only known after training; drop it or use pruner: none"),
    ("mo-asha-sizes-only",
     {"pruner": "mo_asha", "objectives": {"n_params": "minimize", "flops": "minimize"}},
     "pruner", "are all known before training, so there is nothing to prune on"),
    ("pruner-on-n-params", {"pruner": "median", "objectives": {"n_params": "minimize"}},
     "pruner", "n_params is only known after training"),
    ("pruner-bad-value", {"pruner": {"name": "median", "n_startup_trials": -1}}, "pruner",
     "bad options: Number of startup trials cannot be negative"),
    ("none-pruner-options", {"pruner": {"name": "none", "n_warmup_steps": 2}}, "pruner",
     "none takes no options"),
    ("no-stopping-rule", {"trials": DELETE}, "trials", "give trials, timeout or both"),
    ("trials-zero", {"trials": 0}, "trials", "must be an integer >= 1, got 0"),
    ("timeout-negative", {"timeout": -5}, "timeout", "must be a number > 0, got -5"),
    ("seed-negative", {"seed": -1}, "seed", "must be an integer in [0, 4294967295]"),
    ("bad-storage", {"storage": "results.db"}, "storage",
     "'results.db' is neither a database URL (such as sqlite:///nas.db) nor a journal file "
     "ending in .log or .jsonl"),
    ("validation-fraction", {"validation_fraction": 1.0}, "validation_fraction",
     "must be a number in (0, 1), got 1.0"),
    ("unknown-dataset", {"dataset": "cifar"}, "dataset", "unknown built-in dataset 'cifar'"),
    ("missing-data-file", {"dataset": {"path": "data/x.npz"}}, "dataset.path",
     "file not found:"),
    ("bad-workers", {"execution": {"workers": 0}}, "execution.workers",
     "must be an integer >= 1"),
    ("bad-cpus", {"execution": {"cpus_per_trial": 0}}, "execution.cpus_per_trial",
     "must be a number > 0, got 0"),
    ("bad-gpus", {"execution": {"gpus_per_trial": -0.5}}, "execution.gpus_per_trial",
     "must be a number >= 0"),
    ("bad-retries", {"execution": {"retries": -1}}, "execution.retries",
     "must be an integer >= 0"),
    ("bad-lookahead", {"execution": {"lookahead": -1}}, "execution.lookahead",
     "must be an integer in [0, 8]"),
    ("lookahead-too-far", {"execution": {"lookahead": 9}}, "execution.lookahead",
     "must be an integer in [0, 8]"),
    ("bad-keep-weights", {"artifacts": {"keep_weights": "best"}}, "artifacts.keep_weights",
     "expected one of all, best_k, none"),
    ("bad-k", {"artifacts": {"k": 0}}, "artifacts.k", "must be an integer >= 1"),
    ("bad-max-params", {"constraints": {"max_params": 0}}, "constraints.max_params",
     "must be an integer >= 1"),
    ("constraints-list", {"constraints": []}, "constraints", "must be a mapping, got a list"),
    ("execution-text", {"execution": "ray"}, "execution", "must be a mapping, got 'ray'"),
    ("unknown-constraint", {"constraints": {"max_layers": 3}}, "constraints.max_layers",
     "unknown key; allowed: max_params, max_flops"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("patch", "field", "problem"),
    [case[1:] for case in INVALID],
    ids=[case[0] for case in INVALID],
)
def test_invalid_experiments(folder, patch, field, problem):
    path = write(folder, patch)
    with pytest.raises(SpecError) as caught:
        load_experiment(path)
    err = caught.value
    assert (err.source, err.field) == (str(path), field)
    assert problem in err.problem


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("- just\n- a list\n", "must be a mapping of fields, got a list"),
        ("study: [unclosed\n", "YAML syntax error"),
        ("", "must be a mapping of fields, got nothing (null)"),
    ],
)
def test_file_that_is_not_a_mapping(folder, text, problem):
    with pytest.raises(SpecError) as caught:
        load_experiment(write(folder, text=text))
    assert caught.value.field == ""
    assert problem in caught.value.problem


def test_space_errors_name_the_space_file(folder):
    (folder / "spaces" / "broken.yaml").write_text("name: broken\ninput: video\nlayers: []\n")
    with pytest.raises(SpecError) as caught:
        load_experiment(write(folder, {"space": "spaces/broken.yaml"}))
    assert Path(caught.value.source) == folder / "spaces" / "broken.yaml"


def test_load_data_uses_the_space_view_and_seed(folder):
    experiment = load_experiment(write(folder, {"seed": 4}))
    data = experiment.load_data()
    assert data.input_shape == (16,)
    again = experiment.load_data(seed=4)
    other = experiment.load_data(seed=5)
    assert (data.y_val == again.y_val).all()
    assert (data.x_test == other.x_test).all()
    assert not (data.x_val == other.x_val).all()


def test_load_data_rejects_a_view_the_data_cannot_take(folder):
    experiment = load_experiment(write(folder, {"space": "spaces/images.yaml"}))
    with pytest.raises(SpecError) as caught:
        experiment.load_data()
    assert (caught.value.source, caught.value.field) == (str(experiment.path), "dataset")
    assert "synthetic cannot be viewed as image input" in caught.value.problem
