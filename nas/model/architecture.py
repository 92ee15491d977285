"""One candidate network: a frozen value with a canonical JSON form and a signature.

An :class:`Architecture` is the ordered list of layers plus the skip-connection kind and the
optimizer hyperparameters. Two equal architectures have equal JSON. The *signature* is the
part that decides the compiled program's shapes; fields listed in ``TRACED`` (learning rate,
weight decay, dropout rates) are left out of it, so candidates that differ only there share
one compiled program; a dropout rate of exactly 0 stays in (no mask is drawn for it). The
seed is not part of an architecture at all.

:meth:`Architecture.from_dict` and :meth:`Architecture.from_json` read values from outside
(a store, a file), so they check every field's type and allowed values as a space file is
checked, and raise :class:`ArchitectureError` naming the field; nothing read is executed.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

from nas.checks import is_finite_number, is_int, short, shown
from nas.errors import UserError
from nas.model.ops import ACTIVATION_OPS, CELL_OPS, NORM_OPS, POOL_OPS

# The names with an op behind them come from that op's table in nas.model.ops.
ACTIVATIONS = tuple(ACTIVATION_OPS)
NORMS = ("none", *NORM_OPS)
SKIPS = ("none", "residual", "dense")
POOL_KINDS = tuple(POOL_OPS)
PADDINGS = ("same", "valid")
CELLS = tuple(CELL_OPS)
OPTIMIZERS = ("adamw", "adam", "sgd")


@dataclass(frozen=True)
class Dense:
    """Fully connected block: dense -> norm -> activation -> dropout.

    Applied to a non-flat input it flattens it first.
    """

    type: ClassVar[str] = "dense"
    features: int
    activation: str = "relu"
    norm: str = "none"
    dropout: float = 0.0


@dataclass(frozen=True)
class Conv:
    """Convolution block (1-D on sequences, 2-D on images): conv, norm, activation, dropout."""

    type: ClassVar[str] = "conv"
    features: int
    kernel_size: int = 3
    stride: int = 1
    padding: str = "same"
    activation: str = "relu"
    norm: str = "none"
    dropout: float = 0.0


@dataclass(frozen=True)
class Pool:
    """Max or average pooling over the spatial axes; ``stride`` defaults to ``window``."""

    type: ClassVar[str] = "pool"
    kind: str = "max"
    window: int = 2
    stride: int | None = None


@dataclass(frozen=True)
class GlobalPool:
    """Max or average over all spatial axes: sequence/image -> flat."""

    type: ClassVar[str] = "global_pool"
    kind: str = "avg"


@dataclass(frozen=True)
class Norm:
    """A standalone batch or layer normalisation."""

    type: ClassVar[str] = "norm"
    kind: str = "layer"


@dataclass(frozen=True)
class Dropout:
    """A standalone dropout layer; ``rate`` in [0, 1)."""

    type: ClassVar[str] = "dropout"
    rate: float = 0.5


@dataclass(frozen=True)
class Recurrent:
    """GRU or LSTM over a sequence, returning the whole sequence: recurrent -> dropout."""

    type: ClassVar[str] = "recurrent"
    features: int
    cell: str = "gru"
    bidirectional: bool = False
    dropout: float = 0.0


Layer = Dense | Conv | Pool | GlobalPool | Norm | Dropout | Recurrent
LAYER_TYPES: dict[str, type] = {
    cls.type: cls for cls in (Dense, Conv, Pool, GlobalPool, Norm, Dropout, Recurrent)
}
# Layer fields that are fed to the compiled program as traced values.
TRACED_LAYER_FIELDS = ("dropout", "rate")
# Architecture fields that are fed to the compiled program as traced values.
TRACED = ("learning_rate", "weight_decay")


class ArchitectureError(ValueError):
    """An architecture value (a dict or JSON text) that is not one this toolkit builds.

    ``field`` is the path of the wrong part (``layers[1].features``; empty for the whole
    value), ``problem`` one sentence; ``str(err)`` is ``field: problem``.
    """

    def __init__(self, field: str, problem: str) -> None:
        self.field = field
        self.problem = problem
        super().__init__(f"{field}: {problem}" if field else problem)

    def in_trial(self, study: str, trial: int) -> UserError:
        """This error as a user sees it when the value is trial ``trial``'s ``architecture``
        attribute in the store of ``study``: a :class:`~nas.errors.UserError` naming both."""
        field = f"architecture.{self.field}" if self.field else "architecture"
        return UserError(
            f"study {short(study)}, trial {trial}: the stored {field} is invalid: {self.problem}"
        )


# What each field accepts, as (test, the accepted values in words); the same values a space
# file accepts for it (nas.space.fields), so every candidate a space draws reads back.
Rule = tuple[Callable[[Any], bool], str]


def _one_of(names: tuple[str, ...]) -> Rule:
    return (lambda v: isinstance(v, str) and v in names), f"one of {', '.join(names)}"


_POSITIVE: Rule = (lambda v: is_int(v) and v >= 1), "a positive int"
_RATE: Rule = (lambda v: is_finite_number(v) and 0 <= v < 1), "a number in [0, 1)"
_LAYER_RULES: dict[str, Rule] = {
    "features": _POSITIVE,
    "kernel_size": _POSITIVE,
    "stride": _POSITIVE,
    "window": _POSITIVE,
    "activation": _one_of(ACTIVATIONS),
    "norm": _one_of(NORMS),
    "padding": _one_of(PADDINGS),
    "cell": _one_of(CELLS),
    "bidirectional": ((lambda v: isinstance(v, bool)), "true or false"),
    "dropout": _RATE,
    "rate": _RATE,
}
# Fields whose meaning depends on the layer type.
_TYPE_RULES: dict[tuple[str, str], Rule] = {
    ("pool", "kind"): _one_of(POOL_KINDS),
    ("global_pool", "kind"): _one_of(POOL_KINDS),
    ("norm", "kind"): _one_of(tuple(NORM_OPS)),
    ("pool", "stride"): ((lambda v: v is None or _POSITIVE[0](v)), "a positive int or null"),
}
_ARCHITECTURE_RULES: dict[str, Rule] = {
    "skip": _one_of(SKIPS),
    "optimizer": _one_of(OPTIMIZERS),
    "learning_rate": ((lambda v: is_finite_number(v) and v > 0), "a finite number > 0"),
    "weight_decay": ((lambda v: is_finite_number(v) and v >= 0), "a finite number >= 0"),
    "batch_size": _POSITIVE,
}


def _checked(value: Any, rule: Rule, field: str) -> Any:
    test, words = rule
    if not test(value):
        raise ArchitectureError(field, f"expected {words}, found {shown(value)}")
    return value


def layer_to_dict(layer: Layer) -> dict[str, Any]:
    """``{"type": ..., **fields}`` with every field spelled out (defaults included)."""
    return {"type": layer.type, **dataclasses.asdict(layer)}


def layer_from_dict(data: Any, field: str = "layer") -> Layer:
    """Inverse of :func:`layer_to_dict` (fields left out take their defaults); raises
    :class:`ArchitectureError` at ``field`` or below it on an unknown type or field, a
    missing required field or a value the field does not accept."""
    if not isinstance(data, dict):
        raise ArchitectureError(field, f"expected a layer (a mapping), found {shown(data)}")
    values = dict(data)
    kind = values.pop("type", None)
    if not isinstance(kind, str) or kind not in LAYER_TYPES:
        raise ArchitectureError(
            f"{field}.type",
            f"unknown layer type {short(kind)}; expected one of {sorted(LAYER_TYPES)}",
        )
    cls = LAYER_TYPES[kind]
    fields = dataclasses.fields(cls)
    unknown = sorted(short(key) for key in values if key not in {f.name for f in fields})
    if unknown:
        raise ArchitectureError(
            field, f"unknown field(s) {', '.join(unknown)} for layer type {kind!r}"
        )
    for f in fields:
        if f.name in values:
            rule = _TYPE_RULES.get((kind, f.name)) or _LAYER_RULES[f.name]
            _checked(values[f.name], rule, f"{field}.{f.name}")
        elif f.default is dataclasses.MISSING:
            raise ArchitectureError(
                f"{field}.{f.name}", f"missing required field for a {kind} layer"
            )
    return cls(**values)


@dataclass(frozen=True)
class Architecture:
    """A candidate: layers, skip kind and optimizer hyperparameters.

    The classifier head (flatten, then a dense layer to the number of classes) is implied and
    not listed. ``skip``: ``none``; ``residual`` adds each dense/conv/recurrent block's input
    to its output (projected when the feature counts differ, left out where the spatial shape
    changes); ``dense`` feeds each such block the concatenation of all earlier outputs of the
    same spatial shape, the network input included.
    """

    layers: tuple[Layer, ...]
    skip: str = "none"
    optimizer: str = "adamw"
    learning_rate: float = 1e-3
    weight_decay: float = 0.0
    batch_size: int = 64

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able dict; ``from_dict(to_dict())`` is equal to ``self``."""
        return {
            "layers": [layer_to_dict(layer) for layer in self.layers],
            "skip": self.skip,
            "optimizer": self.optimizer,
            "learning_rate": self.learning_rate,
            "weight_decay": self.weight_decay,
            "batch_size": self.batch_size,
        }

    @classmethod
    def from_dict(cls, data: Any) -> Architecture:
        """The architecture :meth:`to_dict` wrote, every field checked (fields other than
        ``layers`` may be left out for their defaults); raises :class:`ArchitectureError`."""
        if not isinstance(data, dict):
            raise ArchitectureError("", f"expected a mapping with layers, found {shown(data)}")
        values = dict(data)
        if "layers" not in values:
            raise ArchitectureError("layers", "missing required field")
        items = values.pop("layers")
        if not isinstance(items, list):
            raise ArchitectureError("layers", f"expected a list of layers, found {shown(items)}")
        unknown = sorted(short(key) for key in values if key not in _ARCHITECTURE_RULES)
        if unknown:
            raise ArchitectureError("", f"unknown field(s) {', '.join(unknown)}")
        for name, value in values.items():
            _checked(value, _ARCHITECTURE_RULES[name], name)
        layers = tuple(layer_from_dict(item, f"layers[{i}]") for i, item in enumerate(items))
        return cls(layers=layers, **values)

    def to_json(self) -> str:
        """Canonical JSON: sorted keys, no whitespace; equal architectures give equal strings."""
        return json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: Any) -> Architecture:
        """Read :meth:`to_json`'s text, checked as :meth:`from_dict` checks; text that is not
        JSON (or not text) raises :class:`ArchitectureError` too."""
        if not isinstance(text, str | bytes):
            raise ArchitectureError("", f"expected JSON text, found {shown(text)}")
        try:
            data = json.loads(text)
        except (ValueError, RecursionError) as err:
            # ValueError: malformed text, or an int past Python's 4300-digit limit;
            # RecursionError: nesting deeper than the decoder's recursion allows.
            raise ArchitectureError("", f"not valid JSON: {err}") from None
        return cls.from_dict(data)

    def signature(self) -> str:
        """Canonical JSON of what decides compiled shapes (traced fields removed)."""
        data = self.to_dict()
        for name in TRACED:
            data.pop(name)
        for layer in data["layers"]:
            for name in TRACED_LAYER_FIELDS:
                # A rate of exactly 0 stays: such a layer's program draws no dropout mask.
                if layer.get(name, 0) != 0:
                    layer.pop(name)
        return json.dumps(data, sort_keys=True, separators=(",", ":"))

    def signature_hash(self) -> str:
        """Short stable hash of :meth:`signature` (for logs and file names)."""
        return hashlib.sha256(self.signature().encode()).hexdigest()[:12]

    def dropout_rates(self) -> tuple[float, ...]:
        """Per-layer dropout rate (0.0 for layers without one), in layer order."""
        return tuple(
            float(getattr(layer, "dropout", getattr(layer, "rate", 0.0))) for layer in self.layers
        )
