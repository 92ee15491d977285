"""What the samplers nas implements itself share (:mod:`nas.search.evolution`,
:mod:`nas.search.local_search`): a trial planned as one move away from a stored trial, and
fresh values drawn so that the candidate is one the study does not hold yet.

A :class:`Plan` names a *base* trial and a *move* ``(param, value)``. The planned trial takes
the move's value for ``param``, the base's value for every other parameter the base holds
with the same distribution, and a fresh value for each parameter the base lacks: those a
move on a repeat count or a layer type brings in (a space samples define-by-run, so which
parameters a candidate has depends on its values). A plan without a base draws every value
fresh.

Fresh values avoid the study's candidates. A value of a finite parameter is *covered* when
the study's trials that agree with the candidate so far, and have that value, hold every
way of completing it (:func:`covered`); a covered value is drawn only when every value is
covered. So a plan whose move leaves something new to complete never repeats a candidate
the study holds. Trials are compared by their parameters, each value in its distribution's
internal form (a choice's index, a number as a float): a candidate's parameters determine it.

A plan is made at a trial's first ``sample_independent`` call, from the stored trials, and
its decisions are recorded in the trial's system attribute :attr:`PlanSampler.attr`, so the
samplers keep no state of their own across trials: a resumed search, or a second driver,
rebuilds it from the store.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
import optuna
from optuna.distributions import (
    BaseDistribution,
    CategoricalDistribution,
    FloatDistribution,
    IntDistribution,
)
from optuna.samplers import BaseSampler, RandomSampler
from optuna.study import StudyDirection
from optuna.trial import FrozenTrial, TrialState

from nas.store import storage_of, trial_id

RANDOM_DRAWS = 16
"""Random draws tried before a value is picked from the uncovered ones listed out."""
MAX_LISTED = 1_000_000
"""Values of a finite parameter beyond which they are never listed out (draws only)."""
FLOAT_STEP = 0.1
"""A local-search step of a continuous float: this fraction of its range (of its log range
where ``log``)."""


def key(trial: FrozenTrial, name: str) -> float:
    """The trial's value of ``name`` in its distribution's internal form."""
    return trial.distributions[name].to_internal_repr(trial.params[name])


def count(distribution: BaseDistribution) -> int | None:
    """How many values ``distribution`` has; ``None`` for a continuous float range."""
    if isinstance(distribution, CategoricalDistribution):
        return len(distribution.choices)
    if isinstance(distribution, IntDistribution):
        return (distribution.high - distribution.low) // distribution.step + 1
    if isinstance(distribution, FloatDistribution) and distribution.step is not None:
        return round((distribution.high - distribution.low) / distribution.step) + 1
    return None


def values(distribution: BaseDistribution) -> Sequence[Any]:
    """Every value of a finite distribution, as Optuna draws them (a float on its grid,
    ``k * step + low``); empty for a continuous one or one of over :data:`MAX_LISTED`."""
    n = count(distribution)
    if n is None or n > MAX_LISTED:
        return ()
    if isinstance(distribution, CategoricalDistribution):
        return distribution.choices
    if isinstance(distribution, IntDistribution):
        return range(distribution.low, distribution.high + 1, distribution.step)
    low, high, step = distribution.low, distribution.high, distribution.step
    return [min(k * step + low, high) for k in range(n)]


def steps(distribution: BaseDistribution, value: Any) -> list[Any]:
    """The values one local-search step from ``value``: every other choice; the next value
    of an int or stepped float range either side; a continuous float moved by
    :data:`FLOAT_STEP` of its (log) range either way, clipped to the range."""
    d = distribution
    if isinstance(d, CategoricalDistribution):
        here = d.to_internal_repr(value)
        return [c for i, c in enumerate(d.choices) if i != here]
    if isinstance(d, IntDistribution):
        return [v for v in (value - d.step, value + d.step) if d.low <= v <= d.high]
    if d.step is not None:
        k = round((value - d.low) / d.step)
        grid = values(d)
        return [grid[j] for j in (k - 1, k + 1) if 0 <= j < len(grid)]
    if d.log:
        span = FLOAT_STEP * (math.log(d.high) - math.log(d.low))
        moved = [math.exp(math.log(value) + s) for s in (-span, span)]
    else:
        span = FLOAT_STEP * (d.high - d.low)
        moved = [value - span, value + span]
    found: list[Any] = []
    for v in (min(max(v, d.low), d.high) for v in moved):
        if v != value and v not in found:
            found.append(v)
    return found


def one_param_moves(base: FrozenTrial, trials: Iterable[FrozenTrial]) -> dict[str, list]:
    """The ``trials`` one move from ``base``, by the parameter moved: each differs from
    ``base`` in exactly one of the parameters both hold (and may hold parameters ``base``
    lacks, or lack some it holds, as that move implies)."""
    found: dict[str, list[FrozenTrial]] = defaultdict(list)
    for trial in trials:
        differ = [n for n in trial.params if n in base.params and key(trial, n) != key(base, n)]
        if len(differ) == 1:
            found[differ[0]].append(trial)
    return found


def agreeing(trials: Iterable[FrozenTrial], required: Mapping[str, float]) -> list[FrozenTrial]:
    """The ``trials`` holding every parameter of ``required`` with that internal value."""
    return [t for t in trials if all(n in t.params and key(t, n) == k for n, k in required.items())]


def covered(trials: Iterable[FrozenTrial], name: str, fixed: Collection[str]) -> set[float]:
    """The values (internal form) of ``name`` whose every completion ``trials`` hold.

    ``trials`` agree with the candidate on every parameter of ``fixed`` they hold. A trial's
    parameters are in the order it asked for them (as every Optuna storage keeps them), and
    the space decides which parameter comes next from the values before it; so the other
    parameters of the trials holding a value form a tree, and the value is covered when at
    each branch every value of the parameter asked there is present. Exact for finite
    parameters; a continuous parameter never covers.
    """
    groups: dict[float, list[tuple[FrozenTrial, list[tuple[str, float]]]]] = defaultdict(list)
    for trial in trials:
        if name in trial.params:
            path = [(n, key(trial, n)) for n in trial.params if n != name and n not in fixed]
            groups[key(trial, name)].append((trial, path))
    return {value for value, group in groups.items() if _complete(group, 0)}


def _complete(group: list[tuple[FrozenTrial, list[tuple[str, float]]]], depth: int) -> bool:
    """Whether ``group``, whose paths (free parameters in asking order) agree on their first
    ``depth`` steps, holds every way of going on from there."""
    if any(len(path) == depth for _, path in group):
        return True  # a candidate ends here, so every one that agrees so far does
    asked = {path[depth][0] for _, path in group}
    if len(asked) != 1:
        return False  # the trials disagree on what comes next: not one space's candidates
    (name,) = asked
    size = count(group[0][0].distributions[name])
    branches: dict[float, list] = defaultdict(list)
    for trial, path in group:
        branches[path[depth][1]].append((trial, path))
    return (
        size is not None
        and len(branches) >= size
        and all(_complete(branch, depth + 1) for branch in branches.values())
    )


def losses(study: optuna.Study, trial: FrozenTrial) -> tuple[float, ...]:
    """A complete trial's values, each turned so that lower is better."""
    return tuple(
        v if d == StudyDirection.MINIMIZE else -v
        for v, d in zip(trial.values, study.directions, strict=True)
    )


