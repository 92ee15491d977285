"""The experiment file checked for a search."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from nas import config
from nas.config import Experiment
from nas.search.algorithms import check_algorithms


def load_experiment(path: str | Path, overrides: Mapping[str, Any] | None = None) -> Experiment:
    """The experiment file checked for a search: :func:`nas.config.load_experiment` (same
    arguments, same errors), then :func:`~nas.search.algorithms.check_algorithms`, which
    raises ``SpecError`` (field ``sampler`` or ``pruner``, "bad options: ...") where Optuna
    refuses the sampler's or pruner's options."""
    experiment = config.load_experiment(path, overrides)
    check_algorithms(experiment)
    return experiment
