"""Trials on Ray: long-lived worker actors, streamed epochs, stops, time limits, lost workers.

:class:`RayExecutor` keeps ``workers`` actors
(:class:`~nas.execution.ray.actor.TrialWorker`), each with
``cpus_per_trial``/``gpus_per_trial`` of the cluster and a trainer whose compiled programs
outlive a trial. The dataset goes to the object store once; every actor reads it from there.

How a trial runs, seen from the driver:

- its job goes to an idle actor (``run``), and the driver keeps one long poll (``poll``)
  outstanding per running trial; :meth:`RayExecutor.wait` waits on all results and polls at
  once, so epoch metrics reach ``on_epoch`` (and the pruner) as they are produced;
- ``on_epoch`` answering True sends a stop with the next poll; the worker, never more than one
  epoch ahead of the driver, ends the trial within one epoch, and it comes back pruned;
- ``trial_timeout`` is enforced by the worker at epoch ends (failed, ``timeout after N s``);
  a trial still running ``stop_grace`` seconds later is ended by killing its actor;
- an actor that dies (process killed, node lost) fails its trial with reason
  ``worker died: ...`` and ``worker_died`` set, so the driver may retry it; the actor is
  replaced and the search goes on.

Only the driver writes the store: actors return :class:`~nas.execution.job.TrialOutcome` values with
numpy weights.
"""

from __future__ import annotations

import contextlib
import math
import os
import re
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import ray
from ray.exceptions import RayActorError, RayError, RayTaskError

from nas.errors import SpecError
from nas.execution.base import EpochReport, Executor, Placement
from nas.execution.job import TrialJob, TrialOutcome
from nas.execution.ray.actor import Progress, TrialWorker, timeout_reason
from nas.execution.ray.cluster import RaySession, connect
from nas.training import TrainConfig

MAX_CONCURRENCY = 4  # run, poll, and room for info/trace_counts calls
GPU_MEMORY_HEADROOM = 0.9  # of a GPU share, for XLA's allocator; the rest is CUDA's context


def worker_env(gpus_per_trial: float) -> dict[str, str]:
    """Environment of a worker: where trials share a GPU, XLA must not preallocate it and may
    use only the trial's share of its memory."""
    if not 0 < gpus_per_trial < 1:
        return {}
    fraction = math.floor(gpus_per_trial * GPU_MEMORY_HEADROOM * 1000) / 1000
    return {
        "XLA_PYTHON_CLIENT_PREALLOCATE": "false",
        "XLA_PYTHON_CLIENT_MEM_FRACTION": f"{fraction:.3f}",
    }


@dataclass
class _Running:
    """Driver-side record of a trial on an actor."""

    job: TrialJob
    slot: int
    run_ref: Any
    poll_ref: Any = None
    history: list[dict[str, float]] = field(default_factory=list)
    started_at: float | None = None
    stop: bool = False


