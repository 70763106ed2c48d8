"""A store that was read-only for a while: its connections must not stay read-only.

SQLite opens a file it cannot write read-only, and such a connection stays
read-only after the file is writable again. The outage test
(tests/e2e/test_store_unavailable.py) met one, by timing: a connection opened
during the outage answered every later write with 503. The recorder makes the
pool close a connection that finds the database read-only; here every
connection is opened read-only (`mode=ro`), so the same connection coming back
from the pool after such a failure would show.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from eventsourcing.persistence import OperationalError
from eventsourcing.sqlite import SQLiteDatastore

from service.persistence.sqlite import drop_read_only_connections


def connection_used_by_a_failed_write(datastore: SQLiteDatastore) -> int:
    with (
        pytest.raises(OperationalError, match="readonly database"),
        datastore.transaction(commit=True) as cursor,
    ):
        used = id(cursor.sqlite_cursor.connection)
        cursor.execute("INSERT INTO t (x) VALUES (1)")
    return used


def test_a_connection_that_found_the_store_read_only_is_not_used_again(tmp_path: Path) -> None:
    path = tmp_path / "store.sqlite"
    with sqlite3.connect(path) as setup:  # in WAL mode, as the library leaves a store
        setup.execute("PRAGMA journal_mode=WAL")
        setup.execute("CREATE TABLE t (x INTEGER)")
    datastore = SQLiteDatastore(f"file:{path}?mode=ro", pool_size=1)
    try:
        drop_read_only_connections(datastore)
        drop_read_only_connections(datastore)  # a second call adds nothing

        first = connection_used_by_a_failed_write(datastore)
        second = connection_used_by_a_failed_write(datastore)

        assert first != second
        with datastore.transaction(commit=False) as cursor:  # reads still work
            cursor.execute("SELECT COUNT(*) FROM t")
            assert cursor.fetchone()[0] == 0
    finally:
        datastore.close()


def connection_used_by_a_failed_read(datastore: SQLiteDatastore) -> int:
    with (
        pytest.raises(OperationalError, match="no such table"),
        datastore.transaction(commit=False) as cursor,
    ):
        used = id(cursor.sqlite_cursor.connection)
        cursor.execute("SELECT * FROM missing")
    return used


def test_a_connection_that_met_any_store_error_is_not_used_again(tmp_path: Path) -> None:
    # `disk I/O error` (a store made immutable mid-write) is as lasting as
    # "readonly database"; any operational error drops the connection.
    path = tmp_path / "store.sqlite"
    with sqlite3.connect(path) as setup:
        setup.execute("PRAGMA journal_mode=WAL")
        setup.execute("CREATE TABLE t (x INTEGER)")
    datastore = SQLiteDatastore(str(path), pool_size=1)
    try:
        drop_read_only_connections(datastore)
        first = connection_used_by_a_failed_read(datastore)
        second = connection_used_by_a_failed_read(datastore)
        assert first != second
        with datastore.transaction(commit=True) as cursor:  # the new connection works
            cursor.execute("INSERT INTO t (x) VALUES (1)")
    finally:
        datastore.close()
