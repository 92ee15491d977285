"""Connecting a search driver to Ray: join a cluster, or start a private one on loopback.

:func:`connect` joins the cluster at an address (``host:port`` or ``auto``)
or, given none, starts a local instance that listens on 127.0.0.1 only, with no dashboard and
quiet logs, and shuts it down on :meth:`RaySession.close`. Where Ray is already initialised in
this process it is reused and left running.

A driver killed with SIGKILL takes its local instance's core processes with it (Ray ties them
to the driver), but two helper agents survive it. Each local instance therefore leaves a marker
naming its driver in its session folder, and the next local start stops the survivors of
instances whose driver is gone.

Sizing a local instance (:func:`local_cpus`, :func:`check_gpus`), finding its raylet
(:func:`raylet_of`) and telling whether a node is gone (:func:`dead_node`) are here too.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import os
import re
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil
import ray

# Ray has no public switch for the address a local instance advertises (see loopback_only).
from ray._private import ray_constants
from ray.exceptions import RayError

from nas.errors import SpecError
from nas.execution.base import Placement
from nas.processes import alive

LOOPBACK = ("127.0.0.1", "localhost", "::1")
RAYLET_PROBE_S = 5.0  # for a raylet to accept a connection, where its actor died
MARKER = "nas_driver.json"


@dataclass
class RaySession:
    """A driver's hold on Ray. ``started``: this process started the instance (so it stops
    it); ``owned``: this process initialised Ray (so it disconnects on close);
    ``session_dir``: the started instance's session folder (its logs, and the marker)."""

    address: str | None
    started: bool
    owned: bool
    session_dir: Path | None = None

    def close(self) -> None:
        """Disconnect (and stop a started instance); a no-op when Ray was already running, or
        when this describes another process's hold (``owned`` False)."""
        if self.owned and ray.is_initialized():
            ray.shutdown()
        if self.owned and self.session_dir is not None:
            (self.session_dir / MARKER).unlink(missing_ok=True)


def is_loopback(address: str | None) -> bool:
    """True for an address on this machine only (``127.0.0.1:6379``, ``localhost:1``)."""
    if not address:
        return False
    host = address.split("://")[-1].rsplit(":", 1)[0].strip("[]")
    return host in LOOPBACK


@contextlib.contextmanager
def loopback_only() -> Iterator[None]:
    """While active, Ray takes this machine's address to be 127.0.0.1.

    Ray otherwise replaces a loopback address by the machine's network address, so a local
    instance would listen on every interface and a loopback cluster address could not be
    joined. Processes Ray starts meanwhile (a local instance, ``ray.cluster_utils`` nodes)
    inherit the address they were given.
    """
    before = ray_constants.ENABLE_RAY_CLUSTER
    ray_constants.ENABLE_RAY_CLUSTER = False
    try:
        yield
    finally:
        ray_constants.ENABLE_RAY_CLUSTER = before


def connect(
    address: str | None = None, *, num_cpus: int | None = None, num_gpus: int | None = None
) -> RaySession:
    """Join the cluster at ``address`` or start a local loopback instance (``None``).

    ``num_cpus``/``num_gpus`` size a local instance (default: what the machine has); they are
    ignored when joining. Raises ``ConnectionError`` when the cluster cannot be reached
    (at once where nothing listens at a ``host:port`` address).
    """
    if ray.is_initialized():
        return RaySession(address=address, started=False, owned=False)
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    quiet = {"log_to_driver": False, "logging_level": logging.ERROR}
    if address:
        probe(address)
        guard = loopback_only() if is_loopback(address) else contextlib.nullcontext()
        with guard:
            ray.init(address=address, **quiet)
        return RaySession(address=address, started=False, owned=True)
    stop_orphans()
    with loopback_only():
        context = ray.init(
            address="local",
            num_cpus=num_cpus,
            num_gpus=num_gpus,
            include_dashboard=False,
            _node_ip_address="127.0.0.1",
            **quiet,
        )
    session_dir = Path(context.address_info["session_dir"])
    (session_dir / MARKER).write_text(
        json.dumps({"host": socket.gethostname(), "pid": os.getpid()}), encoding="utf-8"
    )
    return RaySession(
        address=context.address_info["gcs_address"],
        started=True,
        owned=True,
        session_dir=session_dir,
    )


def probe(address: str, timeout: float = 10.0) -> None:
    """Raise ``ConnectionError`` where nothing accepts connections at ``address``, a
    ``host:port`` (a cluster's, which Ray itself retries for minutes, or a raylet's). Other
    forms (``auto``, ``ray://...``) pass."""
    match = re.fullmatch(r"\[?([^\[\]/]+?)\]?:(\d+)", address)
    if "://" in address or not match:
        return
    try:
        with socket.create_connection((match[1], int(match[2])), timeout=timeout):
            pass
    except OSError as err:
        why = err.strerror or type(err).__name__
        raise ConnectionError(f"cannot reach the Ray cluster at {address}: {why}") from None


