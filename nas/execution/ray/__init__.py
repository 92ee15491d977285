"""Trials on Ray: long-lived worker actors on a local loopback instance or a cluster.
The only package that imports Ray."""

from nas.execution.ray.cluster import RaySession, connect, is_loopback, stop_orphans
from nas.execution.ray.executor import RayExecutor, worker_env

__all__ = ["RayExecutor", "RaySession", "connect", "is_loopback", "stop_orphans", "worker_env"]
