"""Heartbeats recorded from a thread: a store that refuses them prints nothing."""

from __future__ import annotations

import sqlite3
import threading
import time

import optuna
import pytest
import sqlalchemy
from optuna.storages import RDBStorage
from sqlalchemy import event

from nas.store import Heartbeat
from nas.store.internals import trial_id

pytestmark = [
    pytest.mark.filterwarnings("ignore::optuna.exceptions.ExperimentalWarning"),
    pytest.mark.filterwarnings("ignore:Heartbeat of storage"),
]


def _read_only(dbapi_connection: object, record: object) -> None:
    # SQLite then refuses every write with SQLITE_READONLY, as for a read-only or full disk.
    if isinstance(dbapi_connection, sqlite3.Connection):
        dbapi_connection.execute("PRAGMA query_only=1")


def test_a_refused_beat_is_counted_not_raised_in_the_thread(tmp_path, monkeypatch):
    storage = RDBStorage(f"sqlite:///{tmp_path / 's.db'}", heartbeat_interval=1)
    study = optuna.create_study(storage=storage)
    trial = study.ask()
    raised: list[object] = []
    monkeypatch.setattr(threading, "excepthook", raised.append)
    event.listen(sqlalchemy.pool.Pool, "connect", _read_only)
    try:
        storage.engine.dispose()  # new connections, each read-only
        with Heartbeat(study) as beats:
            beats.trial_ids.add(trial_id(trial))
            deadline = time.monotonic() + 60
            while beats.failed < 2 and time.monotonic() < deadline:
                time.sleep(0.1)
            alive = beats._thread.is_alive()
    finally:
        event.remove(sqlalchemy.pool.Pool, "connect", _read_only)
    assert beats.failed >= 2 and alive  # it kept beating after the first refusal
    # Optuna wraps the refusal; its cause is SQLite's own.
    assert "readonly" in str(beats.error.__cause__).lower() and not raised


def test_beats_are_recorded_while_the_store_takes_them(tmp_path):
    path = tmp_path / "s.db"
    storage = RDBStorage(f"sqlite:///{path}", heartbeat_interval=1)
    study = optuna.create_study(storage=storage)
    trial = study.ask()
    with Heartbeat(study) as beats:
        beats.trial_ids.add(trial_id(trial))
        deadline = time.monotonic() + 60
        while not _beats(path) and time.monotonic() < deadline:
            time.sleep(0.1)
    assert _beats(path) == [(trial_id(trial),)]
    assert beats.failed == 0 and beats.error is None


def _beats(path: object) -> list[tuple[int]]:
    with sqlite3.connect(path) as conn:
        return conn.execute("SELECT trial_id FROM trial_heartbeats").fetchall()
