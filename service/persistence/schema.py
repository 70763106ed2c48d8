"""One lock around every schema change the product makes on PostgreSQL.

Processes that open one fresh database at the same moment (a fleet restarting
together, `wht rebuild --workers N`, several `wht` commands) would otherwise race
in CREATE TYPE, CREATE TABLE IF NOT EXISTS and CREATE OR REPLACE FUNCTION, which
are not safe to run concurrently: the loser fails with a duplicate key in the
catalog or "tuple concurrently updated". Every DDL the product or the
eventsourcing library runs is therefore serialised on one advisory key:

- `schema_lock(datastore)` holds it as a session lock, on a connection of its own,
  around a recorder's `create_table` (the library runs that in more than one
  transaction, so a transaction lock would not cover it);
- `SCHEMA_XACT_LOCK` takes it for the rest of a transaction that changes the
  schema by itself (the read model's reset, the security tables).

A session lock and a transaction lock on one key exclude each other, so the two
forms serialise with each other too. They must not nest: DDL run inside
`schema_lock` takes no transaction lock of its own.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
from eventsourcing.persistence import OperationalError
from eventsourcing.postgres import PostgresDatastore

from service.persistence.connect import connect_waiting

SCHEMA_LOCK = 0x77687401  # the advisory key of every schema change ("wht" + 1)
# How long the lock's own connection waits for a free slot on a busy server (seconds).
SLOT_WAIT = 10.0
SCHEMA_XACT_LOCK = f"SELECT pg_advisory_xact_lock({SCHEMA_LOCK})"


def conninfo_of(datastore: PostgresDatastore) -> dict[str, Any]:
    """The datastore's connection settings, for a connection outside its pool."""
    kwargs = datastore.pool.kwargs
    if callable(kwargs):  # psycopg_pool also takes a function that makes them
        kwargs = kwargs()
    return {k: v for k, v in (kwargs or {}).items() if k != "row_factory"}


@contextmanager
def schema_lock(datastore: PostgresDatastore) -> Iterator[None]:
    """Hold the schema lock for the block (waiting for another process's DDL to end).
    A store that cannot be reached raises the library's OperationalError, as the
    library's own `create_table` would (callers answer 503 for it, not 500). A server
    with no free connection slot is waited for, at most `SLOT_WAIT` seconds."""
    try:
        conn, _ = connect_waiting(
            conninfo_of(datastore), SLOT_WAIT, autocommit=True, connect_timeout=10
        )
    except psycopg.Error as error:
        raise OperationalError(str(error)) from error
    try:
        conn.execute("SELECT pg_advisory_lock(%s)", (SCHEMA_LOCK,))
    except psycopg.Error as error:
        conn.close()
        raise OperationalError(str(error)) from error
    try:
        yield
    finally:
        with contextlib.suppress(psycopg.Error):  # a broken session frees it as it ends
            conn.execute("SELECT pg_advisory_unlock(%s)", (SCHEMA_LOCK,))
        conn.close()


class SerialisedSchema:
    """Mixin for a PostgreSQL recorder: its `create_table` runs under `schema_lock`."""

    datastore: PostgresDatastore

    def create_table(self) -> None:
        with schema_lock(self.datastore):
            super().create_table()  # type: ignore[misc]
