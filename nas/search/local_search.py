"""``sampler: local_search``: best-improvement local search with random restarts (White et
al. 2021, "Local search is state of the art for NAS benchmarks").

A descent starts at a random candidate (a *restart*) and evaluates the current candidate's
one-parameter neighbours (:func:`~nas.search.plans.steps`), one per trial. Once all of them
are finished, it moves to the best if that beats the current candidate, and evaluates its
neighbours in turn; where none does, the current candidate is a local optimum and a new
descent starts at a new random candidate. ``restarts`` bounds the descents after the first
(unbounded by default): once the last one reaches its local optimum the sampler is done, and
the search ends saying so.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import optuna
from optuna.trial import FrozenTrial, TrialState

from nas.search.plans import Plan, PlanSampler, completed, key, losses, one_param_moves, steps


@dataclass(frozen=True)
class Step:
    """What a descent does next: ``kind`` is ``neighbour`` (evaluate one of ``moves``, the
    unevaluated neighbours of ``center``), ``wait`` (neighbours are still running: nothing to
    decide yet), ``restart`` (start descent ``descent``) or ``done`` (the last descent
    allowed ended)."""

    kind: str
    descent: int
    center: FrozenTrial | None = None
    moves: tuple[tuple[str, Any], ...] = ()


class LocalSearchSampler(PlanSampler):
    """Local search as an Optuna sampler (see the module docstring); one objective.

    Its state is the study's trials: each records ``{"role": ROLE, "descent": K, ...}`` in its
    system attribute ``local_search``, where ROLE is ``restart`` (the start of descent K),
    ``neighbour`` (with ``center``, the number of the trial it is a neighbour of, and
    ``param``, the one it changes) or ``random``. The descent is replayed from its start at
    each trial, so a resumed search, or another driver, goes on where it was. A neighbour
    counts as evaluated once any trial holds it, whoever proposed it (a candidate the study
    holds is not proposed again); parameters a move brings in (a layer a repeat count adds)
    are drawn fresh. While some neighbours run (``--workers``, or the candidate compiled
    ahead) the descent moves on from the best finished one if it beats the current
    candidate; where nothing is left to propose until a result comes back, the trial is a
    random candidate.

    ``exhausted`` turns True, and ``stop_reason`` says why, once the last descent allowed
    has ended. Raises ``ValueError`` unless ``restarts`` is ``None`` or an integer >= 0.
    """

    attr = "local_search"
    exhausted = False
    stop_reason: str | None = None

    def __init__(self, restarts: int | None = None, *, seed=None) -> None:
        if restarts is not None and (
            isinstance(restarts, bool) or not isinstance(restarts, int) or restarts < 0
        ):
            raise ValueError(f"restarts must be an integer >= 0, got {restarts!r}")
        super().__init__(seed)
        self.restarts = restarts

    def plan(
        self, study: optuna.Study, trial: FrozenTrial, others: list[FrozenTrial]
    ) -> tuple[Plan, dict[str, Any]]:
        if len(study.directions) > 1:
            raise ValueError("local_search supports one objective")
        step = self.next_step(study, others)
        if step.kind == "neighbour":
            name, value = step.moves[self._rng.randint(len(step.moves))]
            record = {"role": "neighbour", "descent": step.descent, "center": step.center.number}
            return Plan(step.center, (name, value)), {**record, "param": name}
        self._check_done(step)
        role = "restart" if step.kind == "restart" else "random"
        return Plan(trials=others), {"role": role, "descent": step.descent}

    def next_step(self, study: optuna.Study, trials: Sequence[FrozenTrial]) -> Step:
        """Replay the current descent over ``trials`` and say what comes next."""
        trials = sorted(trials, key=lambda t: t.number)
        starts = [t for t in trials if self._record(t).get("role") == "restart"]
        if not starts:
            return Step("restart", 0)
        center = starts[-1]
        descent = int(self._record(center).get("descent", len(starts) - 1))
        while center.state not in (TrialState.FAIL, TrialState.PRUNED):
            moves, near = self._neighbourhood(center, trials)
            unseen = tuple(m for m, t in zip(moves, near, strict=True) if t is None)
            if unseen:
                return Step("neighbour", descent, center, unseen)
            best = min(completed(near), key=lambda t: losses(study, t), default=None)
            if (
                center.state == TrialState.COMPLETE
                and best is not None
                and losses(study, best) < losses(study, center)
            ):
                center = best
                continue
            if TrialState.RUNNING in (center.state, *(t.state for t in near)):
                return Step("wait", descent, center)
            break
        if self.restarts is not None and descent >= self.restarts:
            return Step("done", descent)
        return Step("restart", descent + 1)

    def _neighbourhood(
        self, center: FrozenTrial, trials: Sequence[FrozenTrial]
    ) -> tuple[list[tuple[str, Any]], list[FrozenTrial | None]]:
        """``center``'s neighbours (moves) and, for each, a trial holding it (a complete one
        where there is one) or ``None``."""
        movers = one_param_moves(center, trials)
        moves: list[tuple[str, Any]] = []
        near: list[FrozenTrial | None] = []
        for name in sorted(center.distributions):
            distribution = center.distributions[name]
            if distribution.single():
                continue
            for value in steps(distribution, center.params[name]):
                internal = distribution.to_internal_repr(value)
                holding = [t for t in movers.get(name, ()) if key(t, name) == internal]
                holding.sort(key=lambda t: (t.state != TrialState.COMPLETE, t.number))
                near.append(holding[0] if holding else None)
                moves.append((name, value))
        return moves, near

    def _record(self, trial: FrozenTrial) -> dict[str, Any]:
        record = trial.system_attrs.get(self.attr)
        return record if isinstance(record, dict) else {}

    def after_trial(
        self,
        study: optuna.Study,
        trial: FrozenTrial,
        state: TrialState,
        values: Sequence[float] | None,
    ) -> None:
        super().after_trial(study, trial, state, values)
        if self.restarts is None or self.exhausted:
            return
        # Optuna stores the trial's state only after this call: replay with it.
        finished = copy.copy(trial)
        finished.state, finished.values = state, values
        trials = [
            finished if t.number == trial.number else t
            for t in study.get_trials(deepcopy=False)
            if t.params or t.number == trial.number
        ]
        self._check_done(self.next_step(study, trials))

    def _check_done(self, step: Step) -> None:
        if step.kind == "done" and not self.exhausted:
            self.exhausted = True
            self.stop_reason = (
                f"local search is done: its {step.descent + 1} descent(s) each reached a local "
                f"optimum (sampler.restarts: {self.restarts})"
            )
