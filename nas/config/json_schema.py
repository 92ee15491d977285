"""The JSON Schema of experiment files, for editors to check and complete them as they are
typed (``nas schema experiment``). Built from the names and limits the loader checks against
(:mod:`nas.config.schema`, :mod:`nas.metrics`, :mod:`nas.data`); every section's keys are
asserted to be exactly the loader's, so a key added to one cannot be missing from the other.

Checks that need several fields or the disk (the space file exists, a pruner suits the
objectives, Optuna accepts a sampler's options) are left to the loader: a file the schema
accepts may still be refused, never the reverse.
"""

from __future__ import annotations

from typing import Any

from nas.config.schema import (
    ARTIFACT_KEYS,
    CONSTRAINT_KEYS,
    EXECUTION_KEYS,
    KEEP_WEIGHTS,
    MAX_SEED,
    PRUNER_OPTIONS,
    PRUNERS,
    SAMPLER_OPTIONS,
    SAMPLERS,
    TOP_KEYS,
    TRAINING_KEYS,
)
from nas.data import BUILTINS, LOOKUPS, SPEC_KEYS, TABLES
from nas.metrics import DIRECTIONS, OBJECTIVES
from nas.model import OPTIMIZERS
from nas.space import DIALECT

TEXT = {"type": "string", "minLength": 1}
BOOLEAN = {"type": "boolean"}


def _integer(low: int, high: int | None = None, *, nullable: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {"type": ["integer", "null"] if nullable else "integer", "minimum": low}
    if high is not None:
        out["maximum"] = high
    return out


def _number(
    low: float, *, high: float | None = None, open_: bool = False, nullable: bool = False
) -> dict[str, Any]:
    """A number above ``low`` (strictly if ``open_``) and below ``high``, as the loader's
    ``Check.number`` takes it."""
    out: dict[str, Any] = {
        "type": ["number", "null"] if nullable else "number",
        ("exclusiveMinimum" if open_ else "minimum"): low,
    }
    if high is not None:
        out["exclusiveMaximum"] = high
    return out


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    return {"anyOf": [schema, {"type": "null"}]}


def _section(properties: dict[str, Any], keys: tuple[str, ...], **extra: Any) -> dict[str, Any]:
    assert tuple(properties) == keys, (tuple(properties), keys)
    return {"type": "object", "properties": properties, "additionalProperties": False, **extra}


def _algorithm(names: tuple[str, ...], what: str, own: dict[str, dict[str, int]]) -> dict[str, Any]:
    """A name, or a mapping of a name and options; for the algorithms nas implements
    (``own``: name -> option -> minimum), exactly their options, integers >= the minimum."""
    mapping: dict[str, Any] = {
        "type": "object",
        "properties": {"name": {"enum": list(names)}},
        "required": ["name"],
        "not": {"required": ["seed"]},
    }
    rules = [
        {
            "if": {"properties": {"name": {"const": name}}},
            "then": {
                "properties": {
                    "name": True,
                    **{option: _integer(low) for option, low in options.items()},
                },
                "additionalProperties": False,
            },
        }
        for name, options in own.items()
    ]
    if rules:
        mapping["allOf"] = rules
    return {
        "description": f"{what}: a name, or {{name: NAME, OPTION: VALUE, ...}} (Optuna's options)",
        "anyOf": [{"enum": list(names)}, mapping],
    }


def _dataset() -> dict[str, Any]:
    by_name = {"name": {"enum": list(BUILTINS)}}
    by_table = {"name": {"enum": list(TABLES)}, "lookup": {"enum": list(LOOKUPS)}}
    fraction = {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1}
    by_path = {"path": TEXT, "label": TEXT, "test_path": _nullable(TEXT), "test_fraction": fraction}
    assert set(by_name) | set(by_table) | set(by_path) == set(SPEC_KEYS)
    return {
        "description": (
            "a built-in dataset, a benchmark table (nb201/...: looked up, not trained), "
            "or a data file (.npz, .csv, .parquet)"
        ),
        "anyOf": [
            {"enum": [*BUILTINS, *TABLES]},
            {
                "type": "object",
                "properties": by_name,
                "required": ["name"],
                "additionalProperties": False,
            },
            {
                "type": "object",
                "properties": by_table,
                "required": ["name"],
                "additionalProperties": False,
            },
            {
                "type": "object",
                "properties": by_path,
                "required": ["path"],
                "additionalProperties": False,
            },
        ],
    }


def _table_dataset() -> dict[str, Any]:
    """A dataset spec naming a benchmark table."""
    return {
        "anyOf": [
            {"enum": list(TABLES)},
            {
                "type": "object",
                "properties": {"name": {"enum": list(TABLES)}},
                "required": ["name"],
            },
        ]
    }


def experiment_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of an experiment file (format:
    :mod:`nas.config.load`)."""
    training = _section(
        {
            "epochs": _integer(1),
            "eval_batch_size": _integer(1),
            "optimizer": _nullable({"enum": list(OPTIMIZERS)}),
            "learning_rate": _number(0, open_=True, nullable=True),
            "weight_decay": _number(0, nullable=True),
            "batch_size": _integer(1, nullable=True),
        },
        TRAINING_KEYS,
        required=["epochs"],
    )
    execution = _section(
        {
            "workers": _integer(1),
            "cpus_per_trial": _number(0, open_=True),
            "gpus_per_trial": _number(0),
            "retries": _integer(0),
            "trial_timeout": _number(0, open_=True, nullable=True),
            "address": _nullable(TEXT),
            "lookahead": _integer(0, 8),
            "retrain_duplicates": BOOLEAN,
        },
        EXECUTION_KEYS,
    )
    artifacts = _section(
        {"keep_weights": {"enum": list(KEEP_WEIGHTS)}, "k": _integer(1), "dir": _nullable(TEXT)},
        ARTIFACT_KEYS,
    )
    constraints = _section(
        {key: _integer(1, nullable=True) for key in CONSTRAINT_KEYS}, CONSTRAINT_KEYS
    )
    properties = {
        "study": TEXT,
        "space": {**TEXT, "description": "the search space file, relative to this file"},
        "dataset": _dataset(),
        "validation_fraction": _number(0, high=1, open_=True),
        "training": training,
        "objectives": {
            "type": "object",
            "minProperties": 1,
            "propertyNames": {"enum": list(OBJECTIVES)},
            "additionalProperties": {"enum": list(DIRECTIONS)},
        },
        "constraints": _nullable(constraints),
        "sampler": _algorithm(SAMPLERS, "the Optuna sampler", SAMPLER_OPTIONS),
        "pruner": _algorithm(PRUNERS, "the Optuna pruner", PRUNER_OPTIONS),
        "trials": _integer(1, nullable=True),
        "timeout": _number(0, open_=True, nullable=True),
        "seed": _integer(0, MAX_SEED),
        "storage": {**TEXT, "description": "a database URL, or a journal file (.log, .jsonl)"},
        "execution": _nullable(execution),
        "artifacts": _nullable(artifacts),
    }
    return {
        "$schema": DIALECT,
        "title": "nas experiment",
        "description": "Everything one search needs (format: nas/config/load.py).",
        **_section(
            properties,
            TOP_KEYS,
            required=["study", "space", "dataset", "objectives"],
            anyOf=[{"required": ["trials"]}, {"required": ["timeout"]}],
            # A benchmark table is looked up, not trained: training is left out there and
            # required everywhere else.
            **{
                "if": {"properties": {"dataset": _table_dataset()}, "required": ["dataset"]},
                "then": {"not": {"required": ["training"]}},
                "else": {"required": ["training"]},
            },
        ),
    }
