"""Processes of this machine, as the search driver and the Ray edge name and check them."""

from __future__ import annotations

import os
import socket

import psutil


def process_name(pid: int | None = None) -> str:
    """``host:pid`` of this process (or of ``pid`` on this host): how a driver names itself
    on the trials it runs, so a later driver can tell whether it is still alive."""
    return f"{socket.gethostname()}:{os.getpid() if pid is None else pid}"


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
    """False only when ``name`` (a :func:`process_name`) is a process of this host that is
    gone; names of other hosts, and anything else, count as alive."""
    if not name or ":" not in name:
        return True
    host, _, pid = name.rpartition(":")
    if host != socket.gethostname():
        return True
    try:
        return alive(int(pid))
    except ValueError:
        return True
