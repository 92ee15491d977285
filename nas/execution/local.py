"""Training in the calling process: the executor of a one-worker search."""

from __future__ import annotations

from collections import deque

from nas.execution.base import EpochReport, Executor
from nas.execution.job import TrialJob, TrialOutcome
from nas.execution.trial import run_trial
from nas.model import Architecture
from nas.training import TrainConfig, Trainer, TrainingData


class LocalExecutor(Executor):
    """Trains in the calling process, one job per ``wait``; compiled programs persist.

    It holds ``1 + ahead`` jobs: while one trains, the programs of the next ``ahead`` are
    compiled in background threads. On a small model compilation is most of a trial, and
    XLA compiles without holding the GIL, so a 2-core machine does both at once.
    """

    def __init__(self, data: TrainingData, config: TrainConfig, ahead: int = 1) -> None:
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
