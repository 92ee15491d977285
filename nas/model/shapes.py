"""Shape rules of each layer type, without building anything.

Shapes exclude the batch axis: flat ``(D,)``, sequence ``(T, C)``, image ``(H, W, C)``.
The space validator uses these rules to reject spaces whose candidates cannot be built; the
skip plan and size counting use them before any compilation.
"""

from __future__ import annotations

import math

from nas.model.architecture import (
    Activation,
    Cell,
    Conv,
    Dense,
    Dropout,
    GlobalPool,
    Layer,
    Norm,
    Pool,
    Recurrent,
)

Shape = tuple[int, ...]
KINDS = {1: "flat", 2: "sequence", 3: "image"}


class ShapeError(ValueError):
    """A layer cannot be applied to an input of this shape; the message says why."""


def input_kind(shape: Shape) -> str:
    """``flat``, ``sequence`` or ``image`` for a shape without the batch axis."""
    if len(shape) not in KINDS:
        raise ShapeError(f"input shape {shape} has rank {len(shape)}; expected 1, 2 or 3")
    return KINDS[len(shape)]


def _window_out(size: int, window: int, stride: int, padding: str, what: str) -> int:
    if padding == "same":
        return math.ceil(size / stride)
    out = (size - window) // stride + 1
    if size < window or out < 1:
        raise ShapeError(f"{what} of window {window} shrinks a spatial size of {size} below 1")
    return out


def output_shape(layer: Layer, shape: Shape) -> Shape:
    """The shape after ``layer``; raises :class:`ShapeError` where it cannot apply."""
    kind = input_kind(shape)
    if isinstance(layer, Dense):
        return (layer.features,)
    if isinstance(layer, Conv):
        if kind == "flat":
            raise ShapeError("conv needs a sequence or image input, got a flat one")
        spatial = tuple(
            _window_out(s, layer.kernel_size, layer.stride, layer.padding, "conv")
            for s in shape[:-1]
        )
        return (*spatial, layer.features)
    if isinstance(layer, Pool):
        if kind == "flat":
            raise ShapeError("pool needs a sequence or image input, got a flat one")
        stride = layer.stride or layer.window
        spatial = tuple(_window_out(s, layer.window, stride, "valid", "pool") for s in shape[:-1])
        return (*spatial, shape[-1])
    if isinstance(layer, GlobalPool):
        if kind == "flat":
            raise ShapeError("global_pool needs a sequence or image input, got a flat one")
        return (shape[-1],)
    if isinstance(layer, Recurrent):
        if kind != "sequence":
            raise ShapeError(f"recurrent needs a sequence input, got a {kind} one")
        return (shape[0], layer.features * (2 if layer.bidirectional else 1))
    if isinstance(layer, Cell):
        if kind != "image":
            raise ShapeError(f"cell needs an image input, got a {kind} one")
        spatial = shape[:-1]
        if layer.reduction:
            if any(s % 2 for s in spatial):
                raise ShapeError(
                    f"a reduction cell halves the height and width, which must be even; "
                    f"got a spatial size of {spatial}"
                )
            spatial = tuple(s // 2 for s in spatial)
        return (*spatial, layer.features)
    if isinstance(layer, Norm | Dropout | Activation):
        return shape
    raise ShapeError(f"unknown layer {layer!r}")


def trace_shapes(layers: tuple[Layer, ...], shape: Shape) -> list[Shape]:
    """Shapes after each layer (``len(layers)`` entries); raises :class:`ShapeError` naming
    the failing layer index as ``layers[i]: ...``."""
    shapes = []
    for i, layer in enumerate(layers):
        try:
            shape = output_shape(layer, shape)
        except ShapeError as err:
            raise ShapeError(f"layers[{i}] ({layer.type}): {err}") from None
        shapes.append(shape)
    return shapes
