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
