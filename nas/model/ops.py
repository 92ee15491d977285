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
CELL_OPS: dict[str, Op] = {"gru": Op("nn", "GRUCell"), "lstm": Op("nn", "OptimizedLSTMCell")}
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
