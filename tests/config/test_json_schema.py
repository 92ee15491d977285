"""The published JSON Schema of experiment files: current, valid, agreeing with the loader."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from nas.config import experiment_schema, file_kind, load_experiment
from nas.config.schema import TOP_KEYS
from nas.errors import SpecError
from nas.yamlio import load_yaml

from ..helpers import write_experiment

ROOT = Path(__file__).resolve().parents[2]
VALIDATOR = jsonschema.Draft202012Validator(experiment_schema())
EXPERIMENT_FILES = [
    path
    for path in sorted(ROOT.glob("experiments/**/*.yaml"))
    if file_kind(load_yaml(path), path) == "experiment"
]


def test_the_schema_is_a_valid_draft_2020_12_schema():
    jsonschema.Draft202012Validator.check_schema(experiment_schema())
    assert tuple(experiment_schema()["properties"]) == TOP_KEYS


def test_the_committed_schema_is_current():
    committed = json.loads((ROOT / "schemas" / "experiment.schema.json").read_text())
    assert committed == experiment_schema(), (
        "regenerate: nas schema experiment > schemas/experiment.schema.json"
    )


def test_every_shipped_experiment_is_found_and_passes_the_schema():
    assert len(EXPERIMENT_FILES) >= 4
    for path in EXPERIMENT_FILES:
        VALIDATOR.validate(load_yaml(path))


@pytest.mark.parametrize(
    ("fields", "body"),
    [
        ({}, ""),
        ({"trials": None, "timeout": 30}, ""),
        ({"sampler": "{name: tpe, n_startup_trials: 3}"}, ""),
        ({"dataset": "{name: digits}"}, "constraints: {max_params: 1000}\n"),
        ({}, "execution: {workers: 2, retrain_duplicates: true}\nartifacts:\n"),
        (
            {
                "objectives": "{val_accuracy: maximize, n_params: minimize}",
                "pruner": "{name: mo_asha, eta: 2, min_epochs: 1}",
            },
            "",
        ),
        ({"sampler": "{name: evolution, population: 4}"}, ""),
    ],
)
def test_files_the_loader_accepts_pass_the_schema(fields, body, tmp_path):
    path = write_experiment(tmp_path, body, **fields)
    load_experiment(path)
    VALIDATOR.validate(load_yaml(path))


@pytest.mark.parametrize(
    ("fields", "body"),
    [
        ({"sampler": "annealing"}, ""),
        ({"sampler": "{name: tpe, seed: 3}"}, ""),
        ({"pruner": "{n_startup_trials: 3}"}, ""),
        ({"pruner": "{name: mo_asha, eta: 1}"}, ""),
        ({"pruner": "{name: mo_asha, reduction_factor: 3}"}, ""),
        ({"sampler": "{name: evolution, size: 3}"}, ""),
        ({"trials": None}, ""),
        ({"trials": 0}, ""),
        ({"seed": -1}, ""),
        ({"training": "{epochs: 0}"}, ""),
        ({"training": "{epochs: 3, batch: 8}"}, ""),
        ({"objectives": "{val_acc: maximize}"}, ""),
        ({"objectives": "{val_accuracy: up}"}, ""),
        ({"objectives": "{}"}, ""),
        ({"dataset": "digitz"}, ""),
        ({"validation_fraction": 1}, ""),
        ({}, "execution: {lookahead: 9}\n"),
        ({}, "artifacts: {keep_weights: some}\n"),
        ({}, "tirals: 3\n"),
    ],
)
def test_field_mistakes_the_loader_refuses_fail_the_schema_too(fields, body, tmp_path):
    path = write_experiment(tmp_path, body, **fields)
    with pytest.raises(SpecError):
        load_experiment(path)
    assert not VALIDATOR.is_valid(load_yaml(path))
