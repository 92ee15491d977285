"""Hypothesis strategies for tests/test_fuzz.py: values, space documents and their text,
stored architectures. Documents are plain data written as YAML; a subtree used twice is one
object, so the writer gives it an anchor and aliases."""

from __future__ import annotations

import dataclasses
import json
import os
from typing import Any

import yaml
from hypothesis import strategies as st

from nas.model import (
    ACTIVATIONS,
    EDGE_OPS,
    LAYER_TYPES,
    NORMS,
    PADDINGS,
    POOL_KINDS,
    RNN_CELLS,
    SKIPS,
)

# NAS_FUZZ_EXAMPLES > 0: the long profile, with larger documents.
EXAMPLES = int(os.environ.get("NAS_FUZZ_EXAMPLES", "0"))
LONG = EXAMPLES > 0
LAYER_FIELD_NAMES = {
    name: [f.name for f in dataclasses.fields(cls)] for name, cls in LAYER_TYPES.items()
}

WORDS = (
    "relu",
    "gelu",
    "silu",
    "tanh",
    "identity",
    "none",
    "batch",
    "layer",
    "same",
    "valid",
    "max",
    "avg",
    "gru",
    "lstm",
    "residual",
    "dense",
    "conv",
    "pool",
    "global_pool",
    "norm",
    "dropout",
    "recurrent",
    "flat",
    "sequence",
    "image",
    "adamw",
    "adam",
    "sgd",
    "[/x]",
)
FIELDS = (
    "features",
    "kernel_size",
    "stride",
    "padding",
    "activation",
    "norm",
    "dropout",
    "kind",
    "window",
    "rate",
    "cell",
    "bidirectional",
)
HUGE = st.sampled_from([2**62, -(2**70), 10**300, 10**4000])
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 70),
    st.integers(),
    HUGE,
    st.floats(allow_nan=True, allow_infinity=True),
    st.floats(0, 1),
    st.text(max_size=8),
    st.sampled_from(WORDS),
)


def junk(leaf: st.SearchStrategy = SCALARS) -> st.SearchStrategy:
    """Any plain data: scalars, lists and mappings of them, a few levels deep."""
    return st.recursive(
        leaf,
        lambda inner: st.one_of(
            st.lists(inner, max_size=4),
            st.dictionaries(
                st.one_of(st.text(max_size=6), st.sampled_from(FIELDS)), inner, max_size=4
            ),
        ),
        max_leaves=8,
    )


def params(values: st.SearchStrategy = SCALARS) -> st.SearchStrategy:
    """A parameter value as a space file writes one, right or wrong."""
    number = st.one_of(st.integers(-2, 40), st.floats(-1, 40, allow_nan=False), HUGE)
    ranges = st.fixed_dictionaries(
        {"low": number, "high": number},
        optional={"step": number, "log": st.one_of(st.booleans(), SCALARS), "bad": SCALARS},
    )
    choices = st.fixed_dictionaries(
        {"choices": st.one_of(st.lists(values, max_size=6), values)},
        optional={"extra": SCALARS},
    )
    return st.one_of(values, choices, ranges, junk())


def huge_choices() -> st.SearchStrategy:
    """{choices: [...]} with thousands of values, sometimes a duplicate at the end."""
    size = st.integers(1000, 100_000 if LONG else 3000)
    return st.builds(
        lambda n, dup: {"choices": [*range(1, n + 1), *([1] if dup else [])]}, size, st.booleans()
    )


LAYER = st.fixed_dictionaries(
    {"type": st.one_of(st.sampled_from(tuple(LAYER_TYPES)), SCALARS)},
    optional={
        **{name: st.one_of(params(), huge_choices()) for name in FIELDS},
        "repeat": params(st.integers(-1, 70)),
        "unknown": SCALARS,
    },
)
TEMPLATE = st.one_of(
    LAYER,
    st.fixed_dictionaries(
        {"one_of": st.one_of(st.lists(LAYER, max_size=3), junk())},
        optional={"repeat": params(st.integers(-1, 70)), "type": SCALARS},
    ),
)


@st.composite
def space_documents(draw: st.DrawFn) -> Any:
    """A space as plain data, from nearly valid to nonsense; repeated subtrees are one
    object, so the YAML writer gives them anchors and aliases."""
    layers = draw(st.lists(TEMPLATE, max_size=4))
    if layers and draw(st.booleans()):
        # The same template many times: aliases in the YAML text.
        layers = layers * draw(st.integers(1, 2000 if LONG else 300))
    document: dict[Any, Any] = {
        "name": draw(st.one_of(st.text(max_size=10), SCALARS, junk())),
        "input": draw(st.one_of(st.sampled_from(("flat", "sequence", "image")), SCALARS)),
        "layers": draw(st.one_of(st.just(layers), junk())),
    }
    for key, value in (
        ("skip", params()),
        ("shared", st.dictionaries(st.sampled_from(FIELDS), params(), max_size=3)),
        (
            "optimizer",
            st.dictionaries(
                st.sampled_from(("name", "learning_rate", "weight_decay", "batch_size", "lr")),
                params(),
                max_size=3,
            ),
        ),
        ("extra", SCALARS),
    ):
        if draw(st.integers(0, 3)) == 0:
            document[key] = draw(value)
    return draw(st.one_of(st.just(document), st.just(document), wrapped(document), junk()))


