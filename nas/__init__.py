"""nas: neural architecture search for JAX/Flax."""

from __future__ import annotations

from typing import Any

# Re-exports resolved on first use, so `import nas` stays cheap (no pandas, Optuna or JAX).
_LAZY = {"load_trials": "nas.analysis", "load_curves": "nas.analysis"}

__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'nas' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *_LAZY])
