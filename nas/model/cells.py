"""A cell's forward pass in Flax, as :func:`nas.model.cellplan.cell_plan` wires it.

Called inside :class:`nas.model.builder.CandidateNet`'s compact ``__call__``, so the modules
it makes are the network's own, named ``layer{i}_e{e}_conv``, ``_norm`` and ``_proj``.
"""

from __future__ import annotations

import flax.linen as nn
import jax
import jax.numpy as jnp

from nas.model.architecture import Cell
from nas.model.cellplan import EdgePlan, cell_plan

# Batch norm as everywhere in the toolkit (nas.model.ops.NORM_OPS["batch"]).
_MOMENTUM = 0.9


def _relu_conv_bn(x: jax.Array, features: int, window: int, stride: int, name: str, train):
    pad = window // 2
    x = nn.Conv(
        features,
        (window, window),
        strides=(stride, stride),
        padding=((pad, pad), (pad, pad)),
        use_bias=False,
        name=f"{name}_conv",
    )(nn.relu(x))
    return nn.BatchNorm(use_running_average=not train, momentum=_MOMENTUM, name=f"{name}_norm")(x)


def edge_forward(edge: EdgePlan, x: jax.Array, train: bool) -> jax.Array | None:
    """What ``edge`` adds to its node (``None`` for a ``none`` edge)."""
    features = edge.out_shape[-1]
    if edge.kind == "zero":
        return None
    if edge.kind == "conv":
        return _relu_conv_bn(x, features, edge.window, edge.stride, edge.name, train)
    if edge.kind == "avg":
        if edge.pre:
            x = _relu_conv_bn(x, features, 1, 1, edge.name, train)
        pad = edge.window // 2
        return nn.avg_pool(
            x,
            (edge.window, edge.window),
            strides=(edge.stride, edge.stride),
            padding=((pad, pad), (pad, pad)),
            count_include_pad=False,
        )
    if edge.pool2:
        x = nn.avg_pool(x, (2, 2), strides=(2, 2))
    if edge.proj:
        x = nn.Conv(features, (1, 1), use_bias=False, name=f"{edge.name}_proj")(x)
    return x


def cell_forward(cell: Cell, layer: int, x: jax.Array, train: bool) -> jax.Array:
    """The output (last node) of ``cell``, layer ``layer`` of its network, on ``x``
    ``(batch, height, width, channels)``."""
    edges = cell_plan(cell, layer, tuple(x.shape[1:]))
    nodes = [x]
    for j in range(1, cell.nodes):
        terms = [edge_forward(e, nodes[e.source], train) for e in edges if e.node == j]
        kept = [t for t in terms if t is not None]
        if kept:
            total = kept[0]
            for term in kept[1:]:
                total = total + term
        else:
            out = edges[0].out_shape
            total = jnp.zeros((x.shape[0], *out), x.dtype)
        nodes.append(total)
    return nodes[-1]