def int_values(low: int, high: int) -> st.SearchStrategy:
    """Ints in [low, high], now and then a huge one."""
    return st.one_of(st.integers(low, high), st.integers(low, high), st.just(10**9), st.just(2**62))


VALUES: dict[str, st.SearchStrategy] = {
    "features": int_values(1, 64),
    "kernel_size": int_values(1, 9),
    "stride": int_values(1, 4),
    "window": int_values(1, 4),
    "padding": st.sampled_from(PADDINGS),
    "activation": st.sampled_from(ACTIVATIONS),
    "norm": st.sampled_from(NORMS),
    "dropout": st.floats(0, 0.9),
    "rate": st.floats(0, 0.9),
    "cell": st.sampled_from(RNN_CELLS),
    "bidirectional": st.booleans(),
    "nodes": int_values(2, 5),
    "ops": st.sampled_from(EDGE_OPS),
    "reduction": st.booleans(),
}
KIND_VALUES = {"pool": POOL_KINDS, "global_pool": POOL_KINDS, "norm": ("batch", "layer")}
# Layer types that keep each kind of tensor as it is, and those that end in a flat one.
KEEP = {
    "flat": ("dense", "norm", "dropout"),
    "sequence": ("conv", "pool", "recurrent", "norm", "dropout"),
    "image": ("conv", "pool", "norm", "dropout", "cell", "activation"),
}


@st.composite
def good_param(draw: st.DrawFn, name: str, layer_type: str) -> Any:
    """A valid parameter of the field: a literal, choices or a range (huge ones too)."""
    values = st.sampled_from(KIND_VALUES[layer_type]) if name == "kind" else VALUES[name]
    form = draw(st.integers(0, 3))
    if form == 0:
        return draw(values)
    if form == 1 or name not in ("features", "kernel_size", "stride", "window", "dropout", "rate"):
        return {"choices": draw(st.lists(values, min_size=1, max_size=5, unique=True))}
    if name in ("dropout", "rate"):
        low = draw(st.floats(0, 0.4))
        return {"low": low, "high": draw(st.floats(low, 0.9))}
    low = draw(st.integers(1, 5))
    high = low + draw(st.one_of(st.integers(0, 8), st.just(10**6), st.just(10**9)))
    return {"low": low, "high": high}


@st.composite
def good_layer(draw: st.DrawFn, layer_type: str) -> dict[str, Any]:
    fields = [f for f in LAYER_FIELD_NAMES[layer_type] if f != "stride" or layer_type != "pool"]
    chosen = draw(st.lists(st.sampled_from(fields), unique=True)) if fields else []
    layer = {"type": layer_type, **{f: draw(good_param(f, layer_type)) for f in chosen}}
    if layer_type in ("dense", "conv", "recurrent", "cell"):
        layer.setdefault("features", draw(good_param("features", layer_type)))
    if layer_type == "cell":
        layer.setdefault("ops", draw(good_param("ops", layer_type)))
    if draw(st.integers(0, 2)) == 0:
        high = draw(st.integers(0, 6))
        layer["repeat"] = draw(st.one_of(st.integers(0, 3), st.just({"low": 0, "high": high})))
    return layer


@st.composite
def good_spaces(draw: st.DrawFn) -> dict[str, Any]:
    """A space that is valid as written (shapes aside), sometimes with one value spoilt."""
    kind = draw(st.sampled_from(("flat", "sequence", "image")))
    types = draw(st.lists(st.sampled_from(KEEP[kind]), min_size=0, max_size=4))
    if kind != "flat" and draw(st.booleans()):
        types.append(draw(st.sampled_from(("global_pool", "dense"))))
        types += draw(st.lists(st.sampled_from(KEEP["flat"]), max_size=2))
    types = types or ["dense"]
    layers: list[Any] = [draw(good_layer(t)) for t in types]
    if draw(st.booleans()):
        # Several layers many times over: aliases in the text, and many layers in total.
        layers = layers * draw(st.integers(1, 400 if LONG else 100))
    document: dict[str, Any] = {"name": "fuzz", "input": kind, "layers": layers}
    if draw(st.booleans()):
        document["skip"] = draw(
            st.one_of(st.sampled_from(SKIPS), st.just({"choices": list(SKIPS)}))
        )
    used = {f for layer in layers for f in LAYER_FIELD_NAMES[layer["type"]]}
    shareable = sorted(used & {"activation", "kernel_size", "stride", "norm"})
    if shareable and draw(st.booleans()):
        names = draw(st.lists(st.sampled_from(shareable), unique=True, max_size=2))
        document["shared"] = {n: draw(good_param(n, "conv")) for n in names}
    if draw(st.booleans()):
        document["optimizer"] = {
            "learning_rate": {"low": 1e-4, "high": 1e-2, "log": True},
            "batch_size": draw(st.one_of(st.integers(1, 128), st.just({"choices": [16, 32]}))),
        }
    if draw(st.integers(0, 3)) == 0:
        spoilt = draw(st.sampled_from(range(len(layers))))
        layers[spoilt] = {**layers[spoilt], draw(st.sampled_from(FIELDS)): draw(SCALARS)}
    return document


