"""``sampler: evolution``: regularized (aging) evolution (Real et al. 2019).

The population is the ``population`` most recent complete trials, by trial number: each new
trial's result joins it and the oldest member leaves (dies), whatever its value. Each trial
is a child: ``tournament`` members drawn at random compete, and the child is the winner with
one parameter mutated (:class:`~nas.search.plans.Plan`). Until the study holds
``population`` complete trials, candidates are drawn at random (the initial population).
"""

from __future__ import annotations

from typing import Any

import optuna
from optuna.trial import FrozenTrial

from nas.search.plans import (
    Plan,
    PlanSampler,
    completed,
    count,
    covered,
    key,
    losses,
    one_param_moves,
)


def default_tournament(population: int) -> int:
    """The tournament size where the experiment gives none: half the population, at least 2.

    The paper's quarter (25 of 100) was chosen for budgets of thousands of trials; with a
    budget of hundreds, weak selection leaves the search close to random sampling for most
    of it. On NAS-Bench-201's CIFAR-10 table (population 20, 300 queries; see
    ``experiments/benchmarks/results/strategies.md``) a tournament of 5 needed a median of
    165 queries to find the best cell (30 seeds), one of 10 114, the whole population 68:
    half keeps some of the tournament's randomness on spaces less smooth than that one.
    """
    return min(population, max(2, population // 2))


class EvolutionSampler(PlanSampler):
    """Regularized evolution as an Optuna sampler (see the module docstring).

    The winner of a tournament is its best member (by the study's direction); with several
    objectives, a member no other member of the tournament dominates (the first such, in the
    random order drawn). A mutation draws a different value for one parameter of the winner,
    chosen at random among those it holds that have more than one value: another choice, or
    another value of the range, as Optuna's ``RandomSampler`` draws it (so steps and log
    scales are kept, integers stay integers). It draws only values that lead somewhere new
    where one exists: a winner all of whose one-parameter neighbours the study holds gives
    way to the winner of a new tournament among the rest of the population, and where no
    member has a new neighbour the child is drawn at random. Each trial records
    ``{"parent": NUMBER, "param": NAME}`` (``parent`` ``None`` for a random candidate) in
    its system attribute ``evolution``.

    Raises ``ValueError`` unless ``population >= 2`` and ``1 <= tournament <= population``.
    """

    attr = "evolution"

    def __init__(self, population: int, tournament: int | None = None, *, seed=None) -> None:
        if tournament is None and isinstance(population, int):
            tournament = default_tournament(population)
        for name, value, low in (("population", population, 2), ("tournament", tournament, 1)):
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise ValueError(f"{name} must be an integer >= {low}, got {value!r}")
        if tournament > population:
            raise ValueError(f"tournament ({tournament}) must be at most population ({population})")
        super().__init__(seed)
        self.population = population
        self.tournament = tournament

    def plan(
        self, study: optuna.Study, trial: FrozenTrial, others: list[FrozenTrial]
    ) -> tuple[Plan, dict[str, Any]]:
        done = completed(others)
        if len(done) < self.population:
            return Plan(trials=others), {"parent": None}
        pool = done[-self.population :]
        while pool:
            drawn = self._rng.choice(len(pool), size=min(self.tournament, len(pool)), replace=False)
            parent = self._winner(study, [pool[i] for i in drawn])
            plan = self._mutate(study, trial, parent, others)
            if plan is not None:
                return plan, {"parent": parent.number, "param": plan.move[0]}
            pool.remove(parent)
        return Plan(trials=others), {"parent": None}

    def _winner(self, study: optuna.Study, contestants: list[FrozenTrial]) -> FrozenTrial:
        scores = [losses(study, t) for t in contestants]
        for i, mine in enumerate(scores):
            if not any(_dominates(other, mine) for other in scores):
                return contestants[i]
        return contestants[0]  # not reached: the minimum by any objective is non-dominated

    def _mutate(
        self, study: optuna.Study, trial: FrozenTrial, parent: FrozenTrial, others: list
    ) -> Plan | None:
        """The parent with one parameter changed to a value leading to a candidate the study
        does not hold; ``None`` where every such move leads to one it holds."""
        movers = one_param_moves(parent, others)
        names = sorted(n for n, d in parent.distributions.items() if not d.single())
        self._rng.shuffle(names)
        for name in names:
            distribution = parent.distributions[name]
            near = movers.get(name, [])
            avoid = {key(parent, name)} | covered(near, name, parent.params)
            n = count(distribution)
            if n is not None and len(avoid) >= n:
                continue
            value = self.draw(study, trial, name, distribution, avoid)
            internal = distribution.to_internal_repr(value)
            agree = [t for t in near if key(t, name) == internal]
            return Plan(parent, (name, value), agree)
        return None


def _dominates(a: tuple[float, ...], b: tuple[float, ...]) -> bool:
    """Whether losses ``a`` dominate ``b``: no worse in any, better in one."""
    return all(x <= y for x, y in zip(a, b, strict=True)) and a != b
