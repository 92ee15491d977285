"""What a search of an experiment would do, worked out without writing anything: the
checks a search makes before it opens the study (the experiment, its space, the data's
shapes, Optuna's options), and how many of the candidates a search draws first the hard
constraints reject (``nas validate EXPERIMENT``)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nas.config import Experiment
from nas.data import Dataset
from nas.errors import SpecError
from nas.model import Architecture, ShapeError
from nas.search.candidates import (
    FEASIBILITY_SAMPLES,
    candidate_sizes,
    counted_sizes,
    hopeless,
    violation,
)
from nas.search.experiment import load_experiment
from nas.space import RandomSuggest


@dataclass(frozen=True)
class SearchPreview:
    """An experiment checked for a search, its data, and a sample of its candidates.

    ``sampled``: candidates drawn as the search's feasibility check draws them (the same
    seeds). ``rejected``: why each rejected one cannot be trained (a constraint, or a shape
    that cannot be built), in draw order. ``params``/``flops``: the smallest and largest
    parameter count and FLOPs per example among the sampled candidates that can be built
    (``None`` when none can).
    """

    experiment: Experiment
    data: Dataset
    sampled: int
    rejected: tuple[str, ...]
    params: tuple[int, int] | None
    flops: tuple[int, int] | None

    @property
    def fits(self) -> int:
        """Sampled candidates a search would train."""
        return self.sampled - len(self.rejected)

    def no_fit(self) -> SpecError | None:
        """The error a search stops with before writing, when no sampled candidate fits."""
        return hopeless(self.experiment, list(self.rejected)) if self.fits == 0 else None


def preview_search(
    path: str | Path,
    overrides: dict[str, Any] | None = None,
    samples: int = FEASIBILITY_SAMPLES,
) -> SearchPreview:
    """Check the experiment file at ``path`` as ``nas search`` would (same ``overrides``,
    same errors: :class:`SpecError` for the file, its space, its data, Optuna's options) and
    sample ``samples`` candidates. Creates no store, study, folder or file."""
    experiment = load_experiment(path, overrides)
    data = experiment.load_data()
    rejected: list[str] = []
    params: list[int] = []
    flops: list[int] = []
    # Sizes depend only on the layers' shapes, which samples often share: each is traced once.
    known: dict[str, dict[str, int] | ShapeError] = {}
    counted = counted_sizes(experiment)
    for k in range(samples):
        arch = experiment.sample(RandomSuggest(experiment.seed * FEASIBILITY_SAMPLES + k))
        signature = _shapes_key(arch)
        if signature not in known:
            try:
                known[signature] = candidate_sizes(arch, data, counted)
            except ShapeError as err:
                known[signature] = err
        sizes = known[signature]
        if isinstance(sizes, ShapeError):
            rejected.append(f"cannot be built: {sizes}")
            continue
        if "n_params" in sizes:
            params.append(sizes["n_params"])
        flops.append(sizes["flops"])
        reason = violation(sizes, experiment.constraints)
        if reason is not None:
            rejected.append(reason)
    return SearchPreview(
        experiment=experiment,
        data=data,
        sampled=samples,
        rejected=tuple(rejected),
        params=(min(params), max(params)) if params else None,
        flops=(min(flops), max(flops)) if flops else None,
    )


def _shapes_key(arch: Architecture) -> str:
    """What decides a candidate's parameter count and FLOPs: its signature without the
    optimizer's name and batch size."""
    data = json.loads(arch.signature())
    data.pop("optimizer", None)
    data.pop("batch_size", None)
    return json.dumps(data, sort_keys=True)
