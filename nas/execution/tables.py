"""Looking candidates up in a benchmark table instead of training them (``dataset: nb201/...``,
:mod:`nas.data.tables`)."""

from __future__ import annotations

from nas.data import lookup, table_cell
from nas.execution.base import EpochReport, Executor
from nas.execution.job import TrialJob, TrialOutcome
from nas.model import Architecture

TABLE_DEVICE = "table"
"""The device a looked-up trial records."""


class TableExecutor(Executor):
    """Answers each job from table ``table`` (``mode``: ``mean`` or ``per_seed``, whose seed
    is the job's), in this process, with no epochs: ``metrics`` hold ``val_accuracy`` (a
    fraction) and the table's ``train_time``, ``latency`` and ``model_size`` (and the seed
    index ``table_seed`` in per-seed mode). ``slots`` jobs are held before the first is
    answered, as that many workers would run them, so a sampler proposes that many
    candidates without their results; ``wait`` answers every job held.
    """

    def __init__(self, table: str, mode: str, slots: int = 1) -> None:
        self.table = table
        self.mode = mode
        self.slots = slots
        self._queue: list[TrialJob] = []

    def submit(self, job: TrialJob) -> None:
        self._queue.append(job)

    def in_flight(self) -> list[int]:
        return [job.trial_number for job in self._queue]

    def wait(self, on_epoch: EpochReport, timeout: float | None = None) -> list[TrialOutcome]:
        jobs, self._queue = self._queue, []
        return [self._answer(job) for job in jobs]

    def _answer(self, job: TrialJob) -> TrialOutcome:
        base = {"trial_number": job.trial_number, "device": TABLE_DEVICE, "node": ""}
        try:
            ops = table_cell(Architecture.from_json(job.architecture))
        except ValueError as err:  # not reached for a space the experiment checks accepted
            return TrialOutcome(state="failed", reason=f"not in {self.table}: {err}", **base)
        metrics = lookup(self.table, ops, self.mode, job.seed)
        return TrialOutcome(state="complete", metrics=metrics, **base)
