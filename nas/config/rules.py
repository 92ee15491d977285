"""Rules tying an experiment's sampler, pruner, objectives and space together.

Checked without Optuna; whether Optuna accepts each algorithm's options is
:func:`nas.search.algorithms.check_algorithms`' business.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

from nas.checks import short
from nas.errors import SpecError
from nas.metrics import EPOCH_OBJECTIVES
from nas.space import Space

# Samplers whose Optuna implementation imports extra packages only once sampling starts.
SAMPLER_PACKAGES = {"gp": ("torch", "scipy"), "cmaes": ("cmaes",)}
SINGLE_OBJECTIVE_SAMPLERS = ("cmaes",)


def check_rules(
    sampler: tuple[str, dict[str, Any]],
    pruner: tuple[str, dict[str, Any]],
    objectives: tuple[tuple[str, str], ...],
    space: Space,
    path: Path,
) -> None:
    """Raise ``SpecError(path, "sampler" or "pruner", ...)`` where the algorithms cannot
    search these objectives over this space: a single-objective sampler with several
    objectives, ``grid`` over a continuous space, a sampler whose packages are missing, a
    pruner with several objectives or with one not known per epoch, options for ``none``."""
    (sampler_name, _), (pruner_name, pruner_options) = sampler, pruner
    metrics = [metric for metric, _ in objectives]
    if sampler_name in SINGLE_OBJECTIVE_SAMPLERS and len(metrics) > 1:
        raise SpecError(
            path, "sampler", f"{sampler_name} supports one objective, got {len(metrics)} {metrics}"
        )
    if sampler_name == "grid" and space.cardinality() is None:
        raise SpecError(
            path,
            "sampler",
            f"grid needs a finite space; {short(space.name)} is continuous "
            f"({', '.join(space.continuous_params())}); use another sampler, or give those "
            "parameters choices or a step",
        )
    missing = [
        package
        for package in SAMPLER_PACKAGES.get(sampler_name, ())
        if importlib.util.find_spec(package) is None
    ]
    if missing:
        raise SpecError(
            path, "sampler", f"{sampler_name} needs the package(s) {missing}, not installed"
        )
    if pruner_name != "none":
        if len(metrics) > 1:
            raise SpecError(
                path,
                "pruner",
                f"Optuna pruners support one objective, got {len(metrics)} {metrics}; "
                "use pruner: none",
            )
        if metrics[0] not in EPOCH_OBJECTIVES:
            raise SpecError(
                path,
                "pruner",
                f"{metrics[0]} is only known after training, so there is nothing to prune "
                f"on; prune on one of {list(EPOCH_OBJECTIVES)} or use pruner: none",
            )
    elif pruner_options:
        raise SpecError(path, "pruner", "none takes no options")