def completed(trials: Iterable[FrozenTrial]) -> list[FrozenTrial]:
    """The complete trials with values, by number."""
    done = (t for t in trials if t.state == TrialState.COMPLETE and t.values is not None)
    return sorted(done, key=lambda t: t.number)


@dataclass
class Plan:
    """How one trial samples: ``base``'s values but for ``move`` (see the module docstring);
    all values fresh where ``base`` is ``None``. ``trials`` are the study's other trials
    that agree with the plan (hold ``move``, and ``base``'s values where they hold its
    parameters), the ones fresh values are drawn to differ from."""

    base: FrozenTrial | None = None
    move: tuple[str, Any] | None = None
    trials: list[FrozenTrial] = field(default_factory=list)


class PlanSampler(BaseSampler):
    """An Optuna sampler that samples each trial by a :class:`Plan`; subclasses say how the
    plan is made (:meth:`plan`), from the study's stored trials alone.

    Random draws come from a ``RandomState`` and an Optuna ``RandomSampler``, so
    :class:`~nas.search.algorithms.TrialSeeded` reseeds both per trial.
    """

    attr: ClassVar[str]
    """The system attribute of each planned trial that records its plan."""

    def __init__(self, seed: int | None = None) -> None:
        self._rng = np.random.RandomState(seed)
        self._random = RandomSampler(seed=seed)
        self._plans: dict[int, Plan] = {}

    def plan(
        self, study: optuna.Study, trial: FrozenTrial, others: list[FrozenTrial]
    ) -> tuple[Plan, dict[str, Any]]:
        """The plan of ``trial`` and the record of it (JSON data); ``others`` are the
        study's other trials that hold parameters."""
        raise NotImplementedError

    def reseed_rng(self) -> None:
        self._rng.seed()
        self._random.reseed_rng()

    def infer_relative_search_space(
        self, study: optuna.Study, trial: FrozenTrial
    ) -> dict[str, BaseDistribution]:
        return {}

    def sample_relative(
        self, study: optuna.Study, trial: FrozenTrial, search_space: dict[str, BaseDistribution]
    ) -> dict[str, Any]:
        return {}

    def sample_independent(
        self,
        study: optuna.Study,
        trial: FrozenTrial,
        param_name: str,
        param_distribution: BaseDistribution,
    ) -> Any:
        plan = self._plans.get(trial_id(trial))
        if plan is None:
            others = [
                t for t in study.get_trials(deepcopy=False) if t.number != trial.number and t.params
            ]
            plan, record = self.plan(study, trial, others)
            storage_of(study).set_trial_system_attr(trial_id(trial), self.attr, record)
            self._plans[trial_id(trial)] = plan
        base, move = plan.base, plan.move
        if base is not None and base.distributions.get(param_name) == param_distribution:
            if move is not None and param_name == move[0]:
                return move[1]
            return base.params[param_name]
        # A parameter the base lacks: fresh, and where it can be, a value whose candidates
        # the study does not hold every one of.
        prefix = {n: key(trial, n) for n in trial.params}
        fixed = {*prefix, *(base.params if base is not None else ())}
        avoid = covered(agreeing(plan.trials, prefix), param_name, fixed)
        return self.draw(study, trial, param_name, param_distribution, avoid)

    def draw(
        self,
        study: optuna.Study,
        trial: FrozenTrial,
        name: str,
        distribution: BaseDistribution,
        avoid: Collection[float],
    ) -> Any:
        """A random value (as Optuna's ``RandomSampler`` draws) whose internal form is not in
        ``avoid``, where the distribution has one; else any random value."""
        for _ in range(RANDOM_DRAWS):
            value = self._random.sample_independent(study, trial, name, distribution)
            if distribution.to_internal_repr(value) not in avoid:
                return value
        free = [v for v in values(distribution) if distribution.to_internal_repr(v) not in avoid]
        return free[self._rng.randint(len(free))] if free else value

    def after_trial(
        self,
        study: optuna.Study,
        trial: FrozenTrial,
        state: TrialState,
        values: Sequence[float] | None,
    ) -> None:
        self._plans.pop(trial_id(trial), None)
