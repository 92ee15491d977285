"""Rules tying an experiment's sampler, pruner, objectives and space together.

Checked without Optuna; whether Optuna accepts each algorithm's options is
:func:`nas.search.algorithms.check_algorithms`' business.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from typing import Any

from nas.checks import short
from nas.config.fields import Check
from nas.config.schema import DEFAULT_POPULATION, MO_ASHA_DEFAULTS, PRUNER_OPTIONS, SAMPLER_OPTIONS
from nas.data import TABLE_OPS, DataSpec, table_cell
from nas.errors import SpecError
from nas.metrics import BEFORE_TRAINING, EPOCH_OBJECTIVES, TABLE_OBJECTIVES, TABLE_ONLY_OBJECTIVES
from nas.space import RandomSuggest, Space

# Samplers whose Optuna implementation imports extra packages only once sampling starts.
SAMPLER_PACKAGES = {"gp": ("torch", "scipy"), "cmaes": ("cmaes",)}
SINGLE_OBJECTIVE_SAMPLERS = ("cmaes", "local_search")


def check_rules(
    sampler: tuple[str, dict[str, Any]],
    pruner: tuple[str, dict[str, Any]],
    objectives: tuple[tuple[str, str], ...],
    space: Space,
    path: Path,
    *,
    epochs: int,
) -> None:
    """Raise ``SpecError(path, "sampler" or "pruner", ...)`` where the algorithms cannot
    search these objectives over this space (trained for ``epochs``): a single-objective
    sampler with several objectives, ``grid`` over a continuous space, a sampler whose
    packages are missing, an Optuna pruner with several objectives or with one not known per
    epoch, options for ``none``, ``mo_asha`` with an objective it cannot rank on
    (:func:`check_mo_asha`); and, for the samplers and the pruner nas implements,
    ``SpecError(path, "sampler.OPTION" or "pruner.OPTION", ...)`` on an unknown option or a
    bad value (:func:`check_options`)."""
    (sampler_name, sampler_options), (pruner_name, pruner_options) = sampler, pruner
    check_sampler_options(sampler_name, sampler_options, path)
    check_options("pruner", pruner_name, pruner_options, PRUNER_OPTIONS, path)
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
    if pruner_name == "mo_asha":
        check_mo_asha(pruner_options, metrics, path, epochs)
    elif pruner_name != "none":
        if len(metrics) > 1:
            raise SpecError(
                path,
                "pruner",
                f"Optuna pruners support one objective, got {len(metrics)} {metrics}; "
                "use pruner: mo_asha (successive halving on several objectives) or none",
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


def check_mo_asha(options: dict[str, Any], metrics: list[str], path: Path, epochs: int) -> None:
    """``mo_asha`` ranks at each rung on what is known there: every objective is an epoch
    objective or a size known before training, at least one is an epoch objective, and the
    first rung (``min_epochs``) comes before the last epoch."""
    later = [m for m in metrics if m not in EPOCH_OBJECTIVES + BEFORE_TRAINING]
    if later:
        raise SpecError(
            path,
            "pruner",
            f"mo_asha ranks trials on what is known when they reach a rung: the epoch "
            f"objectives {list(EPOCH_OBJECTIVES)} and the sizes {list(BEFORE_TRAINING)}; "
            f"{', '.join(later)} is only known after training; drop it or use pruner: none",
        )
    if not any(m in EPOCH_OBJECTIVES for m in metrics):
        raise SpecError(
            path,
            "pruner",
            f"the objectives {metrics} are all known before training, so there is nothing "
            f"to prune on; add one of {list(EPOCH_OBJECTIVES)} or use pruner: none",
        )
    min_epochs = options.get("min_epochs", MO_ASHA_DEFAULTS["min_epochs"])
    if min_epochs >= epochs:
        raise SpecError(
            path,
            "pruner.min_epochs" if "min_epochs" in options else "pruner",
            f"the first rung (min_epochs {min_epochs}) must come before the last epoch "
            f"(training.epochs {epochs}), or no trial is ever pruned",
        )


def check_sampler_options(name: str, options: dict[str, Any], path: Path) -> None:
    """The options of ``evolution`` and ``local_search`` (``SAMPLER_OPTIONS``): each known
    and an integer >= its minimum (:func:`check_options`), and a tournament no larger than
    the population (default ``DEFAULT_POPULATION``). Other samplers' options are Optuna's to
    check."""
    check_options("sampler", name, options, SAMPLER_OPTIONS, path)
    if name not in SAMPLER_OPTIONS:
        return
    check = Check(path)
    population = options.get("population", DEFAULT_POPULATION)
    if options.get("tournament", 0) > population:
        raise check.fail(
            "sampler.tournament",
            f"must be at most the population ({population}), got {options['tournament']}",
        )


TABLE_SPACE_SAMPLES = 64
"""Candidates drawn to check that a space is the table's (each edge takes every op in them,
for the fixed seeds used, and nothing else varies)."""
TABLE_CARDINALITY = len(TABLE_OPS) ** 6


def check_table_rules(
    spec: DataSpec,
    pruner: tuple[str, dict[str, Any]],
    objectives: tuple[tuple[str, str], ...],
    space: Space,
    path: Path,
) -> None:
    """The rules of a search looked up in a benchmark table (``spec.table``), or of one
    that is not: objectives only a table knows (``latency``, ``model_size``) need one.

    With a table: ``SpecError(path, "objectives.NAME", ...)`` for an objective the table
    cannot answer; ``SpecError(path, "pruner", ...)`` for a pruner (a lookup has no epochs);
    ``SpecError(path, "space", ...)`` unless the space is NAS-Bench-201's cell space: its
    candidates share one 4-node cell over their normal cells, whose six edges each draw one
    of the five table ops, and nothing else varies (:data:`TABLE_CARDINALITY` candidates).
    """
    names = [metric for metric, _ in objectives]
    if spec.table is None:
        for metric in names:
            if metric in TABLE_ONLY_OBJECTIVES:
                raise SpecError(
                    path,
                    f"objectives.{metric}",
                    "only a benchmark table knows it (dataset: nb201/...); a trained "
                    "candidate reports val_accuracy, val_loss, n_params, flops, train_seconds",
                )
        return
    for metric in names:
        if metric not in TABLE_OBJECTIVES:
            raise SpecError(
                path,
                f"objectives.{metric}",
                f"not known to a table lookup ({spec.table}); objectives there are one of "
                f"{list(TABLE_OBJECTIVES)}",
            )
    if pruner[0] != "none":
        raise SpecError(
            path,
            "pruner",
            f"{spec.table} answers each candidate at once, with no epochs to prune at; "
            "use pruner: none",
        )
    problem = not_table_space(space)
    if problem:
        raise SpecError(
            path,
            "space",
            f"{spec.table} holds NAS-Bench-201's cells only, and {short(space.name)} is not "
            f"that space: {problem}; use search_spaces/nb201.yaml",
        )


def not_table_space(space: Space) -> str | None:
    """Why ``space`` is not NAS-Bench-201's cell space (see :func:`check_table_rules`),
    or ``None``."""
    if space.input_kind != "image":
        return f"its input is {space.input_kind}, not image"
    edges: list[set[str]] = [set() for _ in range(6)]
    rest = set()
    for k in range(TABLE_SPACE_SAMPLES):
        arch = space.sample(RandomSuggest(k))
        try:
            ops = table_cell(arch)
        except ValueError as err:
            return str(err)
        for edge, op in zip(edges, ops, strict=True):
            edge.add(op)
        data = arch.to_dict()
        for layer in data["layers"]:
            if layer["type"] == "cell" and tuple(layer["ops"]) == ops:
                layer["ops"] = None
        rest.add(json.dumps(data, sort_keys=True))
    if len(rest) > 1:
        return "it searches more than the cell's operations"
    fixed = [i for i, edge in enumerate(edges) if len(edge) < len(TABLE_OPS)]
    if fixed or space.cardinality() != TABLE_CARDINALITY:
        return (
            f"it has {space.cardinality()} candidates, not {TABLE_CARDINALITY} (every edge "
            f"of the cell drawing each of {', '.join(TABLE_OPS)})"
        )
    return None


def check_options(
    field: str,
    name: str,
    options: dict[str, Any],
    table: dict[str, dict[str, int]],
    path: Path,
) -> None:
    """For an algorithm nas implements (a name in ``table``: option -> minimum), raise
    ``SpecError(path, "FIELD.OPTION", ...)`` on an unknown option or a value that is not an
    integer >= its minimum. Other algorithms' options are Optuna's to check."""
    minimums = table.get(name)
    if minimums is None:
        return
    check = Check(path)
    for option, value in options.items():
        where = f"{field}.{option}"
        if option not in minimums:
            raise check.fail(where, f"unknown option; {name} takes {', '.join(minimums)}")
        check.integer(value, where, minimums[option])
