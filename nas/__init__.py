"""nas: neural architecture search for JAX/Flax.

The data flow, one subpackage a step: :mod:`nas.space` (search spaces) -> :mod:`nas.search`
(Optuna samplers, the driver) -> :mod:`nas.model` (architectures, Flax builder) ->
:mod:`nas.training` (compiled training) -> :mod:`nas.execution` (local and Ray workers) ->
:mod:`nas.store` (Optuna storage, weights) -> :mod:`nas.results` (frames, report, export);
:mod:`nas.config` reads experiment files, :mod:`nas.data` datasets, :mod:`nas.cli` is the
``nas`` command, :mod:`nas.errors` holds the errors users see.

The public names are those of ``__all__``: those subpackages, and the functions a notebook
or script starts from, :func:`load_space`, :func:`load_experiment`, :func:`run_search`,
:func:`load_trials` and :func:`load_curves`. Each is loaded on first use, so ``import nas``
stays cheap (no pandas, Optuna or JAX). The other modules of the package are its
internals.
"""

import importlib as _importlib
import typing as _typing

if _typing.TYPE_CHECKING:
    from nas import (
        cli,
        config,
        data,
        errors,
        execution,
        model,
        results,
        search,
        space,
        store,
        training,
    )
    from nas.results import load_curves, load_trials
    from nas.search import load_experiment, run_search
    from nas.space import load_space

__all__ = [
    "cli",
    "config",
    "data",
    "errors",
    "execution",
    "load_curves",
    "load_experiment",
    "load_space",
    "load_trials",
    "model",
    "results",
    "run_search",
    "search",
    "space",
    "store",
    "training",
]
# The re-exported functions, by the subpackage that defines them; the rest are subpackages.
_FUNCTIONS = {
    "load_trials": "nas.results",
    "load_curves": "nas.results",
    "load_space": "nas.space",
    "load_experiment": "nas.search",
    "run_search": "nas.search",
}


def __getattr__(name: str) -> object:
    if name in _FUNCTIONS:
        return getattr(_importlib.import_module(_FUNCTIONS[name]), name)
    if name in __all__:
        return _importlib.import_module(f"nas.{name}")
    raise AttributeError(f"module 'nas' has no attribute {name!r}")


def __dir__() -> list[str]:
    # Importing a submodule binds it here too (nas.yamlio, say); only __all__ is advertised.
    return sorted({*__all__, *(key for key in globals() if key.startswith("__"))})
