"""Processes of this machine, as the search driver and the Ray edge name and check them."""

from __future__ import annotations

import os
import socket

import psutil


def process_name(pid: int | None = None) -> str:
    """``host:pid:started`` of this process (or of ``pid`` on this host; ``started`` is its
    start time in milliseconds): how a driver names itself on the trials it runs, so a later
    driver can tell whether it is still alive, even once the system has given its process id
    to a new process."""
    pid = os.getpid() if pid is None else pid
    return f"{socket.gethostname()}:{pid}:{_started_ms(pid)}"


def _started_ms(pid: int) -> int | None:
    try:
        return round(psutil.Process(pid).create_time() * 1000)
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return None


def alive(pid: int) -> bool:
    """Whether process ``pid`` of this machine exists and has not exited (a zombie, exited
    but not yet reaped, counts as gone). A process of another user counts as alive."""
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False
    except psutil.AccessDenied:
        return True


def named_alive(name: str | None) -> bool:
    """False only when ``name`` (a :func:`process_name`, or an older ``host:pid``) is a
    process of this host that is gone, or whose id now belongs to a process started at
    another time; names of other hosts, and anything else, count as alive."""
    if not name or ":" not in name:
        return True
    host, _, rest = name.partition(":")
    if host != socket.gethostname():
        return True
    pid_text, _, started = rest.partition(":")
    try:
        pid = int(pid_text)
    except ValueError:
        return True
    if not alive(pid):
        return False
    if started in ("", "None"):
        return True
    try:
        return _started_ms(pid) in (None, int(started))
    except ValueError:
        return True
