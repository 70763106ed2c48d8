"""The security tables' plumbing: one transaction at a time in the tracker's own
database (SQLite or PostgreSQL), and the tables created with their append-only guards."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from eventsourcing.sqlite import SQLiteDatastore

from service.persistence.schema import SCHEMA_XACT_LOCK


def now_text() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


class Tables:
    """What the key store and the access log share: the datastore and its SQL dialect."""

    def __init__(self, datastore: Any, clock: Callable[[], str] = now_text) -> None:
        self.datastore = datastore
        self.sqlite = isinstance(datastore, SQLiteDatastore)
        self.clock = clock
        self.create_tables()

    @contextmanager
    def _tx(self, commit: bool) -> Iterator[Any]:
        with self.datastore.transaction(commit=commit) as curs:
            yield curs

    def _sql(self, sql: str) -> str:
        return sql if self.sqlite else sql.replace("?", "%s")

    def _rows(self, sql: str, params: tuple[Any, ...] = ()) -> list[Any]:
        with self._tx(commit=False) as curs:
            curs.execute(self._sql(sql), params)
            return list(curs.fetchall())

    def create_tables(self) -> None:
        """Create the three tables and their append-only guards, if missing."""
        seq = "INTEGER" if self.sqlite else "bigint"
        tables = [
            "CREATE TABLE IF NOT EXISTS wht_api_keys (key_id TEXT PRIMARY KEY, "
            "key_hash TEXT NOT NULL UNIQUE, role TEXT NOT NULL, provider_id TEXT, "
            "label TEXT NOT NULL, created_at TEXT NOT NULL)",
            "CREATE TABLE IF NOT EXISTS wht_api_key_revocations (key_id TEXT PRIMARY KEY "
            "REFERENCES wht_api_keys (key_id), revoked_at TEXT NOT NULL, reason TEXT NOT NULL)",
            f"CREATE TABLE IF NOT EXISTS wht_access_log (seq {seq} PRIMARY KEY, at TEXT NOT NULL, "
            "key_id TEXT NOT NULL, role TEXT NOT NULL, method TEXT NOT NULL, "
            "endpoint TEXT NOT NULL, path TEXT NOT NULL, status INTEGER NOT NULL, "
            "program_id TEXT, as_of TEXT, known_at TEXT, query TEXT NOT NULL, "
            "prev_hash TEXT NOT NULL, hash TEXT NOT NULL)",
            "CREATE INDEX IF NOT EXISTS wht_access_log_program ON wht_access_log (program_id)",
            # Web sessions signed out: the cookie alone would stay valid until it expires.
            "CREATE TABLE IF NOT EXISTS wht_ui_session_ends (session_id TEXT PRIMARY KEY, "
            "ended_at TEXT NOT NULL)",
        ]
        names = ["wht_api_keys", "wht_api_key_revocations", "wht_access_log", "wht_ui_session_ends"]
        if self.sqlite:
            guards = [
                f"CREATE TRIGGER IF NOT EXISTS {n}_no_{op.lower()} BEFORE {op} ON {n} "
                f"BEGIN SELECT RAISE(ABORT, '{n} is append-only'); END"
                for n in names
                for op in ("UPDATE", "DELETE")
            ]
        else:
            guards = [
                "CREATE OR REPLACE FUNCTION wht_append_only() RETURNS trigger LANGUAGE plpgsql "
                "AS $$ BEGIN RAISE EXCEPTION '% is append-only', TG_TABLE_NAME; END $$",
                *(
                    f"CREATE OR REPLACE TRIGGER {n}_append_only BEFORE UPDATE OR DELETE ON {n} "
                    "FOR EACH ROW EXECUTE FUNCTION wht_append_only()"
                    for n in names
                ),
            ]
        with self._tx(commit=True) as curs:
            if not self.sqlite:  # two processes starting at once must not race on DDL
                curs.execute(SCHEMA_XACT_LOCK)
            for statement in [*tables, *guards]:
                curs.execute(statement)
