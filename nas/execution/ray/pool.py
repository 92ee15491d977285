"""The actor pool: long-lived trial workers, streamed epochs, stops, time limits, lost workers
and lost nodes. It runs in whichever process is the Ray driver (see
:mod:`nas.execution.ray.executor` for which).

:class:`WorkerPool` keeps ``workers`` actors (:class:`~nas.execution.ray.actor.TrialWorker`),
each with ``cpus_per_trial``/``gpus_per_trial`` of the cluster and a trainer whose compiled
programs outlive a trial. The dataset goes to the object store once; every actor reads it
from there.

How a trial runs, seen from the driver:

- its job goes to an idle actor (``run``): one that has answered its first call, so a job
  never waits on an actor that no node can host; the driver keeps one long poll (``poll``)
  outstanding per running trial; :meth:`WorkerPool.wait` waits on all results and polls at
  once, so epoch metrics reach ``on_epoch`` (and the pruner) as they are produced;
- ``on_epoch`` answering True sends a stop with the next poll; the worker, never more than one
  epoch ahead of the driver, ends the trial within one epoch, and it comes back pruned;
- ``trial_timeout`` is enforced by the worker at epoch ends (failed, ``timeout after N s``);
  a trial still running ``stop_grace`` seconds later is ended by killing its actor;
- an actor that dies fails its trial with ``worker_died`` set, so the driver may retry it, and
  is replaced. The reason is ``worker died: ...`` for a lost process, ``node lost: Ray node
  ID (IP) ...`` where its node is gone; then the replacement goes to a node left, and the
  pool runs on fewer workers while there is no room for it. Where the lost node is this
  process's own, or no node has had room for any worker for ``start_timeout`` seconds,
  :class:`NodesLost` is raised: this pool cannot go on.

Only the search driver writes the store: actors return :class:`~nas.execution.job.TrialOutcome`
values with numpy weights.
"""

from __future__ import annotations

import contextlib
import math
import re
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import ray
from ray.exceptions import RayActorError, RayError, RayTaskError

from nas.execution.base import EpochReport, Placement
from nas.execution.job import TrialJob, TrialOutcome
from nas.execution.ray.actor import Progress, TrialWorker, timeout_reason
from nas.execution.ray.cluster import dead_node
from nas.training import TrainConfig

MAX_CONCURRENCY = 4  # run, poll, and room for info/trace_counts calls
GPU_MEMORY_HEADROOM = 0.9  # of a GPU share, for XLA's allocator; the rest is CUDA's context
START_TIMEOUT = 300.0  # seconds a pool that lost a node waits for room for any worker


class NodesLost(Exception):
    """The pool cannot go on: the driver's own Ray node is gone, or no node left has room for
    a worker. ``str(err)`` is one line saying which node and how."""


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


