"""What each edge of a cell does, decided once from static shapes; pure (no JAX).

:func:`cell_plan` is the one statement of how a :class:`~nas.model.architecture.Cell`'s
edges are wired: the builder (:mod:`nas.model.cells`) applies it, size counting prices it and
code generation writes it out, so the three cannot disagree.
"""

from __future__ import annotations

from dataclasses import dataclass

from nas.model.architecture import Cell, cell_edges
from nas.model.ops import CELL_EDGE_OPS
from nas.model.shapes import Shape, output_shape


@dataclass(frozen=True)
class EdgePlan:
    """Edge ``index`` of a cell: node ``node`` reads node ``source`` through ``op``.

    Shapes exclude the batch axis. ``stride`` is 2 on the edges from node 0 of a reduction
    cell, else 1. What the edge holds, in the order applied:

    - ``conv`` ops: ReLU, a bias-free ``window`` x ``window`` conv (``{name}_conv``, padding
      ``window // 2``, stride ``stride``), batch norm (``{name}_norm``);
    - ``avg`` ops: ``pre`` (the channels differ): ReLU, bias-free 1x1 conv (``{name}_conv``),
      batch norm (``{name}_norm``); then the pool (stride ``stride``, padding ``window // 2``,
      the padding left out of each average);
    - ``identity`` ops: ``pool2``: 2x2 average pooling with stride 2; ``proj``: a bias-free
      1x1 conv (``{name}_proj``); neither where the shape is kept;
    - ``zero`` ops: nothing (the node's sum leaves the edge out; all-zero nodes are zeros).

    ``name`` is ``layer{i}_e{index}`` for layer ``i``.
    """

    index: int
    node: int
    source: int
    op: str
    kind: str
    window: int
    in_shape: Shape
    out_shape: Shape
    stride: int
    pre: bool
    pool2: bool
    proj: bool
    name: str


def cell_plan(cell: Cell, layer: int, in_shape: Shape) -> tuple[EdgePlan, ...]:
    """The edges of ``cell`` (layer ``layer`` of its network) on ``in_shape`` (an image
    shape without the batch axis), in ``cell.ops`` order. Raises
    :class:`~nas.model.shapes.ShapeError` where the cell cannot take ``in_shape``."""
    out = output_shape(cell, tuple(in_shape))
    plans = []
    for e, ((j, i), op) in enumerate(zip(cell_edges(cell.nodes), cell.ops, strict=True)):
        # Every node but the input has the output's shape.
        source = tuple(in_shape) if i == 0 else out
        stride = 2 if cell.reduction and i == 0 else 1
        spec = CELL_EDGE_OPS[op]
        changes = source != out
        plans.append(
            EdgePlan(
                index=e,
                node=j,
                source=i,
                op=op,
                kind=spec.kind,
                window=spec.window,
                in_shape=source,
                out_shape=out,
                stride=stride,
                pre=spec.kind == "avg" and source[-1] != out[-1],
                pool2=spec.kind == "identity" and stride == 2,
                proj=spec.kind == "identity" and changes,
                name=f"layer{layer}_e{e}",
            )
        )
    return tuple(plans)
