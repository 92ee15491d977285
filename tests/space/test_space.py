"""Search-space format: loading, validation messages, sampling, counting and shape checks."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from nas.errors import SpecError
from nas.model import Architecture, trace_shapes
from nas.space import FixedSuggest, RandomSuggest, Space, load_space
from nas.yamlio import load_yaml, load_yaml_text

SPACES = Path(__file__).resolve().parents[2] / "search_spaces"
SHIPPED = [
    ("mlp", [(64,)]),
    ("cnn2d", [(8, 8, 1)]),
    ("cnn1d", [(40, 1)]),
    ("rnn", [(40, 1), (8, 8)]),
]


def space_from_text(text: str) -> Space:
    return Space.from_dict(load_yaml_text(text, "bad.yaml"), "bad.yaml")


class Enumerate:
    """A Suggest that takes the branch ``path`` names (index per call, 0 past its end) and
    records how many branches each call had: walking all paths visits every candidate."""

    def __init__(self, path: Sequence[int]) -> None:
        self.path = path
        self.widths: list[int] = []

    def _pick(self, values: Sequence[Any]) -> Any:
        i = len(self.widths)
        self.widths.append(len(values))
        return values[self.path[i] if i < len(self.path) else 0]

    def categorical(self, name: str, choices: Sequence[Any]) -> Any:
        return self._pick(list(choices))

    def int(self, name: str, low: int, high: int, *, step: int = 1, log: bool = False) -> int:
        return self._pick(range(low, high + 1, step))

    def float(
        self, name: str, low: float, high: float, *, step: float | None = None, log: bool = False
    ) -> float:
        assert step is not None, f"{name} is continuous"
        return self._pick([low + k * step for k in range(round((high - low) / step) + 1)])


def enumerate_candidates(space: Space) -> list[Architecture]:
    """Every candidate, one per leaf of the tree of draws (depth-first, like an odometer)."""
    out, path = [], []
    while True:
        suggest = Enumerate(path)
        out.append(space.sample(suggest))
        taken = [path[i] if i < len(path) else 0 for i in range(len(suggest.widths))]
        while taken and taken[-1] + 1 == suggest.widths[len(taken) - 1]:
            taken.pop()
        if not taken:
            return out
        taken[-1] += 1
        path = taken


@pytest.mark.parametrize(("name", "shapes"), SHIPPED)
def test_shipped_space_samples_trace_through_shapes(name: str, shapes: list) -> None:
    space = load_space(SPACES / f"{name}.yaml")
    assert space.name == name
    assert space.source == str(SPACES / f"{name}.yaml")
    for shape in shapes:
        space.check_input(shape)
    for seed in range(50):
        arch = space.sample(RandomSuggest(seed))
        assert Architecture.from_json(arch.to_json()) == arch
        for shape in shapes:
            assert len(trace_shapes(arch.layers, shape)) == len(arch.layers)


@pytest.mark.parametrize(("name", "shapes"), SHIPPED)
def test_same_seed_same_candidates_and_replay(name: str, shapes: list) -> None:
    space = load_space(SPACES / f"{name}.yaml")
    first = [space.sample(RandomSuggest(seed)) for seed in range(20)]
    assert first == [space.sample(RandomSuggest(seed)) for seed in range(20)]
    assert len({arch.to_json() for arch in first}) > 10
    for seed in range(20):
        recorder = RandomSuggest(seed)
        arch = space.sample(recorder)
        assert space.sample(FixedSuggest(recorder.params)) == arch


@pytest.mark.parametrize(("name", "shapes"), SHIPPED)
def test_to_dict_round_trips_through_json(name: str, shapes: list) -> None:
    space = load_space(SPACES / f"{name}.yaml")
    again = Space.from_dict(json.loads(json.dumps(space.to_dict())), "again")
    assert again == space
    assert again.to_dict() == space.to_dict()
    assert again.sample(RandomSuggest(3)) == space.sample(RandomSuggest(3))


@pytest.mark.parametrize(("name", "shapes"), SHIPPED)
def test_one_name_one_distribution_and_listed(name: str, shapes: list) -> None:
    space = load_space(SPACES / f"{name}.yaml")
    # One RandomSuggest across many candidates raises if a name comes with two distributions.
    suggest = RandomSuggest(0)
    for _ in range(200):
        space.sample(suggest)
    assert set(suggest.params) == set(space.params())
    summary = space.describe()
    assert summary.cardinality is None
    assert set(summary.continuous) <= set(summary.params)
    assert "optimizer.learning_rate" in summary.continuous


ROOT = SPACES.parent


def readme_space() -> str:
    """The first ```yaml block under the README's "### Search spaces" heading."""
    readme = (ROOT / "README.md").read_text()
    section = readme.split("\n### Search spaces", 1)[1]
    return section.split("```yaml\n", 1)[1].split("```", 1)[0]


def docstring_space() -> str:
    """The literal block after "Format::" in nas/space.py's docstring, dedented."""
    import textwrap

    import nas.space.format

    block = []
    for line in nas.space.format.__doc__.split("Format::\n", 1)[1].splitlines()[1:]:
        if line and not line.startswith(" "):
            break  # the literal block ends at the first unindented line
        block.append(line)
    return textwrap.dedent("\n".join(block))


@pytest.mark.parametrize("example", [readme_space, docstring_space], ids=lambda f: f.__name__)
def test_documented_example_space_is_valid(example) -> None:
    # The examples users copy must load and give candidates that build on a flat input.
    space = space_from_text(example())
    assert space.input_kind == "flat"
    space.check_input((64,))
    types = set()
    for seed in range(40):
        arch = space.sample(RandomSuggest(seed))
        assert len(trace_shapes(arch.layers, (64,))) == len(arch.layers)
        types |= {layer.type for layer in arch.layers}
    assert "dense" in types and types & {"norm", "dropout"}, "the one_of template is sampled"


def test_mlp_param_names_follow_existing_layers() -> None:
    space = load_space(SPACES / "mlp.yaml")
    depths = set()
    for seed in range(30):
        suggest = RandomSuggest(seed)
        arch = space.sample(suggest)
        n = suggest.params["layers.0.repeat"]
        depths.add(n)
        expected = {
            "skip",
            "activation",
            "layers.0.repeat",
            "optimizer.learning_rate",
            "optimizer.weight_decay",
            "optimizer.batch_size",
        } | {f"layers.0.{k}.{field}" for k in range(n) for field in ("features", "norm", "dropout")}
        assert set(suggest.params) == expected
        assert len(arch.layers) == n
        assert [layer.features for layer in arch.layers] == [
            suggest.params[f"layers.0.{k}.features"] for k in range(n)
        ]
    assert depths == {1, 2, 3, 4}


ONE_OF = """
name: branches
input: image
shared: {activation: {choices: [relu, tanh]}}
layers:
  - type: conv
    features: 4
  - one_of:
      - {type: pool, kind: {choices: [max, avg]}}
      - {type: dropout, rate: {choices: [0.1, 0.2]}}
      - {type: conv, features: {choices: [4, 8]}}
    repeat: {low: 0, high: 2}
"""


def test_one_of_params_exist_only_for_chosen_types() -> None:
    space = space_from_text(ONE_OF)
    seen = set()
    for seed in range(60):
        suggest = RandomSuggest(seed)
        arch = space.sample(suggest)
        names = set(suggest.params)
        n = suggest.params["layers.1.repeat"]
        assert len(arch.layers) == 1 + n
        expected = {"activation", "layers.1.repeat"}
        for k, layer in enumerate(arch.layers[1:]):
            assert suggest.params[f"layers.1.{k}.type"] == layer.type
            field = {"pool": "kind", "dropout": "rate", "conv": "features"}[layer.type]
            expected |= {f"layers.1.{k}.type", f"layers.1.{k}.{layer.type}.{field}"}
            seen.add(layer.type)
        assert names == expected
    assert seen == {"pool", "dropout", "conv"}


SMALL = [
    # Conditional one_of layers, a lazily drawn shared value, optional templates.
    """
name: small
input: sequence
skip: {choices: [none, residual]}
shared: {activation: {choices: [relu, tanh]}}
layers:
  - type: conv
    repeat: {low: 0, high: 2}
    features: {choices: [4, 8]}
  - one_of:
      - {type: pool, kind: {choices: [max, avg]}}
      - {type: dense, features: 4, dropout: {choices: [0.0, 0.5]}}
      - {type: norm}
    repeat: {choices: [0, 1]}
optimizer: {batch_size: {choices: [16, 32]}}
""",
    # Stepped float and int ranges; a fixed repeat; a shared size.
    """
name: grid
input: flat
shared: {features: {low: 8, high: 32, step: 8}}
layers:
  - type: dense
    repeat: 2
    dropout: {low: 0.0, high: 0.5, step: 0.25}
  - type: dense
    repeat: {low: 0, high: 1}
    activation: {choices: [relu, gelu, silu]}
optimizer: {learning_rate: {choices: [1.0e-3, 1.0e-2]}, name: {choices: [adam, sgd]}}
""",
    # A template that can add nothing, so its shared field is drawn only sometimes.
    """
name: maybe
input: sequence
shared: {cell: {choices: [gru, lstm]}, bidirectional: {choices: [false, true]}}
layers:
  - type: recurrent
    repeat: {low: 0, high: 2}
    features: {choices: [2, 3, 4]}
""",
]


@pytest.mark.parametrize("text", SMALL)
def test_cardinality_equals_brute_force_enumeration(text: str) -> None:
    space = space_from_text(text)
    candidates = enumerate_candidates(space)
    assert space.cardinality() == len(candidates)
    assert len({arch.to_json() for arch in candidates}) == len(candidates)
    assert space.describe().continuous == ()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # 1 + 3 + 9 for zero, one or two layers of three widths.
        ("layers: [{type: dense, features: {choices: [1, 2, 3]}, repeat: {low: 0, high: 2}}]", 13),
        ("layers: [{type: dense, features: 4, dropout: {low: 0.0, high: 0.5}}]", None),
        # A range in a layer that never exists, or a shared value no layer takes, is not drawn.
        ("layers: [{type: dense, features: 4, repeat: 0, dropout: {low: 0.0, high: 0.5}}]", 1),
        (
            "shared: {dropout: {low: 0.0, high: 0.5}}\n"
            "layers: [{type: dense, features: 4, dropout: 0}]",
            1,
        ),
        ("shared: {dropout: {low: 0.0, high: 0.5}}\nlayers: [{type: dense, features: 4}]", None),
    ],
)
def test_cardinality_by_hand(text: str, expected: int | None) -> None:
    assert space_from_text(f"name: n\ninput: flat\n{text}").cardinality() == expected


def test_yaml_reads_scientific_floats() -> None:
    data = load_yaml_text(
        "a: 1e-4\nb: 1.0e-3\nc: -2E5\nd: 1.5\ne: 10\nf: '1e-4'\ng: 1e-4x\nh: .5e1\ni: 3.0e+2\n"
    )
    assert data == {
        "a": 1e-4,
        "b": 1e-3,
        "c": -2e5,
        "d": 1.5,
        "e": 10,
        "f": "1e-4",
        "g": "1e-4x",
        "h": 5.0,
        "i": 300.0,
    }
    assert [type(data[k]) for k in "abcdef"] == [float, float, float, float, int, str]


def test_yaml_is_safe_and_reports_files(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match="could not determine a constructor"):
        load_yaml_text("!!python/object/apply:os.system ['true']", "evil.yaml")
    with pytest.raises(SpecError, match="file not found") as info:
        load_yaml(tmp_path / "missing.yaml")
    assert info.value.source == str(tmp_path / "missing.yaml")
    with pytest.raises(SpecError, match="file not found"):
        load_space(tmp_path / "missing.yaml")
    with pytest.raises(SpecError, match="is a directory"):
        load_yaml(tmp_path)


INVALID = [
    # (YAML text, input shape for check_input or None, field path, key phrase of the problem)
    ("name: x\ninput: flat\nlayer: []", None, "layer", "unknown key 'layer'; allowed keys"),
    ("- a\n- b", None, "", "expected a mapping"),
    ("name: x\ninput: flat", None, "layers", "missing required key 'layers'"),
    ("name: x\ninput: video\nlayers: []", None, "input", "unknown input kind 'video'"),
    ("name: x\ninput: flat\nlayers: []", None, "layers", "layers is empty"),
    (
        "name: x\ninput: sequence\nlayers: [{type: conv, features: 8, kernel: 3}]",
        None,
        "layers[0].kernel",
        "unknown key 'kernel' for a conv layer; allowed keys: type, repeat, features, kernel_size",
    ),
    (
        "name: x\ninput: flat\nlayers: [{type: dense, features: big}]",
        None,
        "layers[0].features",
        "expected a positive int, found str 'big'",
    ),
    (
        "name: x\ninput: flat\nlayers: [{type: dense, features: true}]",
        None,
        "layers[0].features",
        "found bool True",
    ),
    (
        "name: x\ninput: flat\nlayers: [{type: dense, features: {choices: []}}]",
        None,
        "layers[0].features.choices",
        "choices is empty",
    ),
    (
        "name: x\ninput: flat\nlayers: [{type: dense, features: {choices: [8, 8]}}]",
        None,
        "layers[0].features.choices[1]",
        "duplicate choice 8",
    ),
    (
        "name: x\ninput: flat\nlayers: [{type: dense, features: [8, 16]}]",
        None,
        "layers[0].features",
        "write a set of choices as {choices: [...]}",
    ),
    (
        "name: x\ninput: flat\nlayers: [{type: dense, features: {low: 1.5, high: 4}}]",
        None,
        "layers[0].features",
        "expected int bounds (a positive int), found low=1.5, high=4.0",
    ),
    (
        "name: x\ninput: flat\nlayers: [{type: dense, features: {low: 8, high: 20, step: 8}}]",
        None,
        "layers[0].features.step",
        "multiple of step: low=8, high=20, step=8",
    ),
    (
        "name: x\ninput: flat\n"
        "layers: [{type: dense, features: 8, dropout: {low: 0.0, high: 1.0}}]",
        None,
        "layers[0].dropout.high",
        "expected a float in [0, 1), found 1.0",
    ),
    (
        "name: x\ninput: flat\nlayers: [{type: dense, features: 8}]\n"
        "optimizer: {learning_rate: {low: 0.5, high: 0.1}}",
        None,
        "optimizer.learning_rate",
        "low is greater than high: low=0.5, high=0.1",
    ),
    (
        "name: x\ninput: flat\nlayers: [{type: dense, features: 8}]\n"
        "optimizer: {weight_decay: {low: 0.0, high: 1.0e-3, log: true}}",
        None,
        "optimizer.weight_decay.low",
        "log scale needs low > 0, found low=0.0",
    ),
    (
        "name: x\ninput: flat\nlayers: [{type: dense, features: 8}]\n"
        "optimizer: {learning_rate: {low: 1e-4, high: 1e-2, log: true, step: 1e-3}}",
        None,
        "optimizer.learning_rate.step",
        "step cannot be combined with log",
    ),
    (
        "name: x\ninput: flat\nlayers: [{type: dense, features: 8}]\noptimizer: {lr: 0.1}",
        None,
        "optimizer.lr",
        "unknown key 'lr'; allowed keys: name, learning_rate",
    ),
    (
        "name: x\ninput: flat\nskip: {low: 0, high: 1}\nlayers: [{type: dense, features: 8}]",
        None,
        "skip",
        "found a range",
    ),
    (
        "name: x\ninput: flat\nshared: {activation: {choices: [relu, relux]}}\n"
        "layers: [{type: dense, features: 8}]",
        None,
        "shared.activation.choices[1]",
        "unknown activation 'relux'",
    ),
    (
        "name: x\ninput: flat\nshared: {kernel_size: 3}\nlayers: [{type: dense, features: 8}]",
        None,
        "shared.kernel_size",
        "'kernel_size' is not a field of any layer type used (dense)",
    ),
    (
        "name: x\ninput: image\nshared: {kind: max}\nlayers: [{type: pool}, {type: norm}]",
        None,
        "shared.kind",
        "unknown norm kind 'max'",
    ),
    (
        "name: x\ninput: flat\nlayers: [{type: conv3d, features: 8}]",
        None,
        "layers[0].type",
        "unknown layer type 'conv3d'",
    ),
    (
        "name: x\ninput: flat\nlayers: [{type: dense}]",
        None,
        "layers[0].features",
        "missing required key 'features' for a dense layer",
    ),
    (
        "name: x\ninput: sequence\nlayers: [{one_of: [{type: norm}, {type: recurrent}]}]",
        None,
        "layers[0].one_of[1].features",
        "missing required key 'features' for a recurrent layer",
    ),
    (
        "name: x\ninput: image\nlayers: [{one_of: [{type: pool}, {type: pool, window: 3}]}]",
        None,
        "layers[0].one_of[1].type",
        "duplicate option type 'pool'",
    ),
    (
        "name: x\ninput: image\nlayers: [{one_of: [{type: pool, repeat: 2}]}]",
        None,
        "layers[0].one_of[0].repeat",
        "unknown key 'repeat' for a pool layer",
    ),
    (
        "name: x\ninput: image\nlayers: [{type: pool, one_of: [{type: norm}]}]",
        None,
        "layers[0]",
        "either type or one_of",
    ),
    (
        "name: x\ninput: image\nlayers: [{type: pool, repeat: 100}]",
        None,
        "layers[0].repeat",
        "expected an int in [0, 64], found 100",
    ),
    (
        "name: x\ninput: flat\nlayers: [{type: conv, features: 8}]",
        None,
        "layers[0]",
        "conv cannot take a flat input: the space's input is flat",
    ),
    (
        "name: x\ninput: image\nlayers: [{type: recurrent, features: 8}]",
        None,
        "layers[0]",
        "recurrent cannot take an image input",
    ),
    (
        "name: x\ninput: sequence\n"
        "layers: [{type: dense, features: 8, repeat: {low: 0, high: 1}},"
        " {type: conv, features: 8}]",
        None,
        "layers[1]",
        "conv cannot take a flat input: layers[0] (dense) makes it flat",
    ),
    (
        "name: x\ninput: sequence\n"
        "layers: [{one_of: [{type: recurrent, features: 4}, {type: global_pool}], repeat: 2}]",
        None,
        "layers[0].one_of[0]",
        "recurrent cannot take a flat input: layers[0].one_of[1] (global_pool) makes it flat",
    ),
    (
        "name: x\ninput: image\nlayers: [{type: pool, window: 2, repeat: {low: 1, high: 3}}]",
        (4, 4, 1),
        "layers[0]",
        "pool of window 2 shrinks a spatial size of 1 below 1",
    ),
    (
        "name: x\ninput: sequence\nshared: {kernel_size: {choices: [3, 9]}}\n"
        "layers: [{type: conv, features: 4, padding: valid}]",
        (8, 1),
        "layers[0]",
        "shared kernel_size=9",
    ),
    (
        "name: x\ninput: flat\nlayers: [{type: dense, features: 8}]",
        (8, 8, 1),
        "input",
        "the space is built for flat inputs, but the input shape (8, 8, 1) is image",
    ),
    ("name: x\ninput: flat\nlayers: [\n  {type: dense\n", None, "", "line 5, column 1"),
    ("name: x\ninput: flat\nname: y\n", None, "", "found duplicate key 'name'"),
]


@pytest.mark.parametrize(("text", "shape", "field", "phrase"), INVALID)
def test_invalid_spaces_name_field_and_problem(
    text: str, shape: tuple[int, ...] | None, field: str, phrase: str
) -> None:
    with pytest.raises(SpecError) as info:
        space = space_from_text(text)
        assert shape is not None, "the space loaded"
        space.check_input(shape)
    assert info.value.source == "bad.yaml"
    assert info.value.field == field
    assert phrase in info.value.problem


@pytest.mark.parametrize(
    ("name", "shape", "field", "phrase"),
    [
        ("cnn1d", (4, 1), "layers[1]", "pool of window 2 shrinks a spatial size of 1 below 1"),
        ("cnn2d", (8, 8), "input", "built for image inputs"),
        ("rnn", (64,), "input", "built for sequence inputs"),
    ],
)
def test_shipped_space_rejects_unfit_shapes(
    name: str, shape: tuple[int, ...], field: str, phrase: str
) -> None:
    space = load_space(SPACES / f"{name}.yaml")
    with pytest.raises(SpecError) as info:
        space.check_input(shape, source="experiment.yaml")
    assert (info.value.source, info.value.field) == ("experiment.yaml", field)
    assert phrase in info.value.problem


def test_fixed_suggest_names_missing_and_rejects_foreign_values() -> None:
    space = load_space(SPACES / "mlp.yaml")
    recorder = RandomSuggest(1)
    space.sample(recorder)
    params = dict(recorder.params)
    del params["optimizer.batch_size"]
    with pytest.raises(KeyError, match=re.escape("'optimizer.batch_size'")):
        space.sample(FixedSuggest(params))
    params["optimizer.batch_size"] = 48
    with pytest.raises(ValueError, match=re.escape("optimizer.batch_size=48")):
        space.sample(FixedSuggest(params))


@pytest.mark.parametrize(
    ("kind", "args", "kwargs"),
    [
        ("int", (1, 9), {"step": 2}),
        ("int", (1, 1000), {"log": True}),
        ("float", (1e-6, 1e-2), {"log": True}),
        ("float", (0.0, 1.0), {"step": 0.1}),
        ("float", (-2.0, 3.0), {}),
    ],
)
def test_random_suggest_stays_in_bounds_and_on_the_grid(
    kind: str, args: tuple, kwargs: dict
) -> None:
    suggest = RandomSuggest(0)
    low, high = args
    values = [getattr(suggest, kind)("x", low, high, **kwargs) for _ in range(300)]
    assert all(low <= v <= high for v in values)
    step = kwargs.get("step")
    if step is not None:
        assert all(math.isclose((v - low) / step, round((v - low) / step)) for v in values)
    if kwargs.get("log"):
        # Log-uniform: about half the draws fall below the geometric mean.
        below = sum(v < math.sqrt(low * high) for v in values) / len(values)
        assert 0.35 < below < 0.65
    with pytest.raises(ValueError, match="'x' asked as"):
        getattr(suggest, kind)("x", low, high + 1)
