"""Cells as exported code: the helper functions and each cell's node-by-node lines.

:func:`cell_lines` writes what :func:`nas.model.cells.cell_forward` computes, edge by edge
from the same plan (:func:`nas.model.cell_plan`), under the same module names and summing
each node's terms in the same order, so the builder's variables load and the logits agree.
"""

from __future__ import annotations

from nas.model import Architecture, Cell, EdgePlan, LayerWiring, cell_edges, cell_plan

BODY = " " * 8
# Written into the exported file once where the network has a cell.
HELPERS = '''def relu_conv_bn(x: jax.Array, features: int, window: int, stride: int, name: str):
    """ReLU, a bias-free window x window conv (padding window // 2), batch norm: the
    conv op of a cell edge (modules NAME_conv and NAME_norm)."""
    pad = window // 2
    x = nn.Conv(
        features,
        (window, window),
        strides=(stride, stride),
        padding=((pad, pad), (pad, pad)),
        use_bias=False,
        name=f"{name}_conv",
    )(nn.relu(x))
    return nn.BatchNorm(use_running_average=True, momentum=0.9, name=f"{name}_norm")(x)


def avg_pool3x3(x: jax.Array, stride: int) -> jax.Array:
    """3x3 average pooling padded by 1, the padding left out of each average."""
    pads = ((1, 1), (1, 1))
    strides = (stride, stride)
    return nn.avg_pool(
        x, (3, 3), strides=strides, padding=pads, count_include_pad=False
    )


def downsample(x: jax.Array) -> jax.Array:
    """2x2 average pooling with stride 2: a skip edge of a reduction cell, before its
    projection."""
    return nn.avg_pool(x, (2, 2), strides=(2, 2))


def project(x: jax.Array, features: int, name: str) -> jax.Array:
    """A bias-free 1x1 conv (module NAME_proj): a skip edge that changes the shape."""
    return nn.Conv(features, (1, 1), use_bias=False, name=f"{name}_proj")(x)
'''


def cell_helpers(arch: Architecture) -> list[str]:
    """The helper functions' lines (with two blank lines after), or none without cells."""
    if not any(isinstance(layer, Cell) for layer in arch.layers):
        return []
    return [*HELPERS.splitlines(), "", ""]


def _edge_code(edge: EdgePlan) -> str:
    source, features = f"n{edge.source}", edge.out_shape[-1]
    if edge.kind == "conv":
        return f'relu_conv_bn({source}, {features}, {edge.window}, {edge.stride}, "{edge.name}")'
    if edge.kind == "avg":
        if edge.pre:
            source = f'relu_conv_bn({source}, {features}, 1, 1, "{edge.name}")'
        return f"avg_pool3x3({source}, {edge.stride})"
    if edge.pool2:
        source = f"downsample({source})"
    if edge.proj:
        source = f'project({source}, {features}, "{edge.name}")'
    return source


def cell_lines(wiring: LayerWiring) -> list[str]:
    """The lines of cell layer ``wiring``: node ``j`` as ``n{j}`` (``_`` where no edge reads
    it; left out when it also holds no parameters), the last node as ``x``."""
    cell = wiring.layer
    assert isinstance(cell, Cell)
    edges = cell_plan(cell, wiring.index, wiring.input_shape)
    read = {e.source for e in edges if e.kind != "zero"}
    lines = [f"{BODY}n0 = x"] if 0 in read else []
    for j in range(1, cell.nodes):
        target = "x" if j == cell.nodes - 1 else f"n{j}" if j in read else "_"
        into = [e for e in edges if e.node == j and e.kind != "zero"]
        if target == "_" and not any(e.kind == "conv" or e.pre or e.proj for e in into):
            continue  # nothing reads it and it holds no parameters
        terms = [_edge_code(e) for e in into]
        if not terms:
            shape = ", ".join(map(str, wiring.output_shape))
            terms = [f"jnp.zeros((x.shape[0], {shape}))"]
        line = f"{BODY}{target} = {' + '.join(terms)}"
        if len(line) <= 88:
            lines.append(line)
            continue
        # One term per line, summed in the same order.
        lines.append(f"{BODY}{target} = {terms[0]}")
        lines += [f"{BODY}{target} = {target} + {term}" for term in terms[1:]]
    return lines


def cell_comment(wiring: LayerWiring) -> str:
    """The comment above a cell's code: its ops edge by edge and the shape it leaves."""
    cell = wiring.layer
    assert isinstance(cell, Cell)
    pairs = zip(cell_edges(cell.nodes), cell.ops, strict=True)
    edges = ", ".join(f"{j}<-{i} {op}" for (j, i), op in pairs)
    kind = "reduction cell (stride 2 from node 0)" if cell.reduction else "cell"
    shape = ", ".join(map(str, wiring.output_shape))
    return f"layer {wiring.index}: {kind} {cell.features}, edges {edges} -> (batch, {shape})"
