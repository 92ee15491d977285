"""The results store: Optuna storage plus weight files beside it.

``open_storage(url)``: an SQLAlchemy URL (``sqlite:///nas.db``, ``postgresql://...``) opens an
RDB storage with heartbeats, so trials of a driver that died are found stale; a path ending in
``.log`` or ``.jsonl`` opens a journal file (safe for several drivers on one file system).
Only the search creates stores; ``open_storage(url, create=False)`` is how readers open one,
and it never creates a file, folder or table.

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
import os
import sqlite3
import time
import urllib.parse
import warnings
from pathlib import Path
from typing import Any

import optuna
import sqlalchemy.exc
from optuna.storages import BaseStorage, JournalStorage, RDBStorage
from optuna.storages.journal import JournalFileBackend
from sqlalchemy.engine import make_url

from nas.errors import NoStore, StoreError
from nas.store.faults import shown_url, sqlite_path, store_faults
from nas.urls import DEFAULT_STORAGE, is_journal

HEARTBEAT_SECONDS = 5
INIT_ATTEMPTS = 5
GRACE_SECONDS = 30
FIRST = "run nas search first, or check the store's URL"
KINDS = (
    f"use {DEFAULT_STORAGE} (an SQLite file), postgresql://USER@HOST/DATABASE, or a journal "
    "file ending in .log or .jsonl"
)

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


def open_storage(url: str, *, create: bool = True) -> BaseStorage:
    """Open the storage at ``url`` (see the module docstring).

    ``create=True`` (the search): a store that does not exist yet is created; its folder must
    exist (a journal's is made). ``create=False`` (commands that only read): nothing is
    created or changed; an SQLite file is opened read-only, and a missing store raises
    :class:`~nas.errors.NoStore` naming the absolute path looked at. Raises
    :class:`~nas.errors.StoreError` for a location that cannot be a store (unknown kind of
    URL, missing folder, a file that is not a database) and
    :class:`~nas.errors.EnvironmentFault` where the machine fails (cannot connect, read-only
    or full disk).
    """
    given, shown = url, shown_url(url)
    if is_journal(url):
        return _journal(url, shown, create)
    if "://" not in url:
        raise StoreError(shown, f"not a store location; {KINDS}")
    if url.startswith(("postgresql://", "postgres://")):
        # SQLAlchemy maps a bare postgresql:// to psycopg 3; the toolkit ships psycopg2.
        url = "postgresql+psycopg2://" + url.split("://", 1)[1]
    _check_driver(url, shown)
    kwargs: dict[str, Any] = {}
    path = sqlite_path(url)
    if path is not None:
        _check_sqlite_file(path, shown, create)
        connect = functools.partial(_sqlite_connect, path, read_only=not create)
        kwargs["engine_kwargs"] = {"creator": connect}
    with store_faults(given), warnings.catch_warnings():
        # Heartbeats are how a restarted driver tells dead trials from live ones;
        # Optuna flags the argument as experimental, which users need not be told.
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        if not create:
            _check_tables(url, kwargs.get("engine_kwargs", {}), shown)
            # Readers need no heartbeats, and must not create tables.
            return RDBStorage(url, skip_table_creation=True, **kwargs)
        beats = {"heartbeat_interval": HEARTBEAT_SECONDS, "grace_period": GRACE_SECONDS}
        for attempt in range(INIT_ATTEMPTS):
            try:
                return RDBStorage(url, **beats, **kwargs)
            except sqlalchemy.exc.DBAPIError as err:
                # Another process created the same new store at the same moment (both
                # created its tables or wrote its schema version); the store is whole once
                # that one is done.
                if attempt == INIT_ATTEMPTS - 1 or not _concurrent_creation(err):
                    raise
                time.sleep(0.2 * (attempt + 1))
    raise AssertionError("unreachable")


def _journal(path: str, shown: str, create: bool) -> JournalStorage:
    if not create and not Path(path).is_file():
        raise NoStore(shown, f"no store there: {shown} does not exist; {FIRST}")
    with store_faults(path):
        if create:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        return JournalStorage(JournalFileBackend(path))


def _check_driver(url: str, shown: str) -> None:
    """Refuse a URL SQLAlchemy cannot parse, names no database it knows, or whose Python
    driver is not installed, before anything is opened."""
    try:
        make_url(url).get_dialect().import_dbapi()
    except sqlalchemy.exc.NoSuchModuleError:
        scheme = url.split("://", 1)[0]
        raise StoreError(shown, f"unknown kind of store {scheme!r}; {KINDS}") from None
    except sqlalchemy.exc.ArgumentError:
        raise StoreError(shown, f"not a database URL SQLAlchemy can read; {KINDS}") from None
    except ImportError as err:
        raise StoreError(
            shown,
            f"the Python driver for this database ({err.name}) is not installed; install "
            f"it, or {KINDS.removeprefix('use ')}",
        ) from None


def _check_sqlite_file(path: Path, shown: str, create: bool) -> None:
    folder = Path(os.path.abspath(path)).parent
    if not create and not path.is_file():
        raise NoStore(shown, f"no store there: {os.path.abspath(path)} does not exist; {FIRST}")
    if not folder.is_dir():
        raise StoreError(
            shown, f"folder {folder} does not exist; create it first, or choose another store"
        )
    if path.is_dir():
        raise StoreError(shown, f"{os.path.abspath(path)} is a folder, not a database file")


def _check_tables(url: str, engine_kwargs: dict[str, Any], shown: str) -> None:
    """For a read-only open: the database holds a results store (Optuna's tables)."""
    engine = sqlalchemy.create_engine(url, **engine_kwargs)
    try:
        tables = set(sqlalchemy.inspect(engine).get_table_names())
    finally:
        engine.dispose()
    if not tables:
        raise NoStore(shown, f"no store there: the database is empty; {FIRST}")
    if not {"studies", "trials", "version_info"} <= tables:
        raise StoreError(
            shown, "not a results store (the database lacks Optuna's tables); check the URL"
        )


def _concurrent_creation(err: Exception) -> bool:
    text = str(err).lower()
    return any(
        sign in text for sign in ("already exists", "unique constraint", "duplicate key", "locked")
    )


def _sqlite_connect(path: Path, read_only: bool = False) -> sqlite3.Connection:
    """An SQLite connection in write-ahead-log mode, or a read-only one that never creates or
    changes the file (nor its journal mode).

    Each trial writes a few dozen attributes, one transaction each; in the default rollback
    journal every one of them waits for an fsync. WAL with ``synchronous=NORMAL`` commits
    without waiting and still loses nothing when a process dies (only a power cut can lose
    the last transactions). Several processes may share the file: wait for locks.
    """
    if read_only:
        uri = "file:" + urllib.parse.quote(os.path.abspath(path)) + "?mode=ro"
        return sqlite3.connect(uri, uri=True, timeout=60, check_same_thread=False)
    conn = sqlite3.connect(path, timeout=60, check_same_thread=False)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    return conn
