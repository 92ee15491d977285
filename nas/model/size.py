"""Size of a candidate before training: parameter count and forward FLOPs.

Nothing here trains, compiles or allocates real arrays: parameters come from
``jax.eval_shape`` of the module's ``init``, FLOPs from the skip plan of
:mod:`nas.model.wiring`. :func:`candidate_variable_shapes` keeps a process-global cache.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass
from typing import Any

import jax

from nas.model.architecture import Architecture, Cell, Conv, Dense, Recurrent
from nas.model.builder import build_model
from nas.model.cellplan import cell_plan
from nas.model.init import variable_shapes
from nas.model.shapes import Shape, input_kind
from nas.model.wiring import SkipPlan, skip_plan

# Weight matrices per step of each cell kind (GRU: reset, update, candidate; LSTM: i, f, g, o).
GATES = {"gru": 3, "lstm": 4}


@dataclass(frozen=True)
class ModelStats:
    """``n_params``: trainable parameters (the ``params`` collection; batch-norm running
    statistics excluded). ``flops``: forward FLOPs per example (see :func:`model_stats`)."""

    n_params: int
    flops: int


def model_stats(arch: Architecture, input_shape: Shape, num_classes: int) -> ModelStats:
    """Parameter count and per-example forward FLOPs of ``arch`` on ``input_shape`` (no batch
    axis).

    FLOPs are 2 x the multiply-accumulates of every dense, conv, recurrent (all gates, both
    directions, every step), cell convolution (:func:`_cell_macs`), residual projection and
    head matrix product, with dense-skip
    concatenations widening the inputs. Convolutions count only the products with real inputs,
    not with "same" padding. Not counted: bias adds, activations, norms, pooling, dropout,
    residual additions and the element-wise gate arithmetic of recurrent cells.

    Raises :class:`~nas.model.shapes.ShapeError` when a layer cannot apply at its input shape.
    """
    shape = tuple(input_shape)
    return ModelStats(
        n_params=_count_params(arch, shape, num_classes),
        flops=forward_flops(arch, shape, num_classes),
    )


def forward_flops(arch: Architecture, input_shape: Shape, num_classes: int) -> int:
    """Per-example forward FLOPs of ``arch`` as :func:`model_stats` counts them, without
    building the model. Raises :class:`~nas.model.shapes.ShapeError` like it."""
    shape = tuple(input_shape)
    input_kind(shape)
    return 2 * _count_macs(skip_plan(arch, shape), num_classes)


SHAPE_CACHE_SIZE = 1024
_shape_cache: dict[tuple, dict[str, Any]] = {}
_shape_lock = threading.Lock()


def candidate_variable_shapes(
    arch: Architecture, input_shape: Shape, num_classes: int
) -> dict[str, Any]:
    """:func:`nas.model.init.variable_shapes` of ``build_model(arch, num_classes)`` on
    ``input_shape`` (no batch axis), traced once per signature in a process: the driver's
    size check and the trainer's compilation of one candidate share the trace. Returns a new
    top-level dict on every call; the trees in it are shared and must not be modified. Raises
    :class:`~nas.model.shapes.ShapeError` like :func:`model_stats`.

    The cache is process-global state: one per process, shared by all threads (guarded by a
    lock), holding up to ``SHAPE_CACHE_SIZE`` entries and evicting the oldest first. It is
    keyed by signature, input shape and class count, never cleared otherwise.
    """
    key = (arch.signature(), tuple(input_shape), num_classes)
    with _shape_lock:
        shapes = _shape_cache.get(key)
    if shapes is None:
        shapes = variable_shapes(build_model(arch, num_classes), tuple(input_shape))
        with _shape_lock:
            if len(_shape_cache) >= SHAPE_CACHE_SIZE:
                _shape_cache.pop(next(iter(_shape_cache)))
            _shape_cache[key] = shapes
    return dict(shapes)


def _count_params(arch: Architecture, shape: Shape, num_classes: int) -> int:
    variables = candidate_variable_shapes(arch, shape, num_classes)
    return sum(math.prod(leaf.shape) for leaf in jax.tree_util.tree_leaves(variables["params"]))


def _count_macs(plan: SkipPlan, num_classes: int) -> int:
    """Multiply-accumulates per example of the network ``plan`` wires, head included."""
    macs = 0
    for wiring in plan.layers:
        inputs, out = wiring.block_input, wiring.output_shape
        if wiring.block:
            macs += _block_macs(wiring.layer, inputs, out)
        if isinstance(wiring.layer, Cell):
            macs += _cell_macs(wiring.layer, wiring.index, wiring.input_shape)
        if wiring.projection:
            # The 1x1 map at every spatial position.
            macs += math.prod(_spatial(out)) * inputs[-1] * out[-1]
    return macs + math.prod(plan.output_shape) * num_classes


def _block_macs(layer: Dense | Conv | Recurrent, inputs: Shape, out: Shape) -> int:
    if isinstance(layer, Dense):
        return math.prod(inputs) * layer.features
    if isinstance(layer, Conv):
        taps = math.prod(
            _conv_taps(size, n_out, layer.kernel_size, layer.stride, layer.padding)
            for size, n_out in zip(_spatial(inputs), _spatial(out), strict=True)
        )
        return taps * inputs[-1] * layer.features
    steps, channels = inputs
    per_step = GATES[layer.cell] * (channels + layer.features) * layer.features
    return steps * per_step * (2 if layer.bidirectional else 1)


def _cell_macs(cell: Cell, layer: int, inputs: Shape) -> int:
    """The convolutions of a cell's edges: each conv op, the 1x1 conv before a pool where the
    channels differ, and the 1x1 projection of a shape-changing skip."""
    macs = 0
    for edge in cell_plan(cell, layer, inputs):
        source, out = edge.in_shape, edge.out_shape
        if edge.kind == "conv":
            pad = edge.window // 2
            taps = math.prod(
                _taps(size, n_out, edge.window, edge.stride, pad)
                for size, n_out in zip(_spatial(source), _spatial(out), strict=True)
            )
            macs += taps * source[-1] * out[-1]
        if edge.pre:
            macs += math.prod(_spatial(source)) * source[-1] * out[-1]
        if edge.proj:
            macs += math.prod(_spatial(out)) * source[-1] * out[-1]
    return macs


def _conv_taps(size: int, n_out: int, kernel: int, stride: int, padding: str) -> int:
    """(output position, kernel tap) pairs along one axis that land on a real input."""
    pad_low = 0
    if padding == "same":
        # XLA's SAME split: the smaller half of the padding goes before the input.
        pad_low = max((n_out - 1) * stride + kernel - size, 0) // 2
    return _taps(size, n_out, kernel, stride, pad_low)


def _taps(size: int, n_out: int, kernel: int, stride: int, pad_low: int) -> int:
    """:func:`_conv_taps` with ``pad_low`` positions of padding before the input."""
    return sum(
        1 for o in range(n_out) for t in range(kernel) if 0 <= o * stride - pad_low + t < size
    )


def _spatial(shape: Shape) -> Shape:
    """Every axis but the last (the features); ``()`` for a flat shape."""
    return shape[:-1]
