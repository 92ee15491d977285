"""Resuming a study checks that its trials' values would still mean the same thing.

One real search (one trial, one epoch) makes the study; each case then resumes it with one
setting changed and must be refused before anything is written.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import optuna
import pytest

from nas.errors import SpecError
from nas.search import load_experiment, run_search
from nas.store import open_storage

from ..helpers import SPACE, write_experiment

BASE = {"dataset": "digits", "training": "{epochs: 1}", "objectives": "{val_loss: minimize}"}

# One setting changed -> the field the refusal must name.
CHANGES = {
    "dataset": ({"dataset": "synthetic"}, "dataset.name"),
    "objective-name": ({"objectives": "{n_params: minimize}"}, "objectives"),
    "epochs": ({"training": "{epochs: 2}"}, "training.epochs"),
    "fixed-training-value": (
        {"training": "{epochs: 1, weight_decay: 0.1}"},
        "training.weight_decay",
    ),
    "constraints": ({"constraints": "{max_params: 100000}"}, "constraints.max_params"),
    "validation-fraction": ({"validation_fraction": 0.3}, "dataset.validation_fraction"),
    # The seed draws the validation split.
    "seed": ({"seed": 5}, "dataset.validation_seed"),
    "space": (
        {"space_text": SPACE.replace("[16, 32]", "[16, 64]")},
        "space.layers[0].features.choices",
    ),
}


@pytest.fixture(scope="module")
def searched(tmp_path_factory) -> Path:
    """The store file of a study searched once with :data:`BASE`."""
    folder = tmp_path_factory.mktemp("searched")
    run_search(load_experiment(write_experiment(folder, trials=1, **BASE)))
    return folder / "store.db"


def _snapshot(store: Path) -> tuple[dict, list]:
    study = optuna.load_study(study_name="t", storage=open_storage(f"sqlite:///{store}"))
    return study.user_attrs, [(t.number, t.state, t.user_attrs) for t in study.trials]


def _resume(folder: Path, store: Path, change: dict) -> Path:
    fields = {**BASE, **change}
    space = fields.pop("space_text", SPACE)
    return write_experiment(folder, trials=2, space=space, storage=f"sqlite:///{store}", **fields)


@pytest.mark.parametrize("case", list(CHANGES))
def test_resume_with_other_meaning_is_refused_writing_nothing(case, searched, tmp_path):
    change, field = CHANGES[case]
    before = _snapshot(searched)
    with pytest.raises(SpecError) as info:
        run_search(load_experiment(_resume(tmp_path, searched, change)))
    message = str(info.value)
    assert f"{field}: stored " in message and ", now " in message
    assert "--study NEW" in message
    assert _snapshot(searched) == before


def test_every_differing_field_is_named(searched, tmp_path):
    change = {"dataset": "synthetic", "objectives": "{n_params: minimize}"}
    with pytest.raises(SpecError) as info:
        run_search(load_experiment(_resume(tmp_path, searched, change)))
    message = str(info.value)
    assert "dataset.name: stored 'digits', now 'synthetic'" in message
    assert "objectives: stored [['val_loss', 'minimize']], now [['n_params', 'minimize']]" in (
        message
    )
    assert "dataset.input_shape" in message and "dataset.num_classes" in message


def test_cli_refusal_is_one_line_exit_2(searched, tmp_path):
    path = _resume(tmp_path, searched, {"dataset": "synthetic"})
    out = subprocess.run(
        [sys.executable, "-m", "nas.cli", "search", str(path)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 2, out.stderr
    assert out.stderr.startswith("error: ") and "Traceback" not in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1
    assert str(path) in out.stderr and "dataset.name" in out.stderr


def test_same_meaning_resumes_with_other_run_settings(tmp_path):
    """Sampler, pruner, workers and the trial budget do not change what a value means."""
    path = write_experiment(tmp_path, trials=1, training="{epochs: 1}")
    run_search(load_experiment(path))
    write_experiment(
        tmp_path,
        trials=2,
        training="{epochs: 1}",
        sampler="tpe",
        pruner="median",
        execution="{lookahead: 0, retries: 2}",
    )
    summary = run_search(load_experiment(path))
    assert summary.counted == 2 and summary.new_trials == 1


def _legacy_study(tmp_path: Path, experiment) -> None:
    """A study as the search wrote it before the meaning record: space, objectives, the
    experiment file and the dataset attribute only."""
    storage = open_storage(experiment.storage)
    study = optuna.create_study(study_name=experiment.study, storage=storage)
    study.set_user_attr("space", json.dumps(experiment.space.to_dict(), sort_keys=True))
    study.set_user_attr("objectives", [list(o) for o in experiment.objectives])
    study.set_user_attr("experiment", str(experiment.path))
    data = experiment.load_data()
    study.set_user_attr(
        "dataset",
        {
            "name": data.name,
            "input_shape": list(data.input_shape),
            "num_classes": data.num_classes,
            "n_train": len(data.x_train),
            "n_val": len(data.x_val),
            "n_test": len(data.x_test),
        },
    )


def test_study_without_meaning_is_checked_on_what_it_recorded(tmp_path):
    legacy = {"trials": 1, "training": "{epochs: 1}", "objectives": "{val_loss: minimize}"}
    path = write_experiment(tmp_path, **legacy)
    _legacy_study(tmp_path, load_experiment(path))
    write_experiment(tmp_path, **{**legacy, "objectives": "{flops: minimize}"})
    with pytest.raises(SpecError, match=r"objectives: stored \[\['val_loss'"):
        run_search(load_experiment(path))
    write_experiment(tmp_path, **legacy, dataset="digits")
    with pytest.raises(SpecError, match=r"dataset\.name: stored 'synthetic', now 'digits'"):
        run_search(load_experiment(path))
    # What it recorded matches: it resumes, and from then on it holds the full record.
    write_experiment(tmp_path, **legacy)
    assert run_search(load_experiment(path)).counted == 1
    exp = load_experiment(path)
    study = optuna.load_study(study_name=exp.study, storage=open_storage(exp.storage))
    assert study.user_attrs["meaning"]["training"]["epochs"] == 1


def test_study_with_no_record_is_still_checked_on_its_directions(tmp_path):
    exp = load_experiment(write_experiment(tmp_path, objectives="{val_accuracy: maximize}"))
    optuna.create_study(study_name=exp.study, storage=open_storage(exp.storage))  # minimize
    with pytest.raises(SpecError, match=r"objectives: stored \['minimize'\], now \['maximize'\]"):
        run_search(exp)
