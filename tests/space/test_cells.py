"""Cell layers in space files: the per-edge ops format, shared cells, counts and errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from nas.errors import SpecError
from nas.model import Architecture, ArchitectureError, Cell, trace_shapes
from nas.space import FixedSuggest, RandomSuggest, Space, load_space
from nas.yamlio import load_yaml_text
from tests.space.test_space import enumerate_candidates

SPACES = Path(__file__).resolve().parents[2] / "search_spaces"
OPS = ("none", "skip", "conv1x1", "conv3x3", "avgpool3x3")
CELL_SPACES = [("nb201", [(32, 32, 3), (16, 16, 3)]), ("cells_small", [(8, 8, 1)])]


def space_from_text(text: str) -> Space:
    return Space.from_dict(load_yaml_text(text, "cells.yaml"), "cells.yaml")


def test_nb201_is_the_benchmark_space():
    space = load_space(SPACES / "nb201.yaml")
    assert space.cardinality() == 5**6 == 15_625
    assert list(space.params()) == [f"ops.{e}" for e in range(6)]
    assert all(space.params()[f"ops.{e}"].values() == OPS for e in range(6))
    arch = space.sample(RandomSuggest(7))
    cells = [layer for layer in arch.layers if isinstance(layer, Cell)]
    normal = [c for c in cells if not c.reduction]
    reduction = [c for c in cells if c.reduction]
    assert [c.features for c in normal] == [16] * 5 + [32] * 5 + [64] * 5
    assert len({c.ops for c in normal}) == 1 and len(normal[0].ops) == 6
    assert reduction == [
        Cell(32, ("conv3x3", "skip", "conv3x3"), nodes=3, reduction=True),
        Cell(64, ("conv3x3", "skip", "conv3x3"), nodes=3, reduction=True),
    ]
    assert trace_shapes(arch.layers, (32, 32, 3))[-1] == (64,)


@pytest.mark.parametrize(("name", "shapes"), CELL_SPACES)
def test_cell_spaces_sample_trace_replay_and_round_trip(name, shapes):
    space = load_space(SPACES / f"{name}.yaml")
    for shape in shapes:
        space.check_input(shape)
    suggest = RandomSuggest(0)
    for seed in range(30):
        recorder = RandomSuggest(seed)
        arch = space.sample(recorder)
        space.sample(suggest)
        assert space.sample(FixedSuggest(recorder.params)) == arch
        assert Architecture.from_json(arch.to_json()) == arch
        for shape in shapes:
            assert len(trace_shapes(arch.layers, shape)) == len(arch.layers)
    assert set(suggest.params) == set(space.params())
    again = Space.from_dict(json.loads(json.dumps(space.to_dict())), "again")
    assert again == space and again.sample(RandomSuggest(3)) == space.sample(RandomSuggest(3))


@pytest.mark.parametrize(
    ("ops", "shared", "expected"),
    [
        # each edge of each cell on its own: (2 ops ^ 3 edges) per cell, 1 or 2 cells
        ("{choices: [skip, conv3x3]}", "", 8 + 8**2),
        # one list, one edge drawn
        ("[conv3x3, {choices: [none, skip, avgpool3x3]}, skip]", "", 3 + 3**2),
        # every cell takes the one shared cell
        (None, "shared: {ops: {choices: [skip, conv3x3]}}", 8 + 8),
        ("conv1x1", "", 2),
    ],
)
def test_count_matches_enumeration(ops, shared, expected):
    own = f", ops: {ops}" if ops is not None else ""
    space = space_from_text(
        f"""
name: c
input: image
{shared}
layers:
  - {{type: cell, features: 4, nodes: 3, repeat: {{low: 1, high: 2}}{own}}}
"""
    )
    candidates = enumerate_candidates(space)
    assert space.cardinality() == len(candidates) == expected
    assert len({a.to_json() for a in candidates}) == expected


def test_edge_parameter_names():
    space = space_from_text(
        """
