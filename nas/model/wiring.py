"""Skip wiring, decided once from static shapes: what each layer reads and what it adds.

:func:`skip_plan` is the one statement of how ``Architecture.skip`` connects layers. The
builder applies it, size counting prices it and code generation writes it out, so the three
cannot disagree. Pure: shapes in, a plan out; no JAX.
"""

from __future__ import annotations

from dataclasses import dataclass

from nas.model.architecture import Architecture, Conv, Dense, Layer, Recurrent
from nas.model.shapes import Shape, trace_shapes

# Layers that learn a transform; skips (residual or dense) apply only to these.
BLOCKS = (Dense, Conv, Recurrent)
# The index that stands for the network input among the earlier tensors a layer reads.
NETWORK_INPUT = -1


@dataclass(frozen=True)
class LayerWiring:
    """How layer ``index`` is wired (shapes without the batch axis).

    ``input_shape``: the previous layer's output ``x`` (the network input for layer 0).
    ``concat``: earlier tensors (:data:`NETWORK_INPUT` or a layer index) that a dense skip
    concatenates, in this order and followed by ``x``, along the last axis as the block's
    input; empty where the layer reads ``x`` alone. ``block_input``: the shape the layer's
    op reads. ``residual``: the block's input is added to its output (after dropout);
    ``projection``: through a bias-free ``layer{index}_proj`` dense map, because the feature
    counts differ.
    """

    index: int
    layer: Layer
    input_shape: Shape
    block: bool
    concat: tuple[int, ...]
    block_input: Shape
    output_shape: Shape
    residual: bool
    projection: bool


@dataclass(frozen=True)
class SkipPlan:
    """The wiring of every layer of a network on one input shape.

    ``kept``: the tensors (:data:`NETWORK_INPUT` or a layer index) that some later
    ``concat`` reads, so they must outlive ``x``. ``output_shape``: what the head reads (the
    input shape when there are no layers).
    """

    input_shape: Shape
    layers: tuple[LayerWiring, ...]
    kept: frozenset[int]
    output_shape: Shape


def skip_plan(arch: Architecture, input_shape: Shape) -> SkipPlan:
    """The wiring of ``arch`` on ``input_shape`` (no batch axis).

    ``residual``: a block's input is added wherever the block keeps its input's spatial
    shape. ``dense``: a block reads the concatenation of every tensor of its input's spatial
    shape since the last shape change or non-block layer, the network input included.
    Raises :class:`~nas.model.shapes.ShapeError` (naming the layer) like
    :func:`~nas.model.shapes.trace_shapes`.
    """
    start = shape = tuple(input_shape)
    outputs = trace_shapes(arch.layers, start)
    # Tensors of one spatial shape since the last change: what a dense skip may concatenate.
    group: list[tuple[int, Shape]] = [(NETWORK_INPUT, shape)]
    layers = []
    for i, (layer, out) in enumerate(zip(arch.layers, outputs, strict=True)):
        block = isinstance(layer, BLOCKS)
        concat: tuple[int, ...] = ()
        if block and arch.skip == "dense":
            concat = tuple(j for j, _ in group[:-1])
        inputs = (*shape[:-1], sum(s[-1] for _, s in group)) if concat else shape
        residual = block and arch.skip == "residual" and inputs[:-1] == out[:-1]
        projection = residual and inputs[-1] != out[-1]
        layers.append(
            LayerWiring(i, layer, shape, block, concat, inputs, out, residual, projection)
        )
        same = block and out[:-1] == group[0][1][:-1]
        group = [*group, (i, out)] if same else [(i, out)]
        shape = out
    kept = frozenset(j for wiring in layers for j in wiring.concat)
    return SkipPlan(start, tuple(layers), kept, output_shape=shape)
