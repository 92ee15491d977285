"""Opening a store: a location that cannot be a store is the user's mistake
(:class:`~nas.errors.StoreError`), one the machine cannot serve is an
:class:`~nas.errors.EnvironmentFault`; a read-only open (``create=False``) creates nothing."""

from __future__ import annotations

import os
import socket
import sqlite3

import optuna
import pytest
import sqlalchemy
from sqlalchemy import event

import nas
from nas.errors import EnvironmentFault, StoreError, UnknownStudy
from nas.store import open_storage

pytestmark = pytest.mark.filterwarnings("ignore:Heartbeat of storage")


def test_an_unknown_kind_of_url_is_a_store_error():
    with pytest.raises(StoreError, match=r"^foo://x: unknown kind of store 'foo'.*sqlite:///"):
        open_storage("foo://x")


def test_a_sqlite_file_in_a_missing_folder_is_a_store_error(tmp_path):
    url = f"sqlite:///{tmp_path}/missing/x.db"
    with pytest.raises(StoreError, match=f"folder {tmp_path / 'missing'} does not exist"):
        open_storage(url)
    assert not (tmp_path / "missing").exists()


def test_random_bytes_are_not_a_database_and_stay_as_they_were(tmp_path):
    path = tmp_path / "bad.db"
    data = os.urandom(20_000)
    path.write_bytes(data)
    for create in (True, False):
        with pytest.raises(StoreError, match="is not an SQLite database"):
            open_storage(f"sqlite:///{path}", create=create)
    assert path.read_bytes() == data


def test_a_closed_postgresql_port_is_an_environment_fault_without_the_password():
    # A socket bound but not listening: connections to its port are refused at once.
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
        with pytest.raises(EnvironmentFault) as caught:
            open_storage(f"postgresql://nas:s3cret@127.0.0.1:{port}/nas")
    message = str(caught.value)
    assert message.startswith(f"postgresql://nas:***@127.0.0.1:{port}/nas: cannot connect")
    assert "s3cret" not in message and "\n" not in message


@pytest.fixture
def max_pages():
    """Cap every new SQLite connection's database size (``PRAGMA max_page_count``): past it
    SQLite fails writes with SQLITE_FULL, exactly as on a full disk."""
    limit = {"pages": 1}

    def cap(dbapi_connection: object, record: object) -> None:
        if isinstance(dbapi_connection, sqlite3.Connection):
            dbapi_connection.execute(f"PRAGMA max_page_count={limit['pages']}")

    event.listen(sqlalchemy.pool.Pool, "connect", cap)
    yield limit
    event.remove(sqlalchemy.pool.Pool, "connect", cap)


def test_a_full_disk_while_creating_the_store_is_an_environment_fault(tmp_path, max_pages):
    with pytest.raises(EnvironmentFault, match="disk is full") as caught:
        open_storage(f"sqlite:///{tmp_path / 'new.db'}")
    assert "max length" not in str(caught.value)


@pytest.mark.parametrize("where", ["x.db", "missing/x.db"])
def test_reading_a_missing_sqlite_store_creates_nothing(where, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    url = f"sqlite:///{where}"
    with pytest.raises(StoreError, match=f"no store there: {tmp_path / where} does not exist"):
        open_storage(url, create=False)
    with pytest.raises(UnknownStudy) as caught:
        nas.load_trials(url, "t")
    assert str(caught.value) == f"no study 't' in sqlite:///{tmp_path / where}; studies there: none"
    assert list(tmp_path.iterdir()) == []


def test_reading_a_missing_journal_creates_nothing(tmp_path):
    with pytest.raises(UnknownStudy, match=f"no study 't' in {tmp_path / 'store.log'}"):
        nas.load_trials(str(tmp_path / "store.log"), "t")
    assert list(tmp_path.iterdir()) == []


def test_reading_a_database_that_is_not_a_store_changes_nothing(tmp_path):
    path = tmp_path / "other.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE notes (text TEXT)")
    before = path.read_bytes()
    with pytest.raises(StoreError, match="not a results store"):
        nas.load_trials(f"sqlite:///{path}", "t")
    assert path.read_bytes() == before


def test_a_read_only_open_cannot_write(tmp_path):
    url = f"sqlite:///{tmp_path / 'store.db'}"
    optuna.create_study(study_name="t", storage=open_storage(url))
    before = (tmp_path / "store.db").read_bytes()
    with pytest.raises(optuna.exceptions.StorageInternalError):
        optuna.create_study(study_name="u", storage=open_storage(url, create=False))
    assert (tmp_path / "store.db").read_bytes() == before
    assert nas.load_trials(url, "t").empty