class RayExecutor(Executor):
    """Runs trials on ``execution.workers`` Ray actors; see the module docstring.

    Joins the cluster at ``execution.address`` (else starts a local loopback instance with
    CPUs for ``workers`` trials at a time, shut down by :meth:`shutdown`). Raises
    :class:`SpecError` (against ``source``, the experiment file) when a local instance lacks
    the GPUs ``workers`` trials at a time need.
    """

    def __init__(
        self,
        data: Any,
        config: TrainConfig,
        execution: Placement,
        *,
        poll_wait: float = 1.0,
        stop_grace: float = 30.0,
        source: str | Path = "experiment",
    ) -> None:
        self.execution = execution
        self.slots = execution.workers
        self.poll_wait = poll_wait
        self.stop_grace = stop_grace
        self.session: RaySession = connect(execution.address, num_cpus=_local_cpus(execution))
        if self.session.started:
            try:
                _check_gpus(execution, source)
            except SpecError:
                self.session.close()
                raise
        self._data = ray.put(data)
        self._config = config
        self._actor_class = ray.remote(TrialWorker).options(
            num_cpus=execution.cpus_per_trial,
            num_gpus=execution.gpus_per_trial,
            max_concurrency=MAX_CONCURRENCY,
            max_restarts=0,
            runtime_env={"env_vars": worker_env(execution.gpus_per_trial)},
        )
        self.actors = [self._new_actor() for _ in range(self.slots)]
        self._idle = deque(range(self.slots))
        self._queue: deque[TrialJob] = deque()
        self._running: dict[int, _Running] = {}

    # -- Executor ----------------------------------------------------------------------

    def submit(self, job: TrialJob) -> None:
        self._queue.append(job)

    def in_flight(self) -> list[int]:
        return [job.trial_number for job in self._queue] + list(self._running)

    def wait(self, on_epoch: EpochReport, timeout: float | None = None) -> list[TrialOutcome]:
        end = math.inf if timeout is None else time.monotonic() + timeout
        outcomes: list[TrialOutcome] = []
        while True:
            self._start_queued()
            if not self._running:
                return outcomes
            outcomes.extend(self._kill_overdue())
            if not self._running:
                self._start_queued()
                return outcomes
            waiting = {}
            for running in self._running.values():
                waiting[running.run_ref] = running
                if running.poll_ref is not None:
                    waiting[running.poll_ref] = running
            now = time.monotonic()
            limit = max(0.0, min(end, self._next_deadline()) - now)
            timeout_s = None if math.isinf(limit) else limit
            ready, _ = ray.wait(list(waiting), num_returns=1, timeout=timeout_s)
            if ready:  # take everything that is ready, not only the first
                ready, _ = ray.wait(list(waiting), num_returns=len(waiting), timeout=0)
            # Polls first, so a trial's epochs reach on_epoch in order before its outcome.
            for ref in sorted(ready, key=lambda r: r == waiting[r].run_ref):
                running = waiting[ref]
                if running.job.trial_number not in self._running:
                    continue
                if ref == running.run_ref:
                    outcomes.append(self._finish(running, on_epoch))
                else:
                    self._on_poll(running, on_epoch)
            if outcomes or time.monotonic() >= end:
                self._start_queued()
                return outcomes

    def shutdown(self) -> None:
        for actor in self.actors:
            _kill(actor)
        self._running.clear()
        self._queue.clear()
        self.session.close()

    # -- introspection (tests, benchmarks) ---------------------------------------------

    def worker_info(self, timeout: float = 120.0) -> list[dict[str, Any]]:
        """:meth:`TrialWorker.info` of every actor, in slot order."""
        return ray.get([actor.info.remote() for actor in self.actors], timeout=timeout)

    def slot_of(self, trial_number: int) -> int | None:
        """Index in :attr:`actors` of the worker running ``trial_number`` (None if none)."""
        running = self._running.get(trial_number)
        return None if running is None else running.slot

    def trace_counts(self, timeout: float = 120.0) -> list[dict[tuple[str, str], int]]:
        """Every actor's trainer ``trace_counts``, in slot order."""
        return ray.get([actor.trace_counts.remote() for actor in self.actors], timeout=timeout)

    # -- internals ---------------------------------------------------------------------

    def _new_actor(self) -> Any:
        return self._actor_class.remote(self._config, self._data)

    def _replace(self, slot: int) -> None:
        _kill(self.actors[slot])
        self.actors[slot] = self._new_actor()

    def _start_queued(self) -> None:
        while self._queue and self._idle:
            job, slot = self._queue.popleft(), self._idle.popleft()
            actor = self.actors[slot]
            running = _Running(job, slot, actor.run.remote(job, self.execution.trial_timeout))
            self._running[job.trial_number] = running
            self._poll(running)

    def _poll(self, running: _Running) -> None:
        running.poll_ref = self.actors[running.slot].poll.remote(
            running.job.trial_number,
            len(running.history),
            started=running.started_at is not None,
            stop=running.stop,
            wait=self.poll_wait,
        )

    def _on_poll(self, running: _Running, on_epoch: EpochReport) -> None:
        try:
            progress: Progress = ray.get(running.poll_ref)
        except RayError:  # the actor is gone; its run result says how
            running.poll_ref = None
            return
        if progress.started and running.started_at is None:
            running.started_at = time.monotonic()
        for metrics in progress.epochs:
            running.history.append(metrics)
            number = running.job.trial_number
            if on_epoch(number, int(metrics["epoch"]), dict(metrics)):
                running.stop = True
        if progress.done:
            running.poll_ref = None
        else:
            self._poll(running)

    def _finish(self, running: _Running, on_epoch: EpochReport) -> TrialOutcome:
        number = running.job.trial_number
        del self._running[number]
        try:
            outcome: TrialOutcome = ray.get(running.run_ref)
        except RayActorError as err:
            self._replace(running.slot)
            outcome = TrialOutcome(
                number,
                "failed",
                history=running.history,
                reason=f"worker died: {_death(err)}",
                traceback=str(err),
                worker_died=True,
            )
        except RayTaskError as err:  # run_trial catches trial errors; this is the worker's
            outcome = TrialOutcome(
                number,
                "failed",
                history=running.history,
                reason=_first_line(err),
                traceback=str(err),
            )
        else:
            for metrics in outcome.history[len(running.history) :]:
                on_epoch(number, int(metrics["epoch"]), dict(metrics))
        self._idle.append(running.slot)
        return outcome

    def _next_deadline(self) -> float:
        """When the next overdue trial must be ended."""
        limit = self.execution.trial_timeout
        if limit is None:
            return math.inf
        starts = [r.started_at for r in self._running.values() if r.started_at is not None]
        return min(starts, default=math.inf) + limit + self.stop_grace

    def _kill_overdue(self) -> list[TrialOutcome]:
        """Trials past their time limit and grace that did not stop: failed, actor replaced."""
        limit = self.execution.trial_timeout
        if limit is None:
            return []
        now = time.monotonic()
        outcomes = []
        for running in list(self._running.values()):
            if running.started_at is None or now < running.started_at + limit + self.stop_grace:
                continue
            del self._running[running.job.trial_number]
            self._replace(running.slot)
            self._idle.append(running.slot)
            outcomes.append(
                TrialOutcome(
                    running.job.trial_number,
                    "failed",
                    history=running.history,
                    reason=timeout_reason(limit),
                )
            )
        return outcomes


