"""The long-lived trial worker a Ray actor wraps: one trainer, one trial at a time.

:class:`TrialWorker` is plain Python; :mod:`nas.execution.ray.executor` makes it a threaded
actor. One thread runs :meth:`TrialWorker.run`; others answer :meth:`TrialWorker.poll`, the
driver's long poll for news of a trial, which also carries the driver's acknowledgement of
the epochs it has judged and its request to stop. The trainer keeps its compiled programs
across trials, so a signature this worker has seen before is not compiled again.

Streaming contract: after epoch ``e`` the training thread publishes that epoch's metrics and
goes on only once the driver has acknowledged epoch ``e - 1`` (or asked it to stop), so a
worker is never more than one epoch ahead of the driver's pruning decisions: a stop decided
on epoch ``e - 1`` ends the trial at the end of epoch ``e`` at the latest.

Timeout contract: ``run(job, timeout)`` stops the trial at the first epoch end after
``timeout`` seconds of training and returns it failed with reason ``timeout after N s``. A
trial that reaches no epoch end in time (a long compile, a stuck step) is the driver's to
end, by killing this worker.
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from nas.execution.job import TrialJob, TrialOutcome
from nas.execution.trial import device_name, run_trial
from nas.training import TrainConfig, Trainer

AHEAD = 1  # epochs a worker may run past the driver's last acknowledgement


def timeout_reason(seconds: float) -> str:
    """The failure reason of a trial stopped by its time limit."""
    return f"timeout after {seconds:g} s"


@dataclass
class Progress:
    """What the driver learns by polling: new epochs, whether training started and ended."""

    epochs: list[dict[str, float]] = field(default_factory=list)
    started: bool = False
    done: bool = False


@dataclass
class _Trial:
    """Streaming state of one trial; guarded by the worker's condition."""

    history: list[dict[str, float]] = field(default_factory=list)
    acked: int = 0
    stop: bool = False
    started: bool = False
    done: bool = False


class TrialWorker:
    """Trains the jobs it is given with one :class:`Trainer`; see the module docstring."""

    def __init__(self, config: TrainConfig, data: Any) -> None:
        self.trainer = Trainer(config)
        self.data = data
        self._trials: dict[int, _Trial] = {}
        self._changed = threading.Condition()

    def run(self, job: TrialJob, timeout: float | None = None) -> TrialOutcome:
        """Train ``job`` (see the module docstring); the outcome's ``node`` is this worker's
        Ray node id."""
        with self._changed:
            # One trial at a time: earlier trials' outcomes are with the driver already.
            trial = self._trials.setdefault(job.trial_number, _Trial())
            self._trials = {job.trial_number: trial}
            trial.started = True
            self._changed.notify_all()
        start = time.monotonic()
        timed_out = False

        def on_epoch(epoch: int, metrics: dict[str, float]) -> bool:
            nonlocal timed_out
            with self._changed:
                trial.history.append(metrics)
                self._changed.notify_all()
                if timeout is not None and time.monotonic() - start > timeout:
                    timed_out = True
                    return True
                self._changed.wait_for(lambda: trial.stop or trial.acked >= epoch - AHEAD)
                return trial.stop

        try:
            outcome = run_trial(self.trainer, job, self.data, on_epoch=on_epoch)
        finally:
            with self._changed:
                trial.done = True
                self._changed.notify_all()
        if timed_out and outcome.state == "pruned":
            outcome.state, outcome.variables = "failed", None
            outcome.reason = timeout_reason(timeout or 0.0)
        outcome.node = _node_id()
        return outcome

    def poll(
        self,
        trial_number: int,
        seen: int,
        *,
        started: bool = False,
        stop: bool = False,
        wait: float = 1.0,
    ) -> Progress:
        """News of ``trial_number`` for a driver that has judged its first ``seen`` epochs
        (acknowledging them) and knows whether it ``started``; ``stop`` asks the trial to end
        after its current epoch. Waits up to ``wait`` seconds for news; a trial that has not
        reached this worker yet is waited for too."""
        with self._changed:
            trial = self._trials.setdefault(trial_number, _Trial())
            trial.acked = max(trial.acked, seen)
            trial.stop = trial.stop or stop
            self._changed.notify_all()
            self._changed.wait_for(
                lambda: trial.done or len(trial.history) > seen or trial.started != started,
                wait,
            )
            return Progress(list(trial.history[seen:]), trial.started, trial.done)

    def info(self) -> dict[str, Any]:
        """Process id, Ray node id, device and the XLA memory settings of this worker."""
        return {
            "pid": os.getpid(),
            "node": _node_id(),
            "device": device_name(),
            "env": {k: v for k, v in os.environ.items() if k.startswith("XLA_PYTHON_CLIENT_")},
        }

    def trace_counts(self) -> dict[tuple[str, str], int]:
        """The trainer's ``trace_counts``: (signature, program) -> times traced."""
        return dict(self.trainer.trace_counts)


def _node_id() -> str:
    import ray

    return ray.get_runtime_context().get_node_id()
