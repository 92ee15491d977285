"""nas: neural architecture search for JAX/Flax.

The data flow, one subpackage a step: :mod:`nas.space` (search spaces) -> :mod:`nas.search`
(Optuna samplers, the driver) -> :mod:`nas.model` (architectures, Flax builder) ->
:mod:`nas.training` (compiled training) -> :mod:`nas.execution` (local and Ray workers) ->
:mod:`nas.store` (Optuna storage, weights) -> :mod:`nas.results` (frames, report, export);
:mod:`nas.config` reads experiment files, :mod:`nas.data` datasets, :mod:`nas.cli` is the
``nas`` command. Top-level names here are loaded on first use.
"""

from __future__ import annotations

from typing import Any

# Re-exports resolved on first use, so `import nas` stays cheap (no pandas, Optuna or JAX).
_LAZY = {
    "load_trials": "nas.results",
    "load_curves": "nas.results",
    "load_space": "nas.space",
    "load_experiment": "nas.search",
    "run_search": "nas.search",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'nas' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *_LAZY])
