"""Writing many attributes of one running trial at once.

Optuna's storage API writes one user attribute or intermediate value per call, and a
database store commits each: the twenty-odd a trial records at its end cost more driver
time than training a small model. :func:`write_trial` writes them in one transaction on a
database store (all are stored or none, so a crash never leaves half a record), and one by
one on any other store. Only this module touches the RDB store's internals; where they are
not what it expects it falls back to the public calls.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from optuna.storages import BaseStorage, RDBStorage

try:
    from optuna.storages._rdb import models
    from optuna.storages._rdb.storage import _create_scoped_session
except ImportError:  # pragma: no cover - a future Optuna moved them
    models = None
    _create_scoped_session = None

_NEEDED = ("_set_trial_attr_without_commit", "_set_trial_intermediate_value_without_commit")


def _database(storage: BaseStorage) -> RDBStorage | None:
    """The RDB store behind ``storage`` (Optuna wraps it in a cache), if its internals fit."""
    backend = getattr(storage, "_backend", storage)
    if not isinstance(backend, RDBStorage) or models is None:
        return None
    if not all(hasattr(backend, name) for name in _NEEDED):
        return None
    return backend


def write_trial(
    storage: BaseStorage,
    trial_id: int,
    user_attrs: Mapping[str, Any],
    intermediate: Mapping[int, float] | None = None,
) -> None:
    """Set ``user_attrs`` and the ``intermediate`` values (step -> value) of a running trial.

    Raises what the store raises for a finished trial (``UpdateFinishedTrialError``), having
    written nothing on a database store.
    """
    intermediate = intermediate or {}
    database = _database(storage)
    if database is None:
        for key, value in user_attrs.items():
            storage.set_trial_user_attr(trial_id, key, value)
        for step, value in intermediate.items():
            storage.set_trial_intermediate_value(trial_id, step, value)
        return
    with _create_scoped_session(database.scoped_session, True) as session:
        for key, value in user_attrs.items():
            database._set_trial_attr_without_commit(
                session, models.TrialUserAttributeModel, trial_id, key, value
            )
        for step, value in intermediate.items():
            database._set_trial_intermediate_value_without_commit(session, trial_id, step, value)


def reset_connections(storage: BaseStorage) -> None:
    """Close this process's idle database connections and this thread's session.

    An interrupt (``KeyboardInterrupt``) raised inside a query can leave that query's
    statement open on its pooled connection; on SQLite in WAL mode a later write through it
    then fails at once with "database is locked" (its read snapshot is stale). Call this
    before writing after an interrupt: new connections are opened as needed. A no-op on
    other stores.
    """
    database = _database(storage)
    if database is not None:
        database.remove_session()
        database.engine.dispose()
