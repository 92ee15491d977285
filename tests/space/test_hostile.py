"""Hostile space files: alias bombs, deep nesting, huge values and lists. Each is refused with
a short one-line SpecError naming the file (or accepted quickly), never a crash or a hang."""

from __future__ import annotations

from pathlib import Path

import pytest

from nas.checks import MAX_SHOWN, short
from nas.cli import main
from nas.errors import SpecError
from nas.space import Space, load_space
from nas.yamlio import MAX_DEPTH, load_yaml_text

HEAD = "input: flat\nlayers: [{type: dense, features: 8}]\n"


def laughs(levels: int) -> str:
    """A space whose name is a billion-laughs value: ``levels`` lists of nine aliases of the
    one before, 9**(levels+1) strings once expanded, in a few hundred bytes."""
    items = ["&a0 [lol,lol,lol,lol,lol,lol,lol,lol,lol]"]
    items += [f"&a{i} [{','.join([f'*a{i - 1}'] * 9)}]" for i in range(1, levels)]
    return f"{HEAD}name: [{','.join(items)}]\n"


def test_alias_bomb_is_refused_before_it_expands(tmp_path: Path) -> None:
    path = tmp_path / "bomb.yaml"
    path.write_text(laughs(9))
    assert len(path.read_bytes()) < 500
    with pytest.raises(SpecError) as info:
        load_space(path)
    assert info.value.source == str(path)
    assert "expands to more than 1,000,000 values" in info.value.problem
    assert len(str(info.value)) < 300


def test_error_message_shows_a_large_value_short(tmp_path: Path) -> None:
    # Six levels expand to 9**6 strings: within the limit, so the check of `name` runs and
    # its message shows the value (before the fix, 4 MB of it).
    path = tmp_path / "laughs.yaml"
    path.write_text(laughs(6))
    with pytest.raises(SpecError) as info:
        load_space(path)
    assert info.value.field == "name"
    assert info.value.problem.startswith("expected a non-empty string, found a list [['lol', 'lol'")
    assert len(info.value.problem) < 200


