"""Trials on Ray: long-lived worker actors on a local loopback instance or a cluster, driven
from a host process that a lost node cannot take the search with it.
The only package that imports Ray."""

from nas.execution.ray.cluster import RaySession, connect, is_loopback, stop_orphans
from nas.execution.ray.executor import RayExecutor, RayLost
from nas.execution.ray.pool import worker_env

__all__ = [
    "RayExecutor",
    "RayLost",
    "RaySession",
    "connect",
    "is_loopback",
    "stop_orphans",
    "worker_env",
]