name: c
input: image
layers:
  - {type: cell, features: 4, nodes: 3, repeat: 2, ops: [skip, {choices: [none, skip]}, conv3x3]}
"""
    )
    assert list(space.params()) == ["layers.0.0.ops.1", "layers.0.1.ops.1"]


@pytest.mark.parametrize(
    ("layer", "field", "words"),
    [
        ("{type: cell, features: 4, ops: [skip, skip]}", "layers[0].ops", "expected 6 ops"),
        ("{type: cell, features: 4, ops: [skip, skip, conv9x9]}", "layers[0].ops", "expected 6"),
        (
            "{type: cell, features: 4, nodes: 3, ops: [skip, skip, conv9x9]}",
            "layers[0].ops[2]",
            "unknown cell op 'conv9x9'",
        ),
        (
            "{type: cell, features: 4, ops: {choices: [skp]}}",
            "layers[0].ops.choices[0]",
            "did you mean 'skip'?",
        ),
        (
            "{type: cell, features: 4, nodes: {choices: [3, 4]}, ops: skip}",
            "layers[0].nodes",
            "must be a fixed int",
        ),
        ("{type: cell, features: 4, nodes: 1, ops: skip}", "layers[0].nodes", "in [2, 10]"),
        ("{type: cell, features: 4}", "layers[0].ops", "missing required key 'ops'"),
        ("{type: cell, features: 4, ops: {low: 1, high: 2}}", "layers[0].ops", "found a range"),
    ],
)
def test_bad_cells_name_the_field(layer, field, words):
    with pytest.raises(SpecError) as err:
        space_from_text(f"name: c\ninput: image\nlayers:\n  - {layer}\n")
    assert err.value.field == field and words in err.value.problem, str(err.value)


def test_shared_ops_need_one_node_count_and_nodes_are_not_shared():
    text = """
name: c
input: image
shared: {SHARED}
layers:
  - {type: cell, features: 4, nodes: 3}
  - {type: cell, features: 4, nodes: 4}
"""
    with pytest.raises(SpecError) as err:
        space_from_text(text.replace("{SHARED}", "{ops: skip}"))
    assert err.value.field == "shared.ops" and "different node counts [3, 4]" in str(err.value)
    with pytest.raises(SpecError) as err:
        space_from_text(text.replace("{SHARED}", "{nodes: 3}"))
    assert err.value.field == "shared.nodes"


@pytest.mark.parametrize(
    ("input_kind", "shape", "words"),
    [("flat", None, "cell cannot take a flat input"), ("image", (6, 6, 1), "must be even")],
)
def test_cells_need_images_and_reductions_even_sizes(input_kind, shape, words):
    text = f"""
name: c
input: {input_kind}
layers:
  - {{type: cell, features: 4, nodes: 2, ops: skip, reduction: true, repeat: 2}}
"""
    with pytest.raises(SpecError) as err:
        space = space_from_text(text)
        space.check_input(shape)
    assert err.value.field == "layers[0]" and words in str(err.value)


@pytest.mark.parametrize(
    ("layer", "field", "words"),
    [
        ({"features": 4, "ops": ["skip"], "nodes": 3}, "layers[0].ops", "expected 3 ops"),
        ({"features": 4, "ops": ["skip", "nope", "skip"], "nodes": 3}, "layers[0].ops", "a list"),
        ({"features": 4, "ops": "skip", "nodes": 2}, "layers[0].ops", "a list"),
        ({"features": 4, "ops": ["skip"], "nodes": 11}, "layers[0].nodes", "[2, 10]"),
        ({"features": 4}, "layers[0].ops", "missing required field"),
    ],
)
def test_stored_cells_are_checked(layer, field, words):
    with pytest.raises(ArchitectureError) as err:
        Architecture.from_dict({"layers": [{"type": "cell", **layer}]})
    assert err.value.field == field and words in err.value.problem
