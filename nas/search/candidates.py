"""Which proposed candidates the search trains: those that fit the hard constraints and that
the study does not already hold.

:func:`check_feasible` samples the space the way ``nas validate`` does, before the study is
opened, so that a space none of whose candidates fits stops with a :class:`SpecError` having
written nothing. :func:`duplicate_of` finds a proposal the study already holds (complete, or
running under any driver), and :func:`tried_all` says when a finite space has nothing left to
propose.
"""

from __future__ import annotations

import optuna
from optuna.trial import FrozenTrial, TrialState

from nas.config import Constraints, Experiment
from nas.data import Dataset
from nas.errors import SpecError
from nas.model import Architecture, ShapeError, forward_flops, model_stats
from nas.space import RandomSuggest

FEASIBILITY_SAMPLES = 200
"""Candidates :func:`check_feasible` draws before it calls a space hopeless."""
MAX_CONSECUTIVE_DUPLICATES = 100
"""Proposals in a row the study already holds before a search stops: the sampler keeps
coming back to finished candidates (a finite space nearly exhausted, or a sampler that has
converged), and each such proposal is recorded as a trial."""


def counted_sizes(experiment: Experiment) -> tuple[str, ...]:
    """The sizes a search counts for each candidate before it is evaluated: ``n_params`` and
    ``flops``; in a search looked up in a benchmark table, ``n_params`` only where an
    objective or constraint names it, as counting parameters traces the network (about a
    second for an NB201 network on a CPU, far longer than the lookup), while FLOPs are
    counted from the layer plan in a millisecond."""
    if experiment.data_spec.table is None:
        return ("n_params", "flops")
    wanted = experiment.constraints.max_params is not None or any(
        name == "n_params" for name, _ in experiment.objectives
    )
    return ("n_params", "flops") if wanted else ("flops",)


def candidate_sizes(arch: Architecture, data: Dataset, names: tuple[str, ...]) -> dict[str, int]:
    """The sizes ``names`` (of :func:`counted_sizes`) of ``arch`` on ``data``; raises
    :class:`~nas.model.ShapeError` where it cannot be built."""
    if "n_params" in names:
        stats = model_stats(arch, data.input_shape, data.num_classes)
        return {"n_params": stats.n_params, "flops": stats.flops}
    return {"flops": forward_flops(arch, data.input_shape, data.num_classes)}


def violation(sizes: dict[str, int], constraints: Constraints) -> str | None:
    """Why a candidate of these sizes breaks the hard constraints, or ``None``."""
    for name, limit in (("n_params", constraints.max_params), ("flops", constraints.max_flops)):
        if limit is not None and sizes[name] > limit:
            return f"constraint: {name} {sizes[name]} > max_{name.removeprefix('n_')} {limit}"
    return None


def unfit(
    arch: Architecture, data: Dataset, constraints: Constraints, sizes: tuple[str, ...]
) -> str | None:
    """Why ``arch`` cannot be trained on ``data`` under ``constraints``, or ``None``;
    ``sizes`` are the ones the search counts (:func:`counted_sizes`)."""
    try:
        return violation(candidate_sizes(arch, data, sizes), constraints)
    except ShapeError as err:
        return f"cannot be built: {err}"


def check_feasible(experiment: Experiment, data: Dataset) -> None:
    """Raise :class:`SpecError` (field ``constraints``, or ``space`` where no candidate can
    even be built) when none of :data:`FEASIBILITY_SAMPLES` candidates drawn at random fits.

    Called before the study is opened, so such a search writes nothing; a space with a fit
    returns at its first one, which is usually the first candidate drawn.
    """
    reasons = []
    sizes = counted_sizes(experiment)
    for k in range(FEASIBILITY_SAMPLES):
        arch = experiment.sample(RandomSuggest(experiment.seed * FEASIBILITY_SAMPLES + k))
        reason = unfit(arch, data, experiment.constraints, sizes)
        if reason is None:
            return
        reasons.append(reason)
    raise hopeless(experiment, reasons)


def hopeless(experiment: Experiment, reasons: list[str]) -> SpecError:
    """The error of a space none of whose :data:`FEASIBILITY_SAMPLES` sampled candidates fits,
    given why each does not (:func:`unfit`'s reasons, in draw order)."""
    constrained = [r for r in reasons if r.startswith("constraint")]
    return SpecError(
        experiment.path,
        "constraints" if constrained else "space",
        f"none of {FEASIBILITY_SAMPLES} candidates sampled from {experiment.space_path} fits "
        f"(e.g. {(constrained or reasons)[0]}); loosen the constraints or narrow the space "
        f"(nas validate {experiment.space_path} --dataset DATA shows a candidate's size); "
        "nothing was written",
    )


def duplicate_of(study: optuna.Study, architecture: str, number: int) -> int | None:
    """The number of a trial other than ``number`` holding the candidate ``architecture``
    (its JSON) complete or running, or ``None``; a complete one is preferred."""
    held = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE, TrialState.RUNNING))
    same = [
        t for t in held if t.number != number and t.user_attrs.get("architecture") == architecture
    ]
    same.sort(key=lambda t: (t.state != TrialState.COMPLETE, t.number))
    return same[0].number if same else None


def taken_by(study: optuna.Study, architecture: str, number: int) -> int | None:
    """After trial ``number`` recorded ``architecture``: the trial that holds the candidate
    before it, or ``None`` if ``number`` keeps it. Two drivers may propose the same candidate
    at the same moment, each finding it free (:func:`duplicate_of`); once both have recorded
    it, each asks again, and the one with the higher number gives way to a complete trial
    or a lower running one, so exactly one of them trains it."""
    held = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE, TrialState.RUNNING))
    before = [
        t
        for t in held
        if t.number != number
        and t.user_attrs.get("architecture") == architecture
        and (t.state == TrialState.COMPLETE or t.number < number)
    ]
    return min((t.number for t in before), default=None)


def tried_all(study: optuna.Study, cardinality: int | None) -> bool:
    """Whether every value set of a finite space of ``cardinality`` value sets has been
    tried: trained to completion, running, rejected or skipped as a duplicate (the space's
    count bounds the distinct candidates from above, so this never stops a search early)."""
    if cardinality is None:
        return False
    tried = {_values(t) for t in study.get_trials(deepcopy=False) if _tried(t)}
    return len(tried) >= cardinality


def _tried(trial: FrozenTrial) -> bool:
    attrs = trial.user_attrs
    if trial.state == TrialState.COMPLETE:
        return True
    if trial.state == TrialState.RUNNING:
        return "architecture" in attrs  # its candidate is complete and on its way to training
    return bool(attrs.get("rejected")) or "duplicate_of" in attrs


def _values(trial: FrozenTrial) -> tuple:
    return tuple(sorted(trial.params.items()))
