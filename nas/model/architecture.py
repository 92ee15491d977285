"""One candidate network: a frozen value with a canonical JSON form and a signature.

An :class:`Architecture` is the ordered list of layers plus the skip-connection kind and the
optimizer hyperparameters. Two equal architectures have equal JSON. The *signature* is the
part that decides the compiled program's shapes; fields listed in ``TRACED`` (learning rate,
weight decay, dropout rates) are left out of it, so candidates that differ only there share
one compiled program. The seed is not part of an architecture at all.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass
from typing import Any, ClassVar

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


def layer_to_dict(layer: Layer) -> dict[str, Any]:
    """``{"type": ..., **fields}`` with every field spelled out (defaults included)."""
    return {"type": layer.type, **dataclasses.asdict(layer)}


def layer_from_dict(data: dict[str, Any]) -> Layer:
    """Inverse of :func:`layer_to_dict`; raises ``ValueError`` on an unknown type or field."""
    data = dict(data)
    kind = data.pop("type", None)
    if kind not in LAYER_TYPES:
        raise ValueError(f"unknown layer type {kind!r}; expected one of {sorted(LAYER_TYPES)}")
    cls = LAYER_TYPES[kind]
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - names)
    if unknown:
        raise ValueError(f"unknown field(s) {unknown} for layer type {kind!r}")
    return cls(**data)


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
    def from_dict(cls, data: dict[str, Any]) -> Architecture:
        data = dict(data)
        layers = tuple(layer_from_dict(item) for item in data.pop("layers"))
        return cls(layers=layers, **data)

    def to_json(self) -> str:
        """Canonical JSON: sorted keys, no whitespace; equal architectures give equal strings."""
        return json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> Architecture:
        return cls.from_dict(json.loads(text))

    def signature(self) -> str:
        """Canonical JSON of what decides compiled shapes (traced fields removed)."""
        data = self.to_dict()
        for name in TRACED:
            data.pop(name)
        for layer in data["layers"]:
            for name in TRACED_LAYER_FIELDS:
                layer.pop(name, None)
        return json.dumps(data, sort_keys=True, separators=(",", ":"))

    def signature_hash(self) -> str:
        """Short stable hash of :meth:`signature` (for logs and file names)."""
        return hashlib.sha256(self.signature().encode()).hexdigest()[:12]

    def dropout_rates(self) -> tuple[float, ...]:
        """Per-layer dropout rate (0.0 for layers without one), in layer order."""
        return tuple(
            float(getattr(layer, "dropout", getattr(layer, "rate", 0.0))) for layer in self.layers
        )
