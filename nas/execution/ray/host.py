"""The Ray driver in a process of its own, so that the search driver outlives its Ray node.

Ray ends a driver process when the raylet of its node dies (the object store goes with it),
and the search driver alone writes the store: it must see the loss and go on. So where this
process has not connected to Ray itself, :class:`Host` starts ``python -m
nas.execution.ray``, a child that connects to Ray (:func:`open_pool`: a private local
instance, or the cluster) and runs the :class:`~nas.execution.ray.pool.WorkerPool`. The two
talk over a private socket pair, one request at a time:

- search driver to host: ``("submit", job)``, ``("wait", timeout)``, ``("call", name, args)``,
  and ``("stop", bool)``, the answer to an epoch;
- host to search driver: ``("ready", info)`` once, then ``("epoch", number, epoch, metrics)``
  during a wait, ``("result", value)``, ``("error", error)``, or ``("lost", cause)`` before it
  exits, when its pool raised :class:`~nas.execution.ray.pool.NodesLost`.

The host's output (Ray's own log lines among it) goes to a log file, not the terminal; SIGUSR1
writes the host's Python stacks there. It runs in a session of its own, so Ctrl-C reaches the
search driver only, which then closes the socket. A host whose search driver is gone (closed
socket, or killed) stops its Ray session and exits at its next read or write on the socket;
one still running :data:`EXIT_WAIT_S` after its search driver died (blocked in Ray) kills its
own processes, Ray's among them, and exits.

:class:`Host` raises :class:`HostLost` when the host exits, reports its nodes lost, the
raylet of its node exits where that runs on this machine (Ray would end the host a while
later), or the host gives no answer in time: :data:`READY_TIMEOUT_S` to start, a request's
own time limit plus :data:`REPLY_GRACE_S` to answer it (its stacks then go to its log).
"""

from __future__ import annotations

import contextlib
import faulthandler
import functools
import os
import pickle
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import psutil

from nas.errors import SpecError
from nas.execution.base import EpochReport, Placement
from nas.execution.job import TrialJob, TrialOutcome
from nas.execution.ray.cluster import (
    RaySession,
    check_gpus,
    connect,
    local_cpus,
    node_entry,
    raylet_of,
    stop_session_of,
)
from nas.execution.ray.pool import NodesLost, WorkerPool
from nas.processes import alive
from nas.training import TrainConfig

CALLS = ("worker_info", "slot_of", "trace_counts")  # pool methods the search driver may call
WATCH_S = 0.5  # how often a waiting search driver checks the local raylet, a host its parent
EXIT_WAIT_S = 60.0  # for a host to stop its Ray session and exit
READY_TIMEOUT_S = 300.0  # for a host to connect to Ray and start its pool
REPLY_GRACE_S = 300.0  # for a host's answer, beyond the time limit of the request
WAIT_PIECE_S = 10.0  # a wait without a time limit is asked for in pieces this long


class HostLost(Exception):
    """The host is gone or its nodes are; ``str(err)`` is one line naming the node and how."""


def open_pool(
    data: Any,
    config: TrainConfig,
    execution: Placement,
    *,
    source: str | Path,
    poll_wait: float,
    stop_grace: float,
) -> tuple[RaySession, WorkerPool]:
    """Connect this process to Ray (see :func:`~nas.execution.ray.cluster.connect`) and start
    the pool; a started instance is stopped again where that fails. Raises
    :class:`SpecError` when a local instance lacks the GPUs ``workers`` trials need."""
    session = connect(execution.address, num_cpus=local_cpus(execution))
    try:
        if session.started:
            check_gpus(execution, source)
        pool = WorkerPool(data, config, execution, poll_wait=poll_wait, stop_grace=stop_grace)
    except BaseException:
        session.close()
        raise
    return session, pool


