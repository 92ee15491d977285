"""The execution boundary: the search driver hands jobs to an executor and gets outcomes.

The driver alone writes the store; executors only train. ``wait`` forwards every epoch's
metrics to ``on_epoch(trial_number, epoch, metrics)``, whose True answer asks that trial to
stop (it then ends as pruned). :class:`LocalExecutor` trains in this process, one job at a
time; :class:`nas.ray_executor.RayExecutor` runs the same :func:`nas.worker.run_trial` on
Ray actors. :func:`make_executor` picks one for an experiment.
"""

from __future__ import annotations

import abc
import dataclasses
import os
from collections import deque
from collections.abc import Callable
from typing import Any

from nas.architecture import Architecture
from nas.job import TrialJob, TrialOutcome
from nas.trainer import TrainConfig, Trainer
from nas.worker import run_trial

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


class LocalExecutor(Executor):
    """Trains in the calling process, one job per ``wait``; compiled programs persist.

    It holds ``1 + ahead`` jobs: while one trains, the programs of the next ``ahead`` are
    compiled in background threads. On a small model compilation is most of a trial, and
    XLA compiles without holding the GIL, so a 2-core machine does both at once.
    """

    def __init__(self, data: Any, config: TrainConfig, ahead: int = 1) -> None:
        self.data = data
        self.trainer = Trainer(config)
        self.ahead = ahead
        self.slots = 1 + ahead
        self._queue: deque[TrialJob] = deque()

    def submit(self, job: TrialJob) -> None:
        self._queue.append(job)

    def in_flight(self) -> list[int]:
        return [job.trial_number for job in self._queue]

    def wait(self, on_epoch: EpochReport, timeout: float | None = None) -> list[TrialOutcome]:
        if not self._queue:
            return []
        job = self._queue[0]
        for upcoming in list(self._queue)[1 : 1 + self.ahead]:
            self.trainer.prepare(Architecture.from_json(upcoming.architecture), self.data)
        outcome = run_trial(
            self.trainer,
            job,
            self.data,
            on_epoch=lambda epoch, metrics: on_epoch(job.trial_number, epoch, metrics),
        )
        self._queue.popleft()
        return [outcome]


def make_executor(experiment: Any, data: Any, config: TrainConfig) -> Executor:
    """The executor an experiment asks for: :class:`LocalExecutor` (``execution.lookahead``
    candidates ahead) for one worker, no cluster address and no ``trial_timeout`` (no Ray
    start-up cost), else :class:`nas.ray_executor.RayExecutor` (a time limit needs a worker
    process that can be killed). A non-empty ``RAY_ADDRESS`` in the environment counts as an
    address."""
    execution = experiment.execution
    address = execution.address or os.environ.get("RAY_ADDRESS") or None
    if execution.workers == 1 and address is None and execution.trial_timeout is None:
        return LocalExecutor(data, config, ahead=execution.lookahead)
    from nas.ray_executor import RayExecutor

    execution = dataclasses.replace(execution, address=address)
    return RayExecutor(data, config, execution, source=experiment.path)
