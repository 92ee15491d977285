"""Architecture -> Flax module.

:func:`build_model` turns an :class:`~nas.model.architecture.Architecture` into a
:class:`CandidateNet`. Submodule names are part of the contract, because exported code loads
the same parameter trees: ``layer{i}`` is layer ``i``'s op (Dense, Conv, RNN or
Bidirectional; the norm module of a standalone norm layer), ``layer{i}_norm`` a block's norm,
``layer{i}_proj`` a residual projection and ``head`` the classifier.

Dropout rates enter as a traced array (one rate per layer), so candidates that differ only in
their rates share one compiled program.
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Callable, Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp

from nas.model.architecture import (
    ACTIVATIONS,
    CELLS,
    NORMS,
    PADDINGS,
    POOL_KINDS,
    SKIPS,
    Architecture,
    Conv,
    Dense,
    Dropout,
    GlobalPool,
    Layer,
    Norm,
    Pool,
    Recurrent,
)
from nas.model.ops import ACTIVATION_OPS, CELL_OPS, NAMESPACES, NORM_OPS, POOL_OPS, Op
from nas.model.wiring import NETWORK_INPUT, skip_plan


def _resolve(op: Op) -> Callable:
    """The object ``op`` names, with its keyword arguments bound."""
    fn = getattr(importlib.import_module(NAMESPACES[op.namespace]), op.attribute)
    return functools.partial(fn, **dict(op.kwargs)) if op.kwargs else fn


def _identity(x: jax.Array) -> jax.Array:
    return x


ACTIVATION_FNS: dict[str, Callable[[jax.Array], jax.Array]] = {
    name: _identity if op is None else _resolve(op) for name, op in ACTIVATION_OPS.items()
}
CELL_TYPES: dict[str, type[nn.RNNCellBase]] = {name: _resolve(op) for name, op in CELL_OPS.items()}


def build_model(arch: Architecture, num_classes: int) -> CandidateNet:
    """The Flax module for ``arch`` with a ``num_classes``-way head; pure (no randomness).

    Raises ``ValueError`` for ``num_classes < 1`` or a name (activation, norm, padding, pool
    kind, cell, skip) that :mod:`nas.model.architecture` does not know. Input shapes are checked
    when the module is applied (:class:`nas.model.shapes.ShapeError`).
    """
    if num_classes < 1:
        raise ValueError(f"num_classes must be at least 1, got {num_classes=}")
    _check_names(arch)
    return CandidateNet(arch=arch, num_classes=num_classes)


def _mix(h: jax.Array) -> jax.Array:
    """MurmurHash3's 32-bit finaliser: every input bit flips about half the output bits."""
    h = h ^ (h >> 16)
    h = h * jnp.uint32(0x85EBCA6B)
    h = h ^ (h >> 13)
    h = h * jnp.uint32(0xC2B2AE35)
    return h ^ (h >> 16)


def layer_seed(seed: jax.Array, layer: int) -> jax.Array:
    """The dropout seed of layer ``layer`` derived from a step's uint32 ``seed``."""
    return _mix(jnp.asarray(seed, jnp.uint32) ^ jnp.uint32((0x9E3779B9 * (layer + 1)) % 2**32))


def dropout(x: jax.Array, rate: float | jax.Array, seed: jax.Array) -> jax.Array:
    """Inverted dropout with a possibly traced ``rate`` in [0, 1): zero each entry with
    probability ``rate``, scale survivors by ``1 / (1 - rate)``. Rate 0 returns ``x`` exactly.

    The mask comes from a counter-based hash of (``seed``, element index): a uint32 ``seed``
    gives the same mask every time, different seeds independent-looking ones. It compiles to a
    handful of integer operations; threefry or philox code costs XLA several times as long to
    compile, which dominates a small model's trial on a CPU.
    """
    counter = jax.lax.iota(jnp.uint32, x.size).reshape(x.shape)
    bits = _mix(counter * jnp.uint32(0x9E3779B1) + _mix(jnp.asarray(seed, jnp.uint32)))
    uniform = (bits >> 8).astype(jnp.float32) * (1.0 / (1 << 24))
    keep = 1.0 - rate
    return jnp.where(uniform < keep, x / keep, 0.0)