class Host:
    """The search driver's handle on a host process; starts it and waits until it is ready.

    ``params`` are :func:`open_pool`'s arguments. Raises what :func:`open_pool` raised in the
    host, or :class:`HostLost` where the host died starting. ``session`` describes the host's
    hold on Ray (never closed from here); ``node``/``node_ip`` its Ray node.
    """

    restartable = True  # another host can be started where this one is lost

    def __init__(self, params: dict[str, Any]) -> None:
        self._began = time.time() - 1.0  # before the host's session folder (mtime, 1 s grain)
        fd, self.log = tempfile.mkstemp(prefix="nas-ray-driver-", suffix=".log")
        ours, theirs = socket.socketpair()
        env = dict(os.environ)
        # The host imports this copy of the package, whatever the working directory.
        root = str(Path(__file__).resolve().parents[3])  # nas/execution/ray/host.py
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [root, env.get("PYTHONPATH")]))
        args = [str(theirs.fileno()), str(os.getpid()), self.log]
        try:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "nas.execution.ray", *args],
                pass_fds=(theirs.fileno(),),
                stdin=subprocess.DEVNULL,
                stdout=fd,
                stderr=fd,
                env=env,
                start_new_session=True,
            )
        except BaseException:
            ours.close()
            Path(self.log).unlink(missing_ok=True)
            raise
        finally:
            os.close(fd)
            theirs.close()
        self._conn = Connection(ours.detach())
        self.raylet: int | None = None
        self.node, self.node_ip = "?", "?"
        self._local = params["execution"].address is None  # a private local instance
        self.keep_log = False  # set where the log holds the stacks of a host that hung
        try:
            # From a thread, on a duplicate of the socket: a host that never reads them
            # (stuck starting) must not block this process past READY_TIMEOUT_S.
            sending = (os.dup(self._conn.fileno()), params)
            threading.Thread(target=_send_params, args=sending, daemon=True).start()
            kind, value = self._recv(READY_TIMEOUT_S)
            if kind == "error":
                raise _restore(value)
        except BaseException as err:
            self.close(keep_log=isinstance(err, HostLost))  # its log says why it died
            raise
        self.node, self.node_ip, self.raylet = value["node"], value["node_ip"], value["raylet"]
        self.session = RaySession(
            address=value["address"],
            started=value["started"],
            owned=False,
            session_dir=Path(value["session_dir"]) if value["session_dir"] else None,
        )

    def submit(self, job: TrialJob) -> None:
        self._send(("submit", job))

    def wait(self, on_epoch: EpochReport, timeout: float | None) -> list[TrialOutcome]:
        """The pool's ``wait``, for a caller with jobs in flight (without ``timeout`` this
        returns once one ends). Asked in pieces of :data:`WAIT_PIECE_S` where ``timeout`` is
        None, so that every answer has a bound."""
        piece = WAIT_PIECE_S if timeout is None else timeout
        while True:
            self._send(("wait", piece))
            while (message := self._recv(piece + REPLY_GRACE_S))[0] == "epoch":
                self._send(("stop", bool(on_epoch(*message[1:]))))
            outcomes = self._value(message)
            if outcomes or timeout is not None:
                return outcomes

    def call(self, name: str, *args: Any, within: float = 0.0) -> Any:
        """The pool's method ``name`` (one of :data:`CALLS`), which takes up to ``within``
        seconds."""
        self._send(("call", name, args))
        return self._value(self._recv(within + REPLY_GRACE_S))

    def close(self, *, grace: float = EXIT_WAIT_S, keep_log: bool = False) -> None:
        """Close the socket (the host then stops its Ray session and exits) and wait for the
        host to exit, killing it past ``grace`` seconds. Where a local instance was not
        stopped by the host (killed, or ended by Ray, even while starting), what survives it
        is stopped (:func:`~nas.execution.ray.cluster.stop_session_of`). ``keep_log`` (or
        :attr:`keep_log`) keeps the host's output file (:attr:`log`). Idempotent."""
        self._conn.close()
        try:
            self.process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            self.kill()
        if self._local and self.process.returncode != 0:
            self._local = False  # once
            stop_session_of(self.process.pid, self._began)
        if not (keep_log or self.keep_log):
            Path(self.log).unlink(missing_ok=True)

    def kill(self) -> None:
        """End the host at once (:meth:`close` stops what its local instance leaves)."""
        with contextlib.suppress(ProcessLookupError):
            self.process.kill()
        self.process.wait()

    def _value(self, message: tuple) -> Any:
        if message[0] == "result":
            return message[1]
        if message[0] == "error":
            raise _restore(message[1])
        raise HostLost(message[1])  # "lost": the host names the node

    def _send(self, message: Any) -> None:
        try:
            self._conn.send(message)
        except OSError:
            raise HostLost(self._exit_cause()) from None

    def _recv(self, within: float) -> Any:
        """The host's next message, which must come within ``within`` seconds."""
        deadline = time.monotonic() + within
        while not self._conn.poll(WATCH_S):
            if self.raylet is not None and not alive(self.raylet):
                self.kill()
                raise HostLost(f"{self._where()} went down: its raylet (pid {self.raylet}) exited")
            if time.monotonic() > deadline:
                raise HostLost(self._hung(within))
        try:
            return self._conn.recv()
        except (EOFError, OSError):
            raise HostLost(self._exit_cause()) from None

    def _hung(self, within: float) -> str:
        """Have the host write its stacks to its log, end it, and say so."""
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.process.pid, signal.SIGUSR1)
        time.sleep(1.0)  # for the stacks to be written
        self.kill()
        self.keep_log = True
        on = "" if self.node == "?" else f" on {self._where()}"
        return (
            f"the Ray driver process (pid {self.process.pid}){on} gave no answer for "
            f"{within:g} s; its stacks are in {self.log}"
        )

    def _where(self) -> str:
        return f"Ray node {self.node} ({self.node_ip})"

    def _exit_cause(self) -> str:
        try:
            status = self.process.wait(timeout=EXIT_WAIT_S)
        except subprocess.TimeoutExpired:
            self.kill()
            status = self.process.returncode
        if self.node == "?":
            return (
                f"the Ray driver process (pid {self.process.pid}) exited with status {status} "
                f"before it was ready; its output is in {self.log}"
            )
        return (
            f"the Ray driver process (pid {self.process.pid}) on {self._where()} exited with "
            f"status {status}"
        )


