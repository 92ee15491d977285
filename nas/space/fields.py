"""What each field of a space file accepts: layer fields, ``repeat``, ``skip`` and optimizer.

Layer fields are exactly the dataclass fields of ``nas.model.architecture.LAYER_TYPES``; each gets a
:class:`FieldSpec`. :func:`parse_field` reads a parameter (see :mod:`nas.space.params`) and
checks every value it can take (the literal, each choice, both ends of a range) against the
spec, reading ints as floats for float fields.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from nas.checks import Bounds, did_you_mean, is_choice, is_int, is_number, short
from nas.errors import SpecError
from nas.model.architecture import (
    ACTIVATIONS,
    EDGE_OPS,
    LAYER_TYPES,
    MAX_CELL_NODES,
    NORMS,
    OPTIMIZERS,
    PADDINGS,
    POOL_KINDS,
    RNN_CELLS,
    SKIPS,
    cell_edges,
)
from nas.space.params import (
    Choice,
    Fixed,
    FloatRange,
    IntRange,
    Param,
    PerEdge,
    found,
    parse_param,
)

# Repeats are enumerated when counting candidates and checking shapes; a bound keeps that cheap.
MAX_REPEAT = 64
# Layers a candidate may have, and templates a space may list: far more than any network
# trained here, few enough that listing, sampling and checking them stays quick.
MAX_LAYERS = 1000


@dataclass(frozen=True)
class FieldSpec:
    """The values one field accepts.

    ``kind`` is ``int``, ``float``, ``bool`` or ``str``; ``expect`` says in words what is
    accepted (for messages); ``bounds`` narrows numbers; ``options`` lists the allowed strings,
    named ``label`` in messages; ``nullable`` also allows ``null``.
    """

    kind: str
    expect: str
    bounds: Bounds | None = None
    options: tuple[str, ...] = ()
    label: str = ""
    nullable: bool = False


def _enum(label: str, options: tuple[str, ...]) -> FieldSpec:
    return FieldSpec("str", f"one of {', '.join(options)}", options=options, label=label)


def _number(kind: str, bounds: Bounds, expect: str = "") -> FieldSpec:
    """An ``int`` or ``float`` field; ``expect`` defaults to the bounds in words."""
    noun = "an int" if kind == "int" else "a float"
    return FieldSpec(kind, expect or f"{noun} {bounds}", bounds)


POSITIVE_INT = _number("int", Bounds(1), "a positive int")
RATE = _number("float", Bounds(0, 1, high_open=True))
REPEAT = _number("int", Bounds(0, MAX_REPEAT))
SKIP = _enum("skip", SKIPS)

_BY_NAME: dict[str, FieldSpec] = {
    "features": POSITIVE_INT,
    "kernel_size": POSITIVE_INT,
    "stride": POSITIVE_INT,
    "window": POSITIVE_INT,
    "activation": _enum("activation", ACTIVATIONS),
    "norm": _enum("norm", NORMS),
    "padding": _enum("padding", PADDINGS),
    "cell": _enum("cell", RNN_CELLS),
    "bidirectional": FieldSpec("bool", "true or false"),
    # A cell's node count is fixed (its ops list depends on it); each edge's op may be drawn.
    "nodes": _number("int", Bounds(2, MAX_CELL_NODES), f"a fixed int in [2, {MAX_CELL_NODES}]"),
    "ops": dataclasses.replace(
        _enum("cell op", EDGE_OPS),
        expect=f"one of {', '.join(EDGE_OPS)} per edge (a list, or one value for every edge)",
    ),
    "reduction": FieldSpec("bool", "true or false"),
    "dropout": RATE,
    "rate": RATE,
}
# Fields whose meaning depends on the layer type.
_BY_TYPE: dict[tuple[str, str], FieldSpec] = {
    ("pool", "kind"): _enum("pool kind", POOL_KINDS),
    ("global_pool", "kind"): _enum("pool kind", POOL_KINDS),
    # A standalone norm layer of kind "none" would be a no-op the builder does not make.
    ("norm", "kind"): _enum("norm kind", tuple(k for k in NORMS if k != "none")),
    ("pool", "stride"): dataclasses.replace(
        POSITIVE_INT, expect="a positive int or null", nullable=True
    ),
}

LAYER_FIELDS: dict[str, dict[str, FieldSpec]] = {
    name: {
        f.name: _BY_TYPE.get((name, f.name)) or _BY_NAME[f.name] for f in dataclasses.fields(cls)
    }
    for name, cls in LAYER_TYPES.items()
}
REQUIRED: dict[str, tuple[str, ...]] = {
    name: tuple(
        f.name
        for f in dataclasses.fields(cls)
        if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
    )
    for name, cls in LAYER_TYPES.items()
}

OPTIMIZER_FIELDS: dict[str, FieldSpec] = {
    "name": _enum("optimizer", OPTIMIZERS),
    "learning_rate": _number("float", Bounds(0, low_open=True)),
    "weight_decay": _number("float", Bounds(0)),
    "batch_size": POSITIVE_INT,
}
# Optimizer keys of a space file -> fields of nas.model.architecture.Architecture.
OPTIMIZER_ATTRS = {
    "name": "optimizer",
    "learning_rate": "learning_rate",
    "weight_decay": "weight_decay",
    "batch_size": "batch_size",
}


def parse_field(raw: Any, spec: FieldSpec, source: str, path: str) -> Param:
    """Read ``raw`` as a parameter of a field with ``spec``; raises :class:`SpecError`."""
    param = parse_param(raw, source, path, as_float=spec.kind == "float")
    if isinstance(param, Fixed):
        return Fixed(check_value(param.value, spec, source, path))
    if isinstance(param, Choice):
        return Choice(
            tuple(
                check_value(v, spec, source, f"{path}.choices[{i}]")
                for i, v in enumerate(param.choices)
            )
        )
    if spec.kind not in ("int", "float"):
        raise SpecError(
            source, path, f"expected {spec.expect}, found a range; use {{choices: [...]}}"
        )
    if spec.kind == "int" and isinstance(param, FloatRange):
        raise SpecError(
            source,
            path,
            f"expected int bounds ({spec.expect}), found low={param.low}, high={param.high}"
            + (f", step={param.step}" if param.step is not None else ""),
        )
    assert isinstance(param, IntRange | FloatRange)
    check_value(param.low, spec, source, f"{path}.low")
    check_value(param.high, spec, source, f"{path}.high")
    return param


def check_value(value: Any, spec: FieldSpec, source: str, path: str) -> Any:
    """``value`` if ``spec`` accepts it (ints made floats for float fields); else raises."""
    if value is None and spec.nullable:
        return None
    wrong = SpecError(source, path, f"expected {spec.expect}, found {found(value)}")
    if spec.kind == "bool":
        if not isinstance(value, bool):
            raise wrong
        return value
    if spec.kind == "str":
        if not isinstance(value, str):
            raise wrong
        if not is_choice(value, spec.options):
            raise SpecError(
                source,
                path,
                f"unknown {spec.label} {short(value)}; expected {spec.expect}"
                + did_you_mean(value, spec.options),
            )
        return value
    if not (is_int(value) if spec.kind == "int" else is_number(value)):
        raise wrong
    if spec.kind == "float":
        value = float(value)
    if spec.bounds is not None and not spec.bounds(value):
        raise SpecError(source, path, f"expected {spec.expect}, found {short(value)}")
    return value


def cell_nodes(fields: dict[str, Param], source: str, path: str) -> int:
    """The node count of a cell option whose parsed fields are ``fields`` (default 4); raises
    :class:`SpecError` at ``path.nodes`` when it is drawn, since the ops list depends on it."""
    nodes = fields.get("nodes", Fixed(4))
    if not isinstance(nodes, Fixed):
        raise SpecError(
            source,
            f"{path}.nodes",
            "a cell's nodes must be a fixed int, not drawn: its ops list has one entry per edge",
        )
    return nodes.value


def parse_ops(raw: Any, nodes: int, source: str, path: str) -> PerEdge:
    """A cell's ``ops`` for ``nodes`` nodes: a list with one op parameter per edge (in
    :func:`~nas.model.architecture.cell_edges` order), or one op parameter (a literal or
    ``{choices: [...]}``) that every edge takes, each edge drawing its own value. Raises
    :class:`SpecError` at ``path`` or below it."""
    spec = _BY_NAME["ops"]
    edges = len(cell_edges(nodes))
    if not isinstance(raw, list):
        param = parse_field(raw, spec, source, path)
        assert isinstance(param, Fixed | Choice)
        return PerEdge((param,) * edges)
    if len(raw) != edges:
        raise SpecError(
            source,
            path,
            f"expected {edges} ops, one per edge of a {nodes}-node cell "
            f"(1<-0, 2<-0, 2<-1, ...), found {len(raw)}",
        )
    items = []
    for e, item in enumerate(raw):
        param = parse_field(item, spec, source, f"{path}[{e}]")
        assert isinstance(param, Fixed | Choice)
        items.append(param)
    return PerEdge(tuple(items))
