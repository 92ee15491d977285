"""The op behind each name an architecture may use, written once and as data.

Each :class:`Op` names a Flax or ``jax.numpy`` object without importing it, so this module
(and :mod:`nas.model.architecture`, which takes its name tuples from these keys) needs no JAX.
:mod:`nas.model.builder` resolves the objects; :mod:`nas.results.codegen` writes them as code.
A namespace is the alias the exported code imports the module under (:data:`NAMESPACES`).
"""

from __future__ import annotations

from typing import Any, NamedTuple

NAMESPACES = {"nn": "flax.linen", "jnp": "jax.numpy"}


class Op(NamedTuple):
    """``namespace.attribute``, always called with ``kwargs`` ((name, value) pairs) after the
    arguments of the call at hand."""

    namespace: str
    attribute: str
    kwargs: tuple[tuple[str, Any], ...] = ()


# None is the identity: the builder passes the tensor through and exported code writes nothing.
ACTIVATION_OPS: dict[str, Op | None] = {
    "relu": Op("nn", "relu"),
    "gelu": Op("nn", "gelu"),
    "silu": Op("nn", "silu"),
    "swish": Op("nn", "silu"),
    "tanh": Op("jnp", "tanh"),
    "sigmoid": Op("nn", "sigmoid"),
    "elu": Op("nn", "elu"),
    "leaky_relu": Op("nn", "leaky_relu", (("negative_slope", 0.01),)),
    "identity": None,
}
# Recurrent cell classes, made as ``cls(features)``.
RNN_CELL_OPS: dict[str, Op] = {"gru": Op("nn", "GRUCell"), "lstm": Op("nn", "OptimizedLSTMCell")}
# Norm modules, made as ``cls(name=...)``; batch norm also takes ``use_running_average``,
# which is the one thing that differs between training and inference.
NORM_OPS: dict[str, Op] = {
    "batch": Op("nn", "BatchNorm", (("momentum", 0.9),)),
    "layer": Op("nn", "LayerNorm"),
}


class PoolOps(NamedTuple):
    """One pool kind: ``window(x, window, strides=..., padding=...)`` for a pool layer and
    ``reduce(x, axis=...)`` for a global pool."""

    window: Op
    reduce: Op


POOL_OPS: dict[str, PoolOps] = {
    "max": PoolOps(Op("nn", "max_pool"), Op("jnp", "max")),
    "avg": PoolOps(Op("nn", "avg_pool"), Op("jnp", "mean")),
}


class EdgeOp(NamedTuple):
    """The operation on one edge of a cell (:class:`nas.model.architecture.Cell`).

    ``kind``: ``zero`` (zeros of the edge's output shape), ``identity``, ``conv`` (ReLU, a
    bias-free ``window`` x ``window`` convolution padded by ``window // 2``, batch norm) or
    ``avg`` (average pooling over a ``window`` x ``window`` window padded by ``window // 2``,
    padding left out of the average). ``nb201``: the operation's name in NAS-Bench-201;
    ``code``: one character for it in architecture labels.
    """

    kind: str
    window: int
    nb201: str
    code: str


# The operations an edge of a cell may take, by name (NAS-Bench-201's five).
CELL_EDGE_OPS: dict[str, EdgeOp] = {
    "none": EdgeOp("zero", 0, "none", "0"),
    "skip": EdgeOp("identity", 0, "skip_connect", "s"),
    "conv1x1": EdgeOp("conv", 1, "nor_conv_1x1", "1"),
    "conv3x3": EdgeOp("conv", 3, "nor_conv_3x3", "3"),
    "avgpool3x3": EdgeOp("avg", 3, "avg_pool_3x3", "p"),
}