def _send_params(fd: int, params: dict[str, Any]) -> None:
    """Send ``params`` on socket ``fd`` (a duplicate, closed after: closing the main one
    does not cut this send short)."""
    conn = Connection(fd)
    with contextlib.suppress(OSError):  # the host is gone: the search driver's read says how
        conn.send(params)
    conn.close()


def _portable(err: BaseException) -> tuple:
    """``err`` in a form that crosses the socket (a SpecError's arguments are its fields)."""
    if isinstance(err, SpecError):
        return ("spec", err.source, err.field, err.problem)
    try:
        pickle.loads(pickle.dumps(err))
    except Exception:
        text = f"{type(err).__name__}: {err}"
        return ("text", text, "".join(traceback.format_exception(err)))
    return ("pickle", err)


def _restore(portable: tuple) -> BaseException:
    if portable[0] == "spec":
        return SpecError(*portable[1:])
    if portable[0] == "pickle":
        return portable[1]
    return RuntimeError(f"{portable[1]} (in the Ray driver process)\n{portable[2]}")


# -- the host process ---------------------------------------------------------------------


def _serve(conn: Connection, pool: WorkerPool) -> None:
    """Answer the search driver's requests until it closes the socket (EOFError)."""

    def answer(message: tuple) -> None:
        if message[0] == "call" and message[1] in CALLS:
            _reply(conn, lambda: getattr(pool, message[1])(*message[2]))
        else:
            raise RuntimeError(f"unexpected request {message[0]!r}")

    def on_epoch(number: int, epoch: int, metrics: dict[str, float]) -> bool:
        conn.send(("epoch", number, epoch, metrics))
        while (message := conn.recv())[0] != "stop":
            answer(message)  # the search driver may ask about workers meanwhile
        return bool(message[1])

    while True:
        message = conn.recv()
        if message[0] == "submit":
            pool.submit(message[1])
        elif message[0] == "wait":
            _reply(conn, functools.partial(pool.wait, on_epoch, message[1]))
        else:
            answer(message)


def _reply(conn: Connection, compute: Any) -> None:
    try:
        value = compute()
    except (NodesLost, EOFError, OSError):
        raise
    except Exception as err:
        conn.send(("error", _portable(err)))
    else:
        conn.send(("result", value))


def _end_with(parent: int) -> None:
    """Once ``parent`` (the search driver) is gone, give the main thread :data:`EXIT_WAIT_S`
    to see the closed socket and stop Ray; then kill this process's children (Ray's) and
    exit."""
    while os.getppid() == parent:
        time.sleep(WATCH_S)
    time.sleep(EXIT_WAIT_S)
    for child in psutil.Process().children(recursive=True):
        with contextlib.suppress(psutil.Error):
            child.kill()
    os._exit(4)


def main(fd: int, parent: int, log: str | None = None) -> int:
    """The host process of search driver ``parent``: see the module docstring. ``log`` is
    its output file, removed when it ends normally (its search driver may have died and
    cannot)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the search driver decides when to stop
    faulthandler.register(signal.SIGUSR1, all_threads=True)  # stacks to the log, on demand
    threading.Thread(target=_end_with, args=(parent,), daemon=True).start()
    os.set_inheritable(fd, False)  # Ray's processes must not hold the search driver's socket
    conn = Connection(fd)
    try:
        params = conn.recv()
        session, pool = open_pool(**params)
    except EOFError:
        return 1
    except BaseException as err:
        with contextlib.suppress(OSError):
            conn.send(("error", _portable(err)))
        return 1
    info = {
        "node": pool.node,
        "node_ip": str((node_entry(pool.node) or {}).get("NodeManagerAddress", "?")),
        "raylet": raylet_of(pool.node),
        "address": session.address,
        "started": session.started,
        "session_dir": str(session.session_dir) if session.session_dir else None,
    }
    try:
        conn.send(("ready", info))
        _serve(conn, pool)
    except (EOFError, OSError):
        pass  # the search driver is gone or done
    except NodesLost as err:
        with contextlib.suppress(OSError):
            conn.send(("lost", str(err)))
        return 3
    finally:
        pool.shutdown()
        session.close()
        conn.close()
    if log is not None:
        Path(log).unlink(missing_ok=True)
    return 0