def stop_orphans(temp_dir: Path | None = None) -> list[int]:
    """Stop what is left of local instances started by drivers of this host that died;
    returns the process ids stopped. Only instances carrying this module's marker are
    touched, and only processes of this user holding files in their session folder."""
    root = temp_dir or Path(os.environ.get("RAY_TMPDIR", "/tmp")) / "ray"
    stopped: list[int] = []
    # session_latest links to one of the others: resolve, so paths match open files.
    for marker in {path.resolve() for path in root.glob(f"session_*/{MARKER}")}:
        try:
            owner = json.loads(marker.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if owner.get("host") != socket.gethostname() or alive(int(owner["pid"])):
            continue
        stopped.extend(_stop_holders(marker.parent))
        marker.unlink(missing_ok=True)
    return stopped


def stop_session_of(pid: int, since: float, temp_dir: Path | None = None) -> list[int]:
    """Stop what is left of the local instance that process ``pid``, now gone, started at or
    after ``since`` (a :func:`time.time`), marked or not (it may have died starting); returns
    the process ids stopped. Ray names a local instance's session folder after the process
    that started it."""
    root = temp_dir or Path(os.environ.get("RAY_TMPDIR", "/tmp")) / "ray"
    stopped: list[int] = []
    for folder in root.glob(f"session_*_{pid}"):
        with contextlib.suppress(OSError):
            if folder.is_symlink() or folder.stat().st_mtime < since:
                continue
            stopped.extend(_stop_holders(folder))
            (folder / MARKER).unlink(missing_ok=True)
    return stopped


def _stop_holders(session_dir: Path) -> list[int]:
    """Terminate (then kill) this user's processes with files open under ``session_dir``."""
    prefix = str(session_dir) + os.sep
    uid = os.getuid()
    holders = []
    for proc in psutil.process_iter():
        if proc.pid == os.getpid():  # a driver keeps its logs open; never stop this process
            continue
        try:
            if proc.uids().real != uid:
                continue
            if any(f.path.startswith(prefix) for f in proc.open_files()):
                holders.append(proc)
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            continue
    for proc in holders:
        with contextlib.suppress(psutil.NoSuchProcess):
            proc.terminate()
    # Ray's agents may ignore SIGTERM while their parent is gone.
    _, remaining = psutil.wait_procs(holders, timeout=2)
    for proc in remaining:
        with contextlib.suppress(psutil.NoSuchProcess):
            proc.kill()
    return [proc.pid for proc in holders]


def local_cpus(execution: Placement) -> int:
    """CPUs a local instance declares: the machine's, or enough for ``workers`` trials at a
    time, so asking for more trials than cores shares the cores rather than leaving trials
    waiting for actors that can never start."""
    wanted = math.ceil(execution.workers * execution.cpus_per_trial)
    return max(os.cpu_count() or 1, wanted)


def check_gpus(execution: Placement, source: str | Path) -> None:
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


def raylet_of(node: str) -> int | None:
    """Process id of the raylet of Ray node ``node`` where it runs on this machine (a raylet
    names its node on its command line), else None."""
    flag = f"--node_id={node}"
    for proc in psutil.process_iter(["name", "cmdline"]):
        if proc.info["name"] == "raylet" and flag in (proc.info["cmdline"] or ()):
            return proc.pid
    return None


def dead_node(node: str) -> tuple[str, str] | None:
    """(id, address) of ``node`` where Ray has it dead or its raylet refuses connections;
    None where it is alive or unknown. Ray tells an actor's death before it has found the
    node dead (that takes its health checks, seconds): the raylet's port tells at once."""
    entry = node_entry(node)
    if entry is None:
        return None
    address = str(entry.get("NodeManagerAddress", "?"))
    if entry.get("Alive", True) and not _refuses(address, entry.get("NodeManagerPort")):
        return None
    return node, address


def _refuses(host: str, port: Any) -> bool:
    """Whether nothing listens at ``host:port``: the connection is refused. A connection not
    answered in time (a busy machine, a slow network) says nothing: Ray's health checks
    decide about such a node."""
    try:
        with socket.create_connection((host, int(port)), timeout=RAYLET_PROBE_S):
            return False
    except ConnectionRefusedError:
        return True
    except (OSError, ValueError, TypeError):
        return False


def node_entry(node: str) -> dict[str, Any] | None:
    """Ray's record of node ``node`` (an entry of ``ray.nodes()``: ``Alive``,
    ``NodeManagerAddress``, ...); None where Ray has none or cannot be asked."""
    with contextlib.suppress(RayError):
        for entry in ray.nodes():
            if entry.get("NodeID") == node:
                return entry
    return None