def wrapped(document: Any) -> st.SearchStrategy:
    """``document`` with one of its values replaced by a hostile one."""

    def put(key: str, value: Any) -> Any:
        return {**document, key: value} if isinstance(document, dict) else value

    return st.one_of(
        st.builds(put, st.sampled_from(("name", "layers", "shared")), bombs()),
        st.builds(put, st.sampled_from(("name", "layers", "skip")), nested()),
    )


def bombs() -> st.SearchStrategy:
    """Billion laughs: ``width`` copies of the level below, ``levels`` deep, one object per
    level (so a few hundred bytes of YAML)."""

    def build(levels: int, width: int) -> Any:
        value: Any = ["lol"] * width
        for _ in range(levels):
            value = [value] * width
        return value

    return st.builds(build, st.integers(1, 12), st.integers(2, 10))


def nested() -> st.SearchStrategy:
    def build(depth: int, mapping: bool) -> Any:
        value: Any = 1
        for _ in range(depth):
            value = {"a": value} if mapping else [value]
        return value

    return st.builds(build, st.integers(1, 150), st.booleans())


def to_yaml(document: Any) -> str:
    return yaml.safe_dump(document, sort_keys=False, width=200)


@st.composite
def damaged(draw: st.DrawFn, text: str) -> str:
    """``text`` with a few characters cut, inserted or replaced."""
    chars = list(text)
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(chars)))
        new = draw(st.sampled_from([*list("{}[]:,&*!|>-'\"#%@`\n\t "), "\x00", "é"]))
        op = draw(st.integers(0, 2))
        if op == 0 and at < len(chars):
            del chars[at]
        elif op == 1:
            chars.insert(at, new)
        elif at < len(chars):
            chars[at] = new
    return "".join(chars)


@st.composite
def space_texts(draw: st.DrawFn) -> str:
    """A space file's text: a written document, sometimes damaged, or raw hostile text."""
    document = draw(st.one_of(space_documents(), *[good_spaces()] * 4))
    text = to_yaml(document)
    choice = draw(st.integers(0, 19))
    if choice == 0:
        return draw(damaged(text))
    if choice == 1:
        depth = draw(st.integers(60, 12_000 if LONG else 1000))
        return "name: " + "{a: " * depth + "1" + "}" * depth + "\n"
    if choice == 2:
        return draw(st.text(max_size=60))
    if choice == 3:
        return "name: &a [x, *a]\ninput: flat\nlayers: [{type: dense, features: 8}]\n"
    return text


def shapes(kind: str) -> st.SearchStrategy:
    rank = {"flat": 1, "sequence": 2, "image": 3}[kind]
    return st.tuples(*[st.integers(0, 40)] * rank)


ARCH_FIELDS = ("skip", "optimizer", "learning_rate", "weight_decay", "batch_size")


@st.composite
def stored_architectures(draw: st.DrawFn) -> Any:
    """An architecture's JSON as a store may hold it after an edit: a valid one with fields
    changed, removed or added, damaged text, or anything."""
    layers = draw(st.lists(st.sampled_from(list(LAYER_TYPES)), min_size=0, max_size=4))
    data: dict[str, Any] = {
        "layers": [
            {"type": name, **({"features": 4} if name in ("dense", "conv", "recurrent") else {})}
            for name in layers
        ],
    }
    for _ in range(draw(st.integers(0, 3))):
        target = data
        layers_now = data.get("layers")
        listed = layers_now if isinstance(layers_now, list) else []
        dicts = [layer for layer in listed if isinstance(layer, dict)]
        if dicts and draw(st.booleans()):
            target = draw(st.sampled_from(dicts))
        key = draw(st.sampled_from((*FIELDS, *ARCH_FIELDS, "type", "layers", "other")))
        if draw(st.integers(0, 4)) == 0:
            target.pop(key, None)
        else:
            target[key] = draw(st.one_of(SCALARS, junk()))
    text = draw(st.one_of(st.builds(_json, st.just(data)), st.text(max_size=30)))
    return draw(st.one_of(st.just(text), damaged(text), junk()))


def _json(data: Any) -> str:
    return json.dumps(data)
