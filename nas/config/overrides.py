"""What the command line and the environment change in an experiment file: flag overrides,
and the Ray cluster to join."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from nas.config.fields import Check
from nas.config.schema import MAX_SEED, ExecutionSection

OVERRIDES = ("trials", "timeout", "storage", "study", "seed", "workers", "address")
# Overrides that replace a field of the execution section rather than a top-level one.
EXECUTION_OVERRIDES = ("workers", "address")
COMMAND_LINE = "command line"
ENVIRONMENT = "environment"


def apply_overrides(
    data: Mapping[str, Any], execution: Mapping[str, Any], overrides: Mapping[str, Any] | None
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The file's top-level fields and execution section with ``overrides`` in place.

    Override values are checked as command-line flags (``SpecError`` with source ``command
    line``, field ``--name``); ``None`` values are ignored. Raises ``ValueError`` on a key
    not in :data:`OVERRIDES` (a caller's bug).
    """
    data, execution = dict(data), dict(execution)
    for key, value in _checked(overrides).items():
        (execution if key in EXECUTION_OVERRIDES else data)[key] = value
    return data, execution


def _checked(overrides: Mapping[str, Any] | None) -> dict[str, Any]:
    given = {key: value for key, value in (overrides or {}).items() if value is not None}
    unknown = sorted(set(given) - set(OVERRIDES))
    if unknown:
        raise ValueError(f"unknown override(s) {unknown}; expected some of {OVERRIDES}")
    check = Check(COMMAND_LINE)
    checks = {
        "trials": lambda v, f: check.integer(v, f, 1),
        "timeout": lambda v, f: check.number(v, f, 0, open_=True),
        "storage": check.storage,
        "study": check.text,
        "seed": lambda v, f: check.integer(v, f, 0, MAX_SEED),
        "workers": lambda v, f: check.integer(v, f, 1),
        "address": check.address,
    }
    return {key: checks[key](value, f"--{key}") for key, value in given.items()}


def ray_address(execution: ExecutionSection) -> str | None:
    """The Ray cluster a search joins: the address the file or a flag gives, else
    :func:`environment_address`; ``None``: start a local cluster."""
    if execution.address is not None:
        return execution.address
    return environment_address()


def environment_address() -> str | None:
    """``RAY_ADDRESS`` from the environment, checked as a cluster address (``SpecError`` with
    source ``environment``, field ``RAY_ADDRESS``); ``None`` where it is unset or empty.

    The one place that reads ``RAY_ADDRESS``.
    """
    return Check(ENVIRONMENT).address(
        os.environ.get("RAY_ADDRESS") or None, "RAY_ADDRESS", optional=True
    )
