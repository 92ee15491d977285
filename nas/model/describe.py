"""One line of text per candidate, for progress output, reports and trial tables."""

from __future__ import annotations

from nas.model.architecture import (
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


def layer_label(layer: Layer) -> str:
    """A layer in a word: ``dense64``, ``conv16``, ``maxpool2``, ``globalavg``, ``layernorm``,
    ``dropout``, ``gru32``, ``bilstm16``: its type and what sets its size (widths, the
    pooling window), not every field."""
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


def arch_label(arch: Architecture) -> str:
    """The layers in a short line, e.g. ``conv16-conv32-maxpool2-dense10`` (``linear`` for
    none); the same layers always give the same label, whatever space drew them."""
    return "-".join(map(layer_label, arch.layers)) or "linear"


def describe(arch: Architecture) -> str:
    """A one-line human summary, e.g. ``dense64-dense32 skip=residual lr=1.2e-03``."""
    return f"{arch_label(arch)} skip={arch.skip} lr={arch.learning_rate:.1e}"


def short_label(arch: Architecture) -> str:
    """The layers alone, space-separated so a narrow table can wrap between them, plus the
    skip kind where there is one, e.g. ``conv8 conv8 maxpool2 dense16 skip=dense``. Shape-free
    hyperparameters (learning rate, dropout rates) are left to their own columns."""
    label = " ".join(map(layer_label, arch.layers)) or "linear"
    return label if arch.skip == "none" else f"{label} skip={arch.skip}"
