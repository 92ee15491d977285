"""A space file with several independent mistakes names them all at once."""

from __future__ import annotations

import pytest

from nas.errors import MAX_PROBLEMS, SpecError, SpecErrors
from nas.space import Space
from nas.yamlio import load_yaml_text

TEXT = """\
name: x
input: flat
colour: blue
layers:
  - {type: dense, features: 0, activation: rleu}
  - {type: conv, features: 8}
  - {type: transformer}
  - {one_of: [{type: norm, kind: none}, {type: dropout, rate: 2}], extra: 1}
optimizer: {learning_rate: -1, momentum: 0.9}
"""


def load(text: str) -> Space:
    return Space.from_dict(load_yaml_text(text, "s.yaml"), "s.yaml")


def test_every_independent_mistake_is_named_in_file_order():
    with pytest.raises(SpecErrors) as info:
        load(TEXT)
    fields = [err.field for err in info.value.errors]
    assert fields == [
        "colour",
        "layers[0].features",
        "layers[0].activation",
        "layers[2].type",
        "layers[3].extra",
        "layers[3].one_of[0].kind",
        "layers[3].one_of[1].rate",
        "optimizer.momentum",
        "optimizer.learning_rate",
    ]
    text = str(info.value)
    assert text.startswith("s.yaml: 9 problems\n")
    assert all(f"  {field}: " in text for field in fields)
    # The first problem is the error's own field and problem, as a single error's would be.
    assert isinstance(info.value, SpecError)
    assert (info.value.source, info.value.field) == ("s.yaml", "colour")


def test_a_single_mistake_stays_one_line():
    with pytest.raises(SpecError) as info:
        load("name: x\ninput: flat\nlayers:\n  - {type: dense, features: 0}\n")
    assert not isinstance(info.value, SpecErrors)
    assert "\n" not in str(info.value)


def test_checks_that_need_a_valid_part_wait_for_it():
    # The layer order (conv on a flat input) is checked only once every template reads.
    with pytest.raises(SpecError) as info:
        load("name: x\ninput: flat\nlayers:\n  - {type: conv, features: 8}\n  - {type: x}\n")
    assert info.value.field == "layers[1].type" and not isinstance(info.value, SpecErrors)


def test_many_mistakes_are_listed_up_to_a_limit():
    layers = "".join("  - {type: dense, features: 0}\n" for _ in range(500))
    with pytest.raises(SpecErrors) as info:
        load(f"name: x\ninput: flat\nlayers:\n{layers}")
    assert len(info.value.errors) == 500
    text = str(info.value)
    assert text.startswith("s.yaml: 500 problems\n")
    listed = [line for line in text.splitlines()[1:] if not line.startswith("  ...")]
    assert len(listed) <= MAX_PROBLEMS and len(text) < 1500
    assert text.endswith(f"... and {500 - len(listed)} more")
