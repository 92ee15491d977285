"""The published JSON Schema of space files: current, valid, and agreeing with the loader."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from nas.config import file_kind
from nas.errors import SpecError
from nas.space import Space, space_schema
from nas.yamlio import load_yaml, load_yaml_text

ROOT = Path(__file__).resolve().parents[2]
VALIDATOR = jsonschema.Draft202012Validator(space_schema())
SPACE_FILES = [
    path
    for path in sorted([*ROOT.glob("search_spaces/*.yaml"), *ROOT.glob("experiments/**/*.yaml")])
    if file_kind(load_yaml(path), path) == "space"
]


def test_the_schema_is_a_valid_draft_2020_12_schema():
    jsonschema.Draft202012Validator.check_schema(space_schema())


def test_the_committed_schema_is_current():
    committed = json.loads((ROOT / "schemas" / "space.schema.json").read_text())
    assert committed == space_schema(), "regenerate: nas schema space > schemas/space.schema.json"


@pytest.mark.parametrize("path", SPACE_FILES, ids=lambda p: p.name)
def test_every_shipped_space_file_passes_the_schema(path):
    VALIDATOR.validate(load_yaml(path))


GOOD = "name: x\ninput: {input}\nlayers:\n  - {layer}\n"


@pytest.mark.parametrize(
    ("input_kind", "layer"),
    [
        (
            "flat",
            "{type: dense, features: {low: 8, high: 64, step: 8}, dropout: {low: 0, high: 0.5}}",
        ),
        ("image", "{type: pool, stride: null, kind: {choices: [max, avg]}}"),
        ("sequence", "{type: recurrent, features: 4, bidirectional: {choices: [true, false]}}"),
        (
            "flat",
            "{one_of: [{type: norm, kind: batch}, {type: dropout}], repeat: {low: 0, high: 2}}",
        ),
    ],
)
def test_files_the_loader_accepts_pass_the_schema(input_kind, layer):
    data = load_yaml_text(GOOD.format(input=input_kind, layer=layer), "s.yaml")
    Space.from_dict(data)
    VALIDATOR.validate(data)


@pytest.mark.parametrize(
    "layer",
    [
        "{type: dense, features: 0}",
        "{type: dense, features: 8.5}",
        "{type: dense, features: {low: 1.5, high: 4}}",
        "{type: dense, features: 8, activation: rleu}",
        "{type: dense, features: 8, dropout: 1.0}",
        "{type: dense, features: 8, kernel_size: 3}",
        "{type: dense, features: {choices: []}}",
        "{type: dense, features: {low: 1, high: 4, lg: true}}",
        "{type: dense, features: true}",
        "{type: transformer}",
        "{type: norm, kind: none}",
        "{one_of: [{type: norm}], features: 8}",
        "{type: dense, features: 8, repeat: 65}",
    ],
)
def test_field_mistakes_the_loader_refuses_fail_the_schema_too(layer):
    data = load_yaml_text(GOOD.format(input="flat", layer=layer), "s.yaml")
    with pytest.raises(SpecError):
        Space.from_dict(data)
    assert not VALIDATOR.is_valid(data)


@pytest.mark.parametrize(
    "text",
    [
        "name: x\ninput: flat\n",
        "name: x\ninput: flatt\nlayers: [{type: dense, features: 8}]\n",
        "name: x\ninput: flat\nlayers: [{type: dense, features: 8}]\nextra: 1\n",
        "name: x\ninput: flat\nlayers: [{type: dense, features: 8}]\noptimizer: {lr: 0.1}\n",
        "name: x\ninput: flat\nshared: {activaton: relu}\nlayers: [{type: dense, features: 8}]\n",
    ],
)
def test_top_level_mistakes_fail_the_schema(text):
    data = load_yaml_text(text, "s.yaml")
    with pytest.raises(SpecError):
        Space.from_dict(data)
    assert not VALIDATOR.is_valid(data)