def test_cli_validate_alias_bomb_exits_2_with_one_short_line(tmp_path: Path, capsys) -> None:
    path = tmp_path / "bomb.yaml"
    path.write_text(laughs(9))
    assert main(["validate", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {path}: refused") and err.count("\n") == 1


def test_alias_inside_its_own_anchor_is_refused() -> None:
    with pytest.raises(SpecError, match="alias \\*a inside its own anchor"):
        load_yaml_text(f"{HEAD}name: &a [x, *a]\n", "loop.yaml")


@pytest.mark.parametrize(
    "text",
    [
        "name: " + "{a: " * 10_000 + "1" + "}" * 10_000,
        "name: " + "[" * 10_000 + "]" * 10_000,
        # Each alias adds the depth of what it names: 40 + 40 levels from 40-deep text.
        "a: &a " + "[" * 40 + "]" * 40 + "\nname: " + "[" * 39 + "*a" + "]" * 39,
    ],
    ids=["mappings", "lists", "aliases"],
)
def test_deep_nesting_is_refused(text: str, tmp_path: Path) -> None:
    path = tmp_path / "deep.yaml"
    path.write_text(HEAD + text + "\n")
    with pytest.raises(SpecError) as info:
        load_space(path)
    assert info.value.source == str(path)
    assert f"nested deeper than {MAX_DEPTH} levels" in info.value.problem


def test_nesting_up_to_the_limit_is_read() -> None:
    data = load_yaml_text("x: " + "[" * (MAX_DEPTH - 1) + "]" * (MAX_DEPTH - 1))
    depth, value = 0, data["x"]
    while value:
        depth, value = depth + 1, value[0]
    assert depth == MAX_DEPTH - 2


@pytest.mark.parametrize(
    ("value", "phrase"),
    [
        ("9" * 5000, "cannot read the value '9999"),
        ("0x" + "f" * 5000, "an int of 4300 digits or more"),
        ("2001-13-45", "month must be in 1..12"),
        ("!!timestamp 2001-01-01x", "cannot read the value '2001-01-01x'"),
        ("!!bool maybe", "cannot read the value 'maybe': not a value of its type"),
        ("!!map [1]", "cannot read a value"),
        ("!" + "x" * 5000 + " 1", "could not determine a constructor"),
    ],
)
def test_values_yaml_cannot_build_are_spec_errors(value: str, phrase: str) -> None:
    with pytest.raises(SpecError) as info:
        load_yaml_text(f"{HEAD}name: {value}\n", "odd.yaml")
    assert info.value.source == "odd.yaml"
    assert phrase in info.value.problem
    assert len(info.value.problem) <= 3 * MAX_SHOWN


def test_long_keys_and_values_are_shown_short_and_escaped() -> None:
    key = "k" * 10_000 + "\x1b[31m"
    with pytest.raises(SpecError) as info:
        Space.from_dict({"name": "x", "input": "flat", "layers": [{"type": "dense", key: 1}]})
    assert len(info.value.field) < 60 and len(info.value.problem) < 2 * MAX_SHOWN + 200
    assert "\x1b" not in str(info.value)
    with pytest.raises(SpecError) as info:
        Space.from_dict({"name": "x", "input": "v" * 10**6, "layers": []})
    assert len(str(info.value)) < 300


def test_short_never_builds_the_whole_text() -> None:
    nested: list = []
    nested.append(nested)
    assert short(nested) == "[[[[...]]]]"
    assert short(10**5000) == "<an int of about 5000 digits>"
    assert short("x" * 10**7).endswith("xx'") and len(short("x" * 10**7)) <= MAX_SHOWN


@pytest.mark.timeout(60)
def test_a_hundred_thousand_choices_check_in_linear_time() -> None:
    # A guard, not a timing assertion: the old pairwise duplicate check took minutes here.
    choices = list(range(1, 100_001))
    space = Space.from_dict(
        {
            "name": "x",
            "input": "flat",
            "layers": [{"type": "dense", "features": {"choices": choices}}],
        }
    )
    assert space.cardinality() == 100_000
    with pytest.raises(SpecError) as info:
        Space.from_dict(
            {
                "name": "x",
                "input": "flat",
                "layers": [{"type": "dense", "features": {"choices": [*choices, 1.0]}}],
            }
        )
    assert info.value.field == "layers[0].features.choices[100000]"
    assert info.value.problem == "duplicate choice 1.0"


@pytest.mark.parametrize("name", ["[/x]", "[bold red]boom[/bold red]"])
def test_validate_prints_a_space_name_as_text_not_markup(name: str, tmp_path: Path, capsys) -> None:
    path = tmp_path / "markup.yaml"
    path.write_text(f"name: {name!r}\n{HEAD}")
    assert main(["validate", str(path)]) == 0
    assert f"valid space {name!r}" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("layers", "shape", "field", "problem"),
    [
        (
            [
                {
                    "type": "conv",
                    "features": 4,
                    "padding": "valid",
                    "kernel_size": {"low": 1, "high": 10**9},
                }
            ],
            (8, 1),
            "layers[0]",
            "conv of window 9 shrinks a spatial size of 8 below 1",
        ),
        (
            [
                {"type": "conv", "features": 4, "stride": {"low": 1, "high": 10**9}, "repeat": 3},
                {"type": "pool", "window": {"choices": [2, 10**6, 40]}},
            ],
            (28, 28, 1),
            "layers[1]",
            "pool of window 40 shrinks a spatial size of 28 below 1",
        ),
    ],
    ids=["kernel", "stride-window"],
)
def test_shape_check_of_huge_ranges_tries_only_values_that_differ(
    layers: list, shape: tuple[int, ...], field: str, problem: str
) -> None:
    # Before, every value of the range was made into a layer: a billion of them.
    kind = "sequence" if len(shape) == 2 else "image"
    space = Space.from_dict({"name": "x", "input": kind, "layers": layers}, "big.yaml")
    with pytest.raises(SpecError) as info:
        space.check_input(shape)
    assert (info.value.field, problem in info.value.problem) == (field, True), info.value


def test_spatial_values_keep_every_value_that_acts_differently() -> None:
    from nas.space.checks import spatial_values
    from nas.space.params import Choice, IntRange

    assert spatial_values(IntRange(1, 10**9), 5) == (1, 2, 3, 4, 5, 6)
    assert spatial_values(IntRange(3, 10**9, 4), 5) == (3, 7)
    assert spatial_values(IntRange(9, 10**9, 4), 5) == (9,)
    assert spatial_values(IntRange(1, 4), 5) == (1, 2, 3, 4)
    assert spatial_values(Choice((None, 2, 99, 7, "same")), 5) == (None, 2, "same", 7)


def test_a_candidate_has_at_most_a_thousand_layers() -> None:
    template = {"type": "dense", "features": 2, "repeat": {"low": 0, "high": 64}}
    space = {"name": "x", "input": "flat", "layers": [template] * 15}
    assert Space.from_dict(space).describe().layers == (0, 960)
    with pytest.raises(SpecError) as info:
        Space.from_dict({**space, "layers": [template] * 16}, "deep.yaml")
    assert (info.value.field, info.value.problem) == (
        "layers",
        "a candidate can have up to 1,024 layers; at most 1,000 are allowed (lower some repeat)",
    )
    # A long list of aliases to one template (each adding no layer) is refused by its length.
    text = "name: x\ninput: flat\nlayers: [&t {type: dense, features: 2, repeat: 0}"
    with pytest.raises(SpecError) as info:
        Space.from_dict(load_yaml_text(text + ", *t" * 20_000 + "]\n"), "long.yaml")
    assert info.value.problem == "20,001 layer templates; at most 1,000 are allowed"


def test_numbers_past_float_range_are_refused_not_a_crash() -> None:
    # Found by tests/test_fuzz.py: math.isfinite(10**400) raises OverflowError.
    from nas.checks import is_finite_number

    assert not is_finite_number(10**400) and is_finite_number(10**300)
    layer = {"type": "dense", "features": 4, "dropout": {"low": 0, "high": 10**400}}
    with pytest.raises(SpecError) as info:
        Space.from_dict({"name": "x", "input": "flat", "layers": [layer]}, "big.yaml")
    assert info.value.field == "layers[0].dropout.high"
    assert info.value.problem.startswith("expected a finite number, found 1000000")
