"""The execution boundary: the search driver hands jobs to an executor and gets outcomes.

The driver alone writes the store; executors only train. ``wait`` forwards every epoch's
metrics to ``on_epoch(trial_number, epoch, metrics)``, whose True answer asks that trial to
stop (it then ends as pruned). :class:`~nas.execution.local.LocalExecutor` trains in this
process; :class:`~nas.execution.ray.RayExecutor` runs the same
:func:`~nas.execution.trial.run_trial` on Ray actors.
"""

from __future__ import annotations

import abc
from collections.abc import Callable
from typing import Protocol

from nas.execution.job import TrialJob, TrialOutcome

EpochReport = Callable[[int, int, dict[str, float]], bool]


class Executor(abc.ABC):
    """Runs up to ``slots`` jobs at a time."""

    slots: int = 1

    @abc.abstractmethod
    def submit(self, job: TrialJob) -> None:
        """Queue a job; it starts when a slot is free."""

    @abc.abstractmethod
    def wait(self, on_epoch: EpochReport, timeout: float | None = None) -> list[TrialOutcome]:
        """Block until at least one job ends (or ``timeout`` seconds pass) and return the
        outcomes of the jobs that ended; an empty list when nothing is in flight."""

    @abc.abstractmethod
    def in_flight(self) -> list[int]:
        """Trial numbers submitted and not yet returned by ``wait``."""

    def shutdown(self) -> None:  # noqa: B027 - optional hook
        """Release workers; the executor is unusable afterwards."""

    def __enter__(self) -> Executor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.shutdown()


class Placement(Protocol):
    """Where and how many trials run at a time: what a pool of workers needs to know of an
    experiment's ``execution`` section. ``address`` is a Ray cluster to join (``None``: start
    a private local instance); CPU and GPU shares may be fractional; ``trial_timeout`` is in
    seconds (``None``: no limit)."""

    workers: int
    cpus_per_trial: float
    gpus_per_trial: float
    trial_timeout: float | None
    address: str | None
