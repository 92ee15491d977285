"""One line of text per candidate, for progress output, reports and trial tables."""

from __future__ import annotations

from nas.model.architecture import (
    Activation,
    Architecture,
    Cell,
    Conv,
    Dense,
    Dropout,
    GlobalPool,
    Layer,
    Norm,
    Pool,
    Recurrent,
    cell_edges,
)
from nas.model.ops import CELL_EDGE_OPS


def cell_code(cell: Cell) -> str:
    """A cell's ops, node by node: the one-character codes of the edges into node 1, 2, ...
    (from node 0 first), nodes separated by ``|``; e.g. ``3|s3|0sp`` for node 1 = conv3x3(n0),
    node 2 = skip(n0) + conv3x3(n1), node 3 = none(n0) + skip(n1) + avgpool3x3(n2). Codes:
    ``0`` none, ``s`` skip, ``1`` conv1x1, ``3`` conv3x3, ``p`` avgpool3x3."""
    codes = {j: "" for j in range(1, cell.nodes)}
    for (j, _), op in zip(cell_edges(cell.nodes), cell.ops, strict=True):
        codes[j] += CELL_EDGE_OPS[op].code
    return "|".join(codes.values())


def nb201_string(cell: Cell) -> str:
    """The cell in NAS-Bench-201's notation, the key of its tables: node by node, each
    incoming edge as ``op~source``, e.g. ``|nor_conv_3x3~0|+|skip_connect~0|none~1|+|...|``."""
    nodes: dict[int, list[str]] = {j: [] for j in range(1, cell.nodes)}
    for (j, i), op in zip(cell_edges(cell.nodes), cell.ops, strict=True):
        nodes[j].append(f"{CELL_EDGE_OPS[op].nb201}~{i}")
    return "+".join("|" + "|".join(edges) + "|" for edges in nodes.values())


def layer_label(layer: Layer) -> str:
    """A layer in a word: ``dense64``, ``conv16``, ``maxpool2``, ``globalavg``, ``layernorm``,
    ``dropout``, ``gru32``, ``bilstm16``, ``relu``, ``cell16[3|s3|0sp]`` (``rcell`` for a
    reduction cell; :func:`cell_code`): its type and what sets its size (widths, the pooling
    window, a cell's ops), not every field."""
    if isinstance(layer, Cell):
        return f"{'r' if layer.reduction else ''}cell{layer.features}[{cell_code(layer)}]"
    if isinstance(layer, Activation):
        return layer.activation
    if isinstance(layer, Dense | Conv):
        return f"{layer.type}{layer.features}"
    if isinstance(layer, Recurrent):
        return f"{'bi' if layer.bidirectional else ''}{layer.cell}{layer.features}"
    if isinstance(layer, Pool):
        return f"{layer.kind}pool{layer.window}"
    if isinstance(layer, GlobalPool):
        return f"global{layer.kind}"
    if isinstance(layer, Norm):
        return f"{layer.kind}norm"
    assert isinstance(layer, Dropout)
    return "dropout"


def _labels(arch: Architecture) -> list[str]:
    """Each layer's label; a run of equal cells as one, ``x`` its length (``cell16[3]x5``)."""
    out: list[str] = []
    runs: list[int] = []
    for k, layer in enumerate(arch.layers):
        if isinstance(layer, Cell) and k and arch.layers[k - 1] == layer:
            runs[-1] += 1
            continue
        out.append(layer_label(layer))
        runs.append(1)
    return [label if n == 1 else f"{label}x{n}" for label, n in zip(out, runs, strict=True)]


def arch_label(arch: Architecture) -> str:
    """The layers in a short line, e.g. ``conv16-conv32-maxpool2-dense10`` (``linear`` for
    none; a run of equal cells written once, as ``cell16[3|s3|0sp]x5``); the same layers
    always give the same label, whatever space drew them."""
    return "-".join(_labels(arch)) or "linear"


def describe(arch: Architecture) -> str:
    """A one-line human summary, e.g. ``dense64-dense32 skip=residual lr=1.2e-03``."""
    return f"{arch_label(arch)} skip={arch.skip} lr={arch.learning_rate:.1e}"


def short_label(arch: Architecture) -> str:
    """The layers alone, space-separated so a narrow table can wrap between them, plus the
    skip kind where there is one, e.g. ``conv8 conv8 maxpool2 dense16 skip=dense``. Shape-free
    hyperparameters (learning rate, dropout rates) are left to their own columns."""
    label = " ".join(_labels(arch)) or "linear"
    return label if arch.skip == "none" else f"{label} skip={arch.skip}"
