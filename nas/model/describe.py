"""One line of text per candidate, for progress output and reports."""

from __future__ import annotations

from nas.model.architecture import Architecture


def describe(arch: Architecture) -> str:
    """A one-line human summary, e.g. ``dense64-dense32 skip=residual lr=1.2e-03``."""
    parts = []
    for layer in arch.layers:
        size = getattr(layer, "features", None) or getattr(layer, "window", None)
        parts.append(f"{layer.type}{size or ''}")
    return f"{'-'.join(parts) or 'linear'} skip={arch.skip} lr={arch.learning_rate:.1e}"


def short_label(arch: Architecture) -> str:
    """The layers alone, space-separated so a narrow table can wrap between them, plus the
    skip kind where there is one, e.g. ``conv8 conv8 maxpool dense16 skip=dense``. Shape
    free hyperparameters (learning rate, dropout rates) are left to their own columns."""
    parts = []
    for layer in arch.layers:
        if layer.type in ("dense", "conv"):
            parts.append(f"{layer.type}{layer.features}")
        elif layer.type == "recurrent":
            parts.append(f"{'bi' if layer.bidirectional else ''}{layer.cell}{layer.features}")
        elif layer.type == "pool":
            parts.append(f"{layer.kind}pool{layer.window}")
        elif layer.type == "global_pool":
            parts.append(f"global{layer.kind}")
        elif layer.type == "norm":
            parts.append(f"{layer.kind}norm")
        else:
            parts.append(layer.type)
    label = " ".join(parts) or "linear"
    return label if arch.skip == "none" else f"{label} skip={arch.skip}"
