"""Trials on Ray, and what happens when Ray loses the nodes they ran on.

:class:`RayExecutor` runs trials on a :class:`~nas.execution.ray.pool.WorkerPool` (long-lived
actors, streamed epochs, stops, time limits, lost workers: see that module). Where this process
has not connected to Ray itself, the pool runs in a host process of its own
(:mod:`nas.execution.ray.host`) that starts a private local instance or joins the cluster at
``execution.address``: Ray ends the process attached to a node whose raylet dies, and the
search driver must outlive that. Where this process is connected already, the pool runs here
on that Ray, left running on shutdown.

When the nodes are lost (the local instance's raylet dies, the host process exits, or the pool
finds its own node, or room on every node, gone), every trial in flight comes back failed with
reason ``node lost: ...`` naming the node, and ``worker_died`` set, so the search driver
re-queues it per ``execution.retries``; then a new host starts: a fresh local instance, or the
cluster again, whose nodes left run the trials. Where that is not possible (Ray was connected
before the executor, the new host fails to start, or :data:`MAX_LOSSES` hosts in a row were
lost before any trial came back), the executor raises :class:`RayLost`, one line naming the
cause and what to run, from the next use of :attr:`~RayExecutor.slots`,
:meth:`~RayExecutor.submit` or :meth:`~RayExecutor.wait` once those outcomes are returned.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import ray

from nas.errors import UserError
from nas.execution.base import EpochReport, Executor, Placement
from nas.execution.job import TrialJob, TrialOutcome
from nas.execution.ray.cluster import RaySession
from nas.execution.ray.host import Host, HostLost, open_pool
from nas.execution.ray.pool import NodesLost, WorkerPool
from nas.training import TrainConfig

MAX_LOSSES = 3  # hosts lost in a row, with no trial back in between, before giving up
LOST_GRACE_S = 10.0  # for a host whose nodes are lost to stop its Ray session


class RayLost(UserError):
    """The search cannot go on on Ray: the nodes it ran on are gone and Ray could not be
    started or joined again. ``str(err)`` names the cause and what to run."""


class _InProcess:
    """The pool in this process, on the Ray it was connected to already: nothing restarts."""

    restartable = False
    log: str | None = None

    def __init__(self, session: RaySession, pool: WorkerPool) -> None:
        self.session, self.pool = session, pool

    def submit(self, job: TrialJob) -> None:
        self.pool.submit(job)

    def wait(self, on_epoch: EpochReport, timeout: float | None) -> list[TrialOutcome]:
        return self.pool.wait(on_epoch, timeout)

    def call(self, name: str, *args: Any, within: float = 0.0) -> Any:
        return getattr(self.pool, name)(*args)

    def close(self, **_: object) -> None:
        self.pool.shutdown()
        self.session.close()


class RayExecutor(Executor):
    """Runs trials on ``execution.workers`` Ray actors; see the module docstring.

    Joins the cluster at ``execution.address`` (else starts a local loopback instance with
    CPUs for ``workers`` trials at a time, shut down by :meth:`shutdown`). Raises
    :class:`SpecError` (against ``source``, the experiment file) when a local instance lacks
    the GPUs ``workers`` trials at a time need, and :class:`RayLost` (one line naming the
    cause) where Ray cannot be started or joined.
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
        self._params = {
            "data": data,
            "config": config,
            "execution": execution,
            "source": source,
            "poll_wait": poll_wait,
            "stop_grace": stop_grace,
        }
        self._jobs: dict[int, list[dict[str, float]]] = {}  # in flight: epochs seen so far
        self._losses = 0
        self._broken: RayLost | None = None
        self._lost: str | None = None  # the host was found gone by submit; wait handles it
        self._backend: Host | _InProcess
        if ray.is_initialized():
            self._backend = _InProcess(*open_pool(**self._params))
        else:
            try:
                self._backend = Host(self._params)
            except UserError:  # a local instance without the GPUs asked for
                raise
            except Exception as err:  # whatever it is, the search cannot start on Ray
                raise RayLost(
                    f"{self._cannot_start(err)}, then run the same command again"
                ) from None
        self.session: RaySession = self._backend.session

    # -- Executor ----------------------------------------------------------------------

    @property
    def slots(self) -> int:  # type: ignore[override]  # a plain attribute in the base
        """Trials at a time; raises :class:`RayLost` once Ray is lost for good and every
        outcome is returned."""
        if self._broken is not None and not self._jobs:
            raise self._broken
        return self.execution.workers

    def submit(self, job: TrialJob) -> None:
        if self._broken is not None:
            raise self._broken
        self._jobs[job.trial_number] = []
        if self._lost is None:
            try:
                self._backend.submit(job)
            except HostLost as err:  # the next wait fails this job with the others
                self._lost = str(err)

    def in_flight(self) -> list[int]:
        return list(self._jobs)

    def wait(self, on_epoch: EpochReport, timeout: float | None = None) -> list[TrialOutcome]:
        if self._broken is not None:
            raise self._broken
        if not self._jobs:
            return []

        def forward(number: int, epoch: int, metrics: dict[str, float]) -> bool:
            self._jobs[number].append(metrics)
            return on_epoch(number, epoch, metrics)

        try:
            if self._lost is not None:
                raise HostLost(self._lost)
            outcomes = self._backend.wait(forward, timeout)
        except (HostLost, NodesLost) as err:
            self._lost = None
            outcomes = self._lose(str(err))
        else:
            self._losses = 0 if outcomes else self._losses
        for outcome in outcomes:
            self._jobs.pop(outcome.trial_number, None)
        return outcomes

    def shutdown(self) -> None:
        self._jobs.clear()
        self._backend.close(keep_log=self._broken is not None)

    # -- introspection (tests, benchmarks) ---------------------------------------------

    def worker_info(self, timeout: float = 120.0) -> list[dict[str, Any]]:
        """:meth:`TrialWorker.info` of every actor, in slot order."""
        return self._backend.call("worker_info", timeout, within=timeout)

    def slot_of(self, trial_number: int) -> int | None:
        """Index of the worker running ``trial_number`` (None if none)."""
        return self._backend.call("slot_of", trial_number)

    def trace_counts(self, timeout: float = 120.0) -> list[dict[tuple[str, str], int]]:
        """Every actor's trainer ``trace_counts``, in slot order."""
        return self._backend.call("trace_counts", timeout, within=timeout)

    # -- losing nodes --------------------------------------------------------------------

    def _lose(self, cause: str) -> list[TrialOutcome]:
        """Fail every trial in flight for ``cause`` (a line naming the lost node), then start
        a new host or note why the search cannot go on (see the module docstring)."""
        reason = f"node lost: {cause}"
        outcomes = [
            TrialOutcome(number, "failed", history=list(epochs), reason=reason, worker_died=True)
            for number, epochs in self._jobs.items()
        ]
        self._jobs.clear()
        self._losses += 1
        lost = self._backend
        # The log of the last host of a search that gives up says what Ray did.
        lost.close(grace=LOST_GRACE_S, keep_log=self._losses >= MAX_LOSSES)
        rerun = "then run the same command again to resume"
        if not lost.restartable:
            self._broken = RayLost(
                f"{cause}; the search runs on the Ray this process connected to, which it "
                f"cannot restart: check that Ray (ray status), {rerun}"
            )
        elif self._losses >= MAX_LOSSES:
            self._broken = RayLost(
                f"{cause}, and Ray lost this search's nodes {self._losses} times in a row "
                f"before any trial came back; see Ray's output in {lost.log}, {rerun}"
            )
        else:
            try:
                self._backend = Host(self._params)
            except Exception as err:  # whatever it is, the search cannot go on on Ray
                self._broken = RayLost(
                    f"{cause}, and {self._cannot_start(err, again=True)}, {rerun}"
                )
            else:
                self.session = self._backend.session
        return outcomes

    def _cannot_start(self, err: Exception, *, again: bool = False) -> str:
        """One line on why a host could not start (``err``, whatever it is), naming the
        cluster and what to check where there is one."""
        line = (str(err).strip().splitlines() or [type(err).__name__])[0]
        address = self.execution.address
        if address:
            return (
                f"Ray could not be {'re' if again else ''}joined at {address}: {line}; check "
                f"the cluster (ray status --address {address})"
            )
        return f"Ray could not be {'re' if again else ''}started: {line}"