def _local_cpus(execution: Placement) -> int:
    """CPUs a local instance declares: the machine's, or enough for ``workers`` trials at a
    time, so asking for more trials than cores shares the cores rather than leaving trials
    waiting for actors that can never start."""
    wanted = math.ceil(execution.workers * execution.cpus_per_trial)
    return max(os.cpu_count() or 1, wanted)


def _check_gpus(execution: Placement, source: str | Path) -> None:
    """GPUs cannot be shared beyond what a local instance has: refuse what cannot run."""
    wanted = execution.workers * execution.gpus_per_trial
    have = ray.cluster_resources().get("GPU", 0.0)
    if wanted > have:
        raise SpecError(
            source,
            "execution.gpus_per_trial",
            f"{execution.workers} trial(s) at a time with {execution.gpus_per_trial:g} GPU each "
            f"need {wanted:g} GPU(s) but this machine has {have:g}; lower execution.workers or "
            "execution.gpus_per_trial, or join a cluster with --address",
        )


def _kill(actor: Any) -> None:
    with contextlib.suppress(RayError, ValueError):  # already gone
        ray.kill(actor, no_restart=True)


def _death(err: RayActorError) -> str:
    """One line on a lost actor, e.g. ``The actor died unexpectedly before finishing this
    task (pid 12, ip 127.0.0.1, exit SYSTEM_ERROR)``."""
    text = str(err)
    found = {
        key: match.group(1)
        for key, pattern in (
            ("pid", r"\bpid: (\d+)"),
            ("ip", r"\bip: (\S+)"),
            ("exit", r"Worker exit type: (\w+)"),
        )
        if (match := re.search(pattern, text))
    }
    details = ", ".join(f"{key} {value}" for key, value in found.items())
    line = _first_line(err).rstrip(".")
    return f"{line} ({details})" if details else line


def _first_line(err: BaseException) -> str:
    """A one-line summary of a Ray error (their messages run over many lines)."""
    text = str(err).strip()
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return (lines[0] if lines else type(err).__name__)[:500]
