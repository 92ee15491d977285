"""What a failing store means to its user: the driver's exceptions as one-line errors.

:func:`store_faults` turns a failure inside its block into a :class:`~nas.errors.StoreError`
where the location is the user's mistake (a file that is not a database) or an
:class:`~nas.errors.EnvironmentFault` where the machine is at fault (a server that cannot be
reached, a read-only store or file system, a full disk, a damaged file). Anything it does not
recognise passes unchanged: an unknown failure is a bug and keeps its traceback. Optuna wraps
database errors in its own ("exceeding max length", whatever the cause); the cause is read
from the chain of exceptions instead.
"""

from __future__ import annotations

import contextlib
import errno
import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import sqlalchemy.exc

from nas.errors import EnvironmentFault, StoreError, UserError
from nas.urls import is_journal, public_url

AGAIN = "run the same command again (finished trials are kept)"


def sqlite_path(url: str) -> Path | None:
    """The database file of an ``sqlite:///`` URL (``None`` for an in-memory database)."""
    if not url.startswith("sqlite:///"):
        return None
    path = url.removeprefix("sqlite:///")
    if path in ("", ":memory:") or path.startswith("file:"):
        return None
    return Path(path)


def shown_url(url: str) -> str:
    """``url`` as errors show it: password masked, an SQLite or journal path made absolute
    (so a message names the very file that was looked at)."""
    path = sqlite_path(url)
    if path is not None:
        return "sqlite:///" + os.path.abspath(path)
    if is_journal(url):
        return os.path.abspath(url)
    return public_url(url)


@contextlib.contextmanager
def store_faults(url: str) -> Iterator[None]:
    """Re-raise the store's failures inside the block as one-line errors naming ``url``."""
    try:
        yield
    except (UserError, EnvironmentFault):
        raise
    except Exception as err:
        fault = store_fault(err, url)
        if fault is None:
            raise
        raise fault from err


def store_fault(err: BaseException, url: str) -> StoreError | EnvironmentFault | None:
    """The user-facing error ``err`` stands for in the store ``url``, or ``None`` if it is
    not a store or disk fault."""
    shown = shown_url(url)
    for cause in _chain(err):
        if isinstance(cause, sqlite3.Error):
            fault = _sqlite_fault(cause, shown)
        elif isinstance(cause, sqlalchemy.exc.DBAPIError):
            fault = _server_fault(cause, url, shown)
        elif isinstance(cause, OSError):
            fault = _disk_fault(cause, shown)
        else:
            continue
        if fault is not None:
            return fault
    return None


def _chain(err: BaseException) -> Iterator[BaseException]:
    """``err``, its causes and contexts, and the driver errors SQLAlchemy wraps."""
    seen: set[int] = set()
    todo: list[BaseException | None] = [err]
    while todo:
        cause = todo.pop(0)
        if cause is None or id(cause) in seen:
            continue
        seen.add(id(cause))
        yield cause
        if isinstance(cause, sqlalchemy.exc.DBAPIError) and isinstance(cause.orig, BaseException):
            todo.append(cause.orig)
        todo += [cause.__cause__, cause.__context__]


def _first_line(err: BaseException) -> str:
    lines = str(err).strip().splitlines()
    return lines[0].strip() if lines else type(err).__name__


def _sqlite_fault(err: sqlite3.Error, shown: str) -> StoreError | EnvironmentFault | None:
    code = getattr(err, "sqlite_errorname", "") or ""
    detail = _first_line(err)
    if code.startswith("SQLITE_NOTADB"):
        return StoreError(
            shown,
            f"the file is not an SQLite database ({detail}); give the path of a results "
            "store, or a new file name for a new one",
        )
    if code.startswith("SQLITE_FULL"):
        return EnvironmentFault(shown, f"the disk is full ({detail}); free some space and {AGAIN}")
    if code.startswith("SQLITE_READONLY"):
        return EnvironmentFault(
            shown,
            f"the store is read-only ({detail}); make the file and its folder writable, "
            f"or copy the store somewhere writable, and {AGAIN}",
        )
    if code.startswith("SQLITE_CORRUPT"):
        return EnvironmentFault(
            shown, f"the database file is damaged ({detail}); restore it from a backup"
        )
    if code.startswith(("SQLITE_CANTOPEN", "SQLITE_IOERR", "SQLITE_PERM")):
        return EnvironmentFault(
            shown,
            f"cannot read or write the database file ({detail}); check the disk and that "
            f"the file and its folder are readable and writable, and {AGAIN}",
        )
    return None  # busy, locked, constraint, ...: not a fault of the location


def _server_fault(err: sqlalchemy.exc.DBAPIError, url: str, shown: str) -> EnvironmentFault | None:
    """A database server's error (PostgreSQL and the like), by its SQLSTATE code."""
    if isinstance(err.orig, sqlite3.Error):
        return None  # read from SQLite's own exception, next in the chain
    state = getattr(err.orig, "pgcode", None)
    detail = _masked(_first_line(err.orig), url)
    if state is None and isinstance(err, sqlalchemy.exc.OperationalError):
        # No SQLSTATE: the driver failed before the server answered a statement.
        return EnvironmentFault(
            shown,
            f"cannot connect to the database server ({detail}); check that it runs and "
            f"that the URL's host, port, database, user and password are right, and {AGAIN}",
        )
    if state == "53100":  # disk_full
        return EnvironmentFault(
            shown, f"the server's disk is full ({detail}); free some space and {AGAIN}"
        )
    if state == "25006":  # read_only_sql_transaction
        return EnvironmentFault(
            shown, f"the database is read-only ({detail}); use a writable server and {AGAIN}"
        )
    return None


def _disk_fault(err: OSError, shown: str) -> EnvironmentFault | None:
    where = str(err.filename) if err.filename else shown
    if err.errno in (errno.ENOSPC, errno.EDQUOT):
        return EnvironmentFault(
            where, f"no space left on the disk ({err.strerror}); free some space and {AGAIN}"
        )
    if err.errno == errno.EROFS:
        return EnvironmentFault(
            where, f"the file system is read-only ({err.strerror}); use a writable one and {AGAIN}"
        )
    return None


def _masked(text: str, url: str) -> str:
    """``text`` without the password of ``url``, should a driver have quoted it."""
    try:
        password = sqlalchemy.engine.make_url(url).password
    except (sqlalchemy.exc.ArgumentError, ValueError):
        return text
    return text.replace(str(password), "***") if password else text
