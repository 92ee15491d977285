"""The results store: Optuna storage plus weight files beside it.

``open_storage(url)``: an SQLAlchemy URL (``sqlite:///nas.db``, ``postgresql://...``) opens an
RDB storage with heartbeats, so trials of a driver that died are found stale; a path ending in
``.log`` or ``.jsonl`` opens a journal file (safe for several drivers on one file system).

Every trial carries these user attributes (see :data:`ATTRS`): ``architecture`` (canonical
JSON), ``signature``, ``n_params``, ``flops``, the final metrics (``train_loss``, ``val_loss``,
``val_accuracy``), ``curves`` (per-epoch metrics),
``compile_seconds``/``train_seconds``/``eval_seconds``, ``device``, ``node``, ``fail_reason``
and ``traceback`` where it failed, and ``weights`` (the file's name in the artifacts folder)
where its weights were saved. Optuna does not let a finished trial change, so what is learnt
about a trial later lives in the study's user attributes: ``test_metrics`` (trial number ->
``test_accuracy``/``test_loss``, for the best trials only, evaluated after the search) and
``weights_dropped`` (trial number -> the keep_weights policy that deleted its weight file;
the trial's ``weights`` attribute still names the file). The study also carries ``space``
(the space as JSON), ``objectives``, ``experiment`` and ``dataset``.
"""

from __future__ import annotations

import functools
import sqlite3
import time
import warnings
from pathlib import Path
from typing import Any

import optuna
import sqlalchemy.exc
from optuna.storages import BaseStorage, JournalStorage, RDBStorage
from optuna.storages.journal import JournalFileBackend

from nas.urls import is_journal

HEARTBEAT_SECONDS = 5
INIT_ATTEMPTS = 5
GRACE_SECONDS = 30

ATTRS = (
    "architecture",
    "signature",
    "n_params",
    "flops",
    "train_loss",
    "val_loss",
    "val_accuracy",
    "curves",
    "compile_seconds",
    "train_seconds",
    "eval_seconds",
    "epochs_run",
    "device",
    "node",
    "fail_reason",
    "traceback",
    "weights",
    "attempt",
    "driver",
)


def open_storage(url: str) -> BaseStorage:
    """Open (creating if needed) the storage at ``url``; see the module docstring."""
    if is_journal(url):
        Path(url).parent.mkdir(parents=True, exist_ok=True)
        return JournalStorage(JournalFileBackend(url))
    kwargs: dict[str, Any] = {}
    if url.startswith(("postgresql://", "postgres://")):
        # SQLAlchemy maps a bare postgresql:// to psycopg 3; the toolkit ships psycopg2.
        url = "postgresql+psycopg2://" + url.split("://", 1)[1]
    if url.startswith("sqlite:///"):
        kwargs["engine_kwargs"] = {"creator": functools.partial(_sqlite_connect, url)}
    for attempt in range(INIT_ATTEMPTS):
        try:
            with warnings.catch_warnings():
                # Heartbeats are how a restarted driver tells dead trials from live ones;
                # Optuna flags the argument as experimental, which users need not be told.
                warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
                return RDBStorage(
                    url, heartbeat_interval=HEARTBEAT_SECONDS, grace_period=GRACE_SECONDS, **kwargs
                )
        except sqlalchemy.exc.DBAPIError as err:
            # Another process created the same new store at the same moment (both created its
            # tables or wrote its schema version); the store is whole once that one is done.
            if attempt == INIT_ATTEMPTS - 1 or not _concurrent_creation(err):
                raise
            time.sleep(0.2 * (attempt + 1))
    raise AssertionError("unreachable")


def _concurrent_creation(err: Exception) -> bool:
    text = str(err).lower()
    return any(
        sign in text for sign in ("already exists", "unique constraint", "duplicate key", "locked")
    )


def _sqlite_connect(url: str) -> sqlite3.Connection:
    """An SQLite connection in write-ahead-log mode.

    Each trial writes a few dozen attributes, one transaction each; in the default rollback
    journal every one of them waits for an fsync. WAL with ``synchronous=NORMAL`` commits
    without waiting and still loses nothing when a process dies (only a power cut can lose
    the last transactions). Several processes may share the file: wait for locks.
    """
    path = url.removeprefix("sqlite:///")
    conn = sqlite3.connect(path, timeout=60, check_same_thread=False)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    return conn
