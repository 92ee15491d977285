"""What the search driver tells whoever shows its progress (the terminal display of
:mod:`nas.cli`, a test): plain values, no Optuna objects."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from optuna.trial import FrozenTrial

from nas.model import Architecture
from nas.store import TrialRecord

if TYPE_CHECKING:
    from nas.config import Experiment


@dataclass
class SearchSummary:
    """What a call of :func:`run_search` did. ``best`` are the best trials (Pareto front with
    several objectives) with their test metrics under ``test`` (number -> metrics).
    ``stopped`` says why the search ended short of its target (``None`` where it did not, or
    where it ran out of time or was interrupted): a finite space exhausted, or too many
    duplicate or rejected proposals in a row."""

    study: str
    storage: str
    counted: int
    target: int | None
    new_trials: int
    interrupted: bool
    elapsed: float
    stopped: str | None = None
    best: list[FrozenTrial] = field(default_factory=list)
    test: dict[int, dict[str, float]] = field(default_factory=dict)


class Reporter:
    """Hooks the search driver calls, in order: ``start`` once, then ``trial_started``,
    ``epoch`` (after each epoch) and ``trial_finished`` (with the finished trial and the
    study's counted trials) per trial, and ``done`` once. The base class ignores them all."""

    def start(
        self, experiment: Experiment, counted: int, target: int | None, recovered: list[int]
    ) -> None:
        pass

    def trial_started(self, number: int, arch: Architecture) -> None:
        pass

    def epoch(self, number: int, epoch: int, metrics: dict[str, float]) -> None:
        pass

    def trial_finished(self, trial: TrialRecord, counted: int) -> None:
        pass

    def done(self, summary: SearchSummary) -> None:
        pass


NullReporter = Reporter


def quiet_optuna() -> None:
    """Silence Optuna's own log lines and experimental-feature notices: the driver reports
    progress through a :class:`Reporter`, and users need not hear about Optuna's internals."""
    import warnings

    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)
