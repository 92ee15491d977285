"""Unknown names in a space file come with the closest known name, when one is close."""

from __future__ import annotations

import pytest

from nas.errors import SpecError
from nas.space import Space
from nas.yamlio import load_yaml_text

DENSE = "{type: dense, features: 8}"


@pytest.mark.parametrize(
    ("text", "field", "suggestion"),
    [
        (f"name: x\ninput: flat\nlayer:\n  - {DENSE}\n", "layer", "'layers'"),
        (f"name: x\ninput: flatt\nlayers:\n  - {DENSE}\n", "input", "'flat'"),
        ("name: x\ninput: flat\nlayers:\n  - {type: Dense, features: 8}\n", "type", "'dense'"),
        ("name: x\ninput: flat\nlayers:\n  - {type: dense, feature: 8}\n", "feature", "'features'"),
        (
            "name: x\ninput: flat\nlayers:\n  - {type: dense, features: 8, activation: rleu}\n",
            "layers[0].activation",
            "'relu'",
        ),
        (
            "name: x\ninput: flat\nlayers:\n"
            "  - {type: dense, features: 8, activation: {choices: [relu, gleu]}}\n",
            "activation.choices[1]",
            "'gelu'",
        ),
        (
            f"name: x\ninput: flat\nlayers:\n  - {DENSE}\noptimizer: {{learning_rte: 0.1}}\n",
            "optimizer.learning_rte",
            "'learning_rate'",
        ),
        (
            f"name: x\ninput: flat\nshared: {{activaton: relu}}\nlayers:\n  - {DENSE}\n",
            "shared.activaton",
            "'activation'",
        ),
        (
            "name: x\ninput: flat\nlayers:\n  - {type: dense, features: {lo: 1, high: 4}}\n",
            "features.lo",
            "'low'",
        ),
        (
            f"name: x\ninput: flat\nlayers:\n  - {{one_of: [{DENSE}], repaet: 1}}\n",
            "repaet",
            "'repeat'",
        ),
    ],
)
def test_an_unknown_name_suggests_the_closest_known_one(text, field, suggestion):
    with pytest.raises(SpecError) as err:
        Space.from_dict(load_yaml_text(text, "s.yaml"), "s.yaml")
    assert field in err.value.field
    assert err.value.problem.endswith(f"did you mean {suggestion}?")


def test_a_name_close_to_nothing_gets_no_suggestion():
    text = "name: x\ninput: flat\nlayers:\n  - {type: transformer, features: 8}\n"
    with pytest.raises(SpecError) as err:
        Space.from_dict(load_yaml_text(text, "s.yaml"), "s.yaml")
    assert "unknown layer type 'transformer'" in str(err.value)
    assert "did you mean" not in str(err.value)