class CandidateNet(nn.Module):
    """The network of one architecture.

    ``__call__(x, train=False, dropout_rates=None)``: ``x`` is ``(batch, *input_shape)``
    (flat ``(B, D)``, sequence ``(B, T, C)`` or image ``(B, H, W, C)``); returns float32
    logits ``(batch, num_classes)``. With ``train=True`` dropout needs a uint32
    ``dropout_seed`` (one per step) or else the ``dropout`` rng, and batch norm needs
    ``mutable=["batch_stats"]``. ``dropout_rates`` is a float array of shape
    ``(len(arch.layers),)`` (entries of layers without dropout are ignored); left out in
    training, the architecture's own rates are used.

    Skips are wired as :func:`nas.model.wiring.skip_plan` plans them for ``x``'s static shape;
    the head always takes the last layer's output alone.

    Raises :class:`~nas.model.shapes.ShapeError` when a layer cannot apply to ``x``'s shape and
    ``ValueError`` when ``dropout_rates`` has the wrong shape.
    """

    arch: Architecture
    num_classes: int

    @nn.compact
    def __call__(
        self,
        x: jax.Array,
        train: bool = False,
        dropout_rates: jax.Array | None = None,
        dropout_seed: jax.Array | None = None,
    ) -> jax.Array:
        # Planned from the static shape; also fails with the layer index and reason rather
        # than deep inside a Flax op.
        plan = skip_plan(self.arch, tuple(x.shape[1:]))
        rates = self._rates(dropout_rates)
        if train and dropout_seed is None:
            dropout_seed = jax.random.bits(self.make_rng("dropout"), dtype=jnp.uint32)
        x = jnp.asarray(x, jnp.float32)
        kept: dict[int, jax.Array] = {}  # tensors that later dense-skip concatenations read
        if NETWORK_INPUT in plan.kept:
            kept[NETWORK_INPUT] = x
        for wiring in plan.layers:
            i, layer = wiring.index, wiring.layer
            if wiring.block:
                inputs = x
                if wiring.concat:
                    inputs = jnp.concatenate([*(kept[j] for j in wiring.concat), x], axis=-1)
                x = _block(layer, i, inputs, train)
                x = self._dropout(x, rates, i, train, dropout_seed)
                if wiring.residual:
                    skip = inputs
                    if wiring.projection:
                        skip = nn.Dense(x.shape[-1], use_bias=False, name=f"layer{i}_proj")(skip)
                    x = x + skip
            else:
                x = _plain_layer(layer, i, x, train)
                if isinstance(layer, Dropout):
                    x = self._dropout(x, rates, i, train, dropout_seed)
            if i in plan.kept:
                kept[i] = x
        x = x.reshape(x.shape[0], -1)
        return nn.Dense(self.num_classes, name="head")(x)

    def _rates(self, dropout_rates: jax.Array | None) -> jax.Array:
        n = len(self.arch.layers)
        if dropout_rates is None:
            return jnp.asarray(self.arch.dropout_rates(), jnp.float32)
        rates = jnp.asarray(dropout_rates, jnp.float32)
        if rates.shape != (n,):
            raise ValueError(
                f"dropout_rates must have shape ({n},), one rate per layer; got {rates.shape}"
            )
        return rates

    def _dropout(
        self, x: jax.Array, rates: jax.Array, i: int, train: bool, seed: jax.Array | None
    ) -> jax.Array:
        # A rate that is 0 in the architecture draws no mask (it is part of the signature);
        # every other rate is traced, and each layer's mask has its own seed, so the random
        # stream of one layer does not depend on whether another draws a mask.
        if not train or self.arch.dropout_rates()[i] == 0:
            return x
        return dropout(x, rates[i], layer_seed(seed, i))


def _block(layer: Dense | Conv | Recurrent, i: int, x: jax.Array, train: bool) -> jax.Array:
    """A block up to (not including) its dropout: op -> norm -> activation, or recurrent."""
    name = f"layer{i}"
    if isinstance(layer, Recurrent):
        return _recurrent(layer, name)(x)
    if isinstance(layer, Dense):
        x = x.reshape(x.shape[0], -1)
        x = nn.Dense(layer.features, name=name)(x)
    else:
        n_spatial = x.ndim - 2
        x = nn.Conv(
            layer.features,
            kernel_size=(layer.kernel_size,) * n_spatial,
            strides=(layer.stride,) * n_spatial,
            padding=layer.padding.upper(),
            name=name,
        )(x)
    if layer.norm != "none":
        x = _norm(layer.norm, train, f"{name}_norm")(x)
    return ACTIVATION_FNS[layer.activation](x)


def _recurrent(layer: Recurrent, name: str) -> nn.Module:
    # parent=None keeps the cells and inner RNNs out of the enclosing module's namespace, so
    # their parameters nest under ``name``: ``name/cell`` or ``name/{forward,backward}_rnn/cell``.
    cell_type = CELL_TYPES[layer.cell]
    if layer.bidirectional:
        forward = nn.RNN(cell_type(layer.features, parent=None), parent=None)
        backward = nn.RNN(cell_type(layer.features, parent=None), parent=None)
        return nn.Bidirectional(forward, backward, name=name)
    return nn.RNN(cell_type(layer.features, parent=None), name=name)


def _norm(kind: str, train: bool, name: str) -> nn.Module:
    mode = {"use_running_average": not train} if kind == "batch" else {}
    return _resolve(NORM_OPS[kind])(**mode, name=name)


def _plain_layer(layer: Layer, i: int, x: jax.Array, train: bool) -> jax.Array:
    """Pool, global pool or norm; a standalone dropout layer passes through (applied by the
    caller, which holds the rates)."""
    if isinstance(layer, Pool):
        window = (layer.window,) * (x.ndim - 2)
        strides = (layer.stride or layer.window,) * (x.ndim - 2)
        pool = _resolve(POOL_OPS[layer.kind].window)
        return pool(x, window, strides=strides, padding="VALID")
    if isinstance(layer, GlobalPool):
        spatial_axes = tuple(range(1, x.ndim - 1))
        reduce = _resolve(POOL_OPS[layer.kind].reduce)
        return reduce(x, axis=spatial_axes)
    if isinstance(layer, Norm):
        return _norm(layer.kind, train, f"layer{i}")(x)
    return x


def _check_names(arch: Architecture) -> None:
    def check(value: str, allowed: Sequence[str], field: str) -> None:
        if value not in allowed:
            raise ValueError(f"{field}={value!r} is not one of {list(allowed)}")

    check(arch.skip, SKIPS, "skip")
    for i, layer in enumerate(arch.layers):
        where = f"layers[{i}]"
        if isinstance(layer, Dense | Conv):
            check(layer.activation, ACTIVATIONS, f"{where}.activation")
            check(layer.norm, NORMS, f"{where}.norm")
        if isinstance(layer, Conv):
            check(layer.padding, PADDINGS, f"{where}.padding")
        if isinstance(layer, Pool | GlobalPool):
            check(layer.kind, POOL_KINDS, f"{where}.kind")
        if isinstance(layer, Norm):
            check(layer.kind, tuple(NORM_OPS), f"{where}.kind")
        if isinstance(layer, Recurrent):
            check(layer.cell, CELLS, f"{where}.cell")