class WorkerPool:
    """Runs trials on ``execution.workers`` actors of the Ray this process is connected to;
    see the module docstring. ``wait`` and ``submit`` follow
    :class:`~nas.execution.base.Executor`."""

    def __init__(
        self,
        data: Any,
        config: TrainConfig,
        execution: Placement,
        *,
        poll_wait: float = 1.0,
        stop_grace: float = 30.0,
        start_timeout: float = START_TIMEOUT,
    ) -> None:
        self.execution = execution
        self.slots = execution.workers
        self.poll_wait = poll_wait
        self.stop_grace = stop_grace
        self.start_timeout = start_timeout
        self.node = ray.get_runtime_context().get_node_id()
        self._data = ray.put(data)
        self._config = config
        self._actor_class = ray.remote(TrialWorker).options(
            num_cpus=execution.cpus_per_trial,
            num_gpus=execution.gpus_per_trial,
            max_concurrency=MAX_CONCURRENCY,
            max_restarts=0,
            runtime_env={"env_vars": worker_env(execution.gpus_per_trial)},
        )
        self._idle: deque[int] = deque()
        self._starting: dict[Any, int] = {}  # first call of an actor not yet answered -> slot
        self._nodes: dict[int, str] = {}  # slot -> node id of its actor, once it answered
        self._lost_at: float | None = None  # when a node was lost and no worker has started
        self.actors = [self._new_actor(slot) for slot in range(self.slots)]
        self._queue: deque[TrialJob] = deque()
        self._running: dict[int, _Running] = {}

    def submit(self, job: TrialJob) -> None:
        self._queue.append(job)

    def in_flight(self) -> list[int]:
        return [job.trial_number for job in self._queue] + list(self._running)

    def wait(self, on_epoch: EpochReport, timeout: float | None = None) -> list[TrialOutcome]:
        end = math.inf if timeout is None else time.monotonic() + timeout
        outcomes: list[TrialOutcome] = []
        while True:
            self._start_queued()
            if not self._running and not (self._queue and self._starting):
                return outcomes
            outcomes.extend(self._kill_overdue())
            if not self._running and not (self._queue and self._starting):
                self._start_queued()
                return outcomes
            self._check_room()
            waiting = dict(self._starting)
            for running in self._running.values():
                waiting[running.run_ref] = running
                if running.poll_ref is not None:
                    waiting[running.poll_ref] = running
            # Wake up for the caller's timeout, the next overdue trial, or to see whether
            # room for a worker was found in time after a node was lost.
            room = self._room_deadline()
            limit = max(0.0, min(end, self._next_deadline(), room) - time.monotonic())
            timeout_s = None if math.isinf(limit) else limit
            ready, _ = ray.wait(list(waiting), num_returns=1, timeout=timeout_s)
            if ready:  # take everything that is ready, not only the first
                ready, _ = ray.wait(list(waiting), num_returns=len(waiting), timeout=0)
            for ref in [r for r in ready if r in self._starting]:
                self._started(ref)
            # Polls first, so a trial's epochs reach on_epoch in order before its outcome.
            ready = [r for r in ready if isinstance(waiting[r], _Running)]
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
        self._starting.clear()

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

    def _new_actor(self, slot: int) -> Any:
        actor = self._actor_class.remote(self._config, self._data)
        self._nodes.pop(slot, None)
        self._starting[actor.info.remote()] = slot
        return actor

    def _started(self, ref: Any) -> None:
        """An actor's first call came back: its slot takes jobs."""
        slot = self._starting.pop(ref)
        try:
            self._nodes[slot] = ray.get(ref)["node"]
            self._lost_at = None
        except RayError:
            pass  # its trial's result will say what became of it
        self._idle.append(slot)

    def _replace(self, slot: int) -> None:
        _kill(self.actors[slot])
        self._starting = {ref: s for ref, s in self._starting.items() if s != slot}
        self.actors[slot] = self._new_actor(slot)

    def _start_queued(self) -> None:
        while self._queue and self._idle:
            job, slot = self._queue.popleft(), self._idle.popleft()
            actor = self.actors[slot]
            running = _Running(job, slot, actor.run.remote(job, self.execution.trial_timeout))
            self._running[job.trial_number] = running
            self._poll(running)

    def _room_deadline(self) -> float:
        """When jobs that wait, with nothing running, for room that a lost node took must
        have found it (inf when that is not the case)."""
        if self._lost_at is None or self._running or self._idle or not self._queue:
            return math.inf
        return self._lost_at + self.start_timeout

    def _check_room(self) -> None:
        """Raise :class:`NodesLost` past :meth:`_room_deadline`."""
        if time.monotonic() < self._room_deadline():
            return
        need = f"{self.execution.cpus_per_trial:g} CPU, {self.execution.gpus_per_trial:g} GPU"
        raise NodesLost(
            f"no Ray node left has room for a worker ({need}) {self.start_timeout:g} s after "
            "a node was lost"
        )

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
            # This process's own node first: actors that never started have no node known.
            for node in (self.node, self._nodes.get(running.slot)):
                lost = None if node is None else dead_node(node)
                if lost is not None:
                    break
            if lost is not None and lost[0] == self.node:
                raise NodesLost(f"Ray node {lost[0]} ({lost[1]}) is gone") from err
            self._replace(running.slot)
            if lost is not None:
                self._lost_at = time.monotonic() if self._lost_at is None else self._lost_at
                reason = f"node lost: Ray node {lost[0]} ({lost[1]}) is gone"
            else:
                reason = f"worker died: {_death(err)}"
            outcome = TrialOutcome(
                number,
                "failed",
                history=running.history,
                reason=reason,
                traceback=str(err),
                worker_died=True,
            )
            return outcome  # its slot takes jobs once the new actor answers
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
            outcomes.append(
                TrialOutcome(
                    running.job.trial_number,
                    "failed",
                    history=running.history,
                    reason=timeout_reason(limit),
                )
            )
        return outcomes


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
