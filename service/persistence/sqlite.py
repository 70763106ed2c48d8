"""SQLite: the library's application recorder plus the tracker's event index."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from eventsourcing.persistence import IntegrityError, PersistenceError, StoredEvent
from eventsourcing.sqlite import (
    SQLiteApplicationRecorder,
    SQLiteConnection,
    SQLiteCursor,
    SQLiteDatastore,
)

from service.persistence import LOOKUP_CHUNK, IndexRow, first_new_versions, gap_refusal

COLUMNS = "event_id, program_id, version, recorded_at, type, body_sha, referral_key, result"


def _instant(value: datetime) -> str:
    # One fixed spelling in UTC, so that text order is time order.
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f+00:00")


def drop_read_only_connections(datastore: SQLiteDatastore) -> None:
    """Make the datastore close a connection that met a store error, so it is not reused.

    SQLite opens a file it may not write (a full or read-only disk, an immutable
    file) read-only, and the connection stays so after the file is writable
    again; a connection that met `disk I/O error` may keep a broken WAL
    mapping. The library's pool would hand such a connection out for good:
    every request on it would fail after the store is back. So a connection
    that met any operational or database error (not a constraint violation,
    which says nothing of the connection) is closed; the pool drops it and
    opens a new one on the next request. Opening costs well under a
    millisecond, and errors are rare.
    """
    if getattr(datastore, "_drops_read_only", False):
        return
    pooled = datastore.get_connection

    @contextmanager
    def get_connection(*, commit: bool) -> Iterator[SQLiteConnection]:
        with pooled(commit=commit) as connection:
            try:
                yield connection
            except (sqlite3.IntegrityError, IntegrityError):
                raise
            except (sqlite3.Error, PersistenceError):
                connection.close()
                raise

    datastore.get_connection = get_connection  # type: ignore[method-assign]
    datastore._drops_read_only = True  # type: ignore[attr-defined]


class IndexedSQLiteRecorder(SQLiteApplicationRecorder):
    def __init__(self, datastore: SQLiteDatastore, **kwargs: Any) -> None:
        super().__init__(datastore, **kwargs)
        drop_read_only_connections(datastore)

    def construct_create_table_statements(self) -> list[str]:
        return [
            *super().construct_create_table_statements(),
            "CREATE TABLE IF NOT EXISTS wht_event_index ("
            "event_id TEXT PRIMARY KEY, program_id TEXT NOT NULL, "
            "version INTEGER NOT NULL, recorded_at TEXT NOT NULL, type TEXT NOT NULL, "
            "body_sha TEXT NOT NULL, referral_key TEXT, result TEXT NOT NULL, "
            "notification_id INTEGER)",
            "CREATE UNIQUE INDEX IF NOT EXISTS wht_event_index_program_time "
            "ON wht_event_index (program_id, recorded_at, version)",
            "CREATE INDEX IF NOT EXISTS wht_event_index_referral "
            "ON wht_event_index (referral_key) WHERE referral_key IS NOT NULL",
        ]

    def _insert_events(
        self, c: SQLiteCursor, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        notification_ids = super()._insert_events(c, stored_events, **kwargs)
        self._refuse_gaps(c, stored_events)
        rows: dict[tuple[UUID, int], IndexRow] = kwargs.get("index_rows") or {}
        if rows:
            params = []
            for stored, notification_id in zip(stored_events, notification_ids or [], strict=True):
                row = rows[(UUID(str(stored.originator_id)), stored.originator_version)]
                params.append(
                    (
                        row.event_id,
                        row.program_id.hex,
                        row.version,
                        _instant(row.recorded_at),
                        row.type,
                        row.body_sha,
                        row.referral_key,
                        row.result,
                        notification_id,
                    )
                )
            c.executemany(
                f"INSERT INTO wht_event_index ({COLUMNS}, notification_id) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                params,
            )
        return notification_ids

    def _refuse_gaps(self, c: SQLiteCursor, stored_events: Sequence[StoredEvent]) -> None:
        # After the batch's own rows, in the same transaction: each program's trail must
        # hold the version just before the batch's first of it (one query). Asked after
        # the insert, the transaction already writes: a read first would have to become
        # a write, which SQLite refuses at once ("database is locked") when another
        # connection wrote meanwhile, instead of waiting its turn.
        before = {pid: v - 1 for pid, v in first_new_versions(stored_events).items() if v > 1}
        if not before:
            return
        rows = ", ".join("(?, ?)" for _ in before)
        c.execute(
            f"SELECT originator_id FROM {self.events_table_name} "  # noqa: S608 (fixed name)
            f"WHERE (originator_id, originator_version) IN (VALUES {rows})",
            tuple(value for pid, v in before.items() for value in (pid.hex, v)),
        )
        found = {UUID(str(r[0])) for r in c.fetchall()}
        for pid, version in before.items():
            if pid not in found:
                c.execute(
                    f"SELECT MAX(originator_version) FROM {self.events_table_name} "  # noqa: S608
                    "WHERE originator_id = ? AND originator_version < ?",
                    (pid.hex, version + 1),
                )
                stored = c.fetchone()[0]
                raise gap_refusal(pid, int(stored or 0), version + 1)

    def _select(self, sql: str, params: tuple[Any, ...]) -> list[Any]:
        with self.datastore.transaction(commit=False) as c:
            c.execute(sql, params)
            return list(c.fetchall())

    def find_event(self, event_id: str) -> IndexRow | None:
        return self.find_events([event_id]).get(event_id)

    def find_events(self, event_ids: Sequence[str]) -> dict[str, IndexRow]:
        """The index rows of those of `event_ids` already stored, by event id."""
        found: dict[str, IndexRow] = {}
        unique = list(dict.fromkeys(event_ids))
        for first in range(0, len(unique), LOOKUP_CHUNK):
            chunk = unique[first : first + LOOKUP_CHUNK]
            marks = ", ".join("?" * len(chunk))
            for r in self._select(
                f"SELECT {COLUMNS} FROM wht_event_index WHERE event_id IN ({marks})",  # noqa: S608
                tuple(chunk),
            ):
                found[r[0]] = IndexRow(
                    event_id=r[0],
                    program_id=UUID(r[1]),
                    version=r[2],
                    recorded_at=datetime.fromisoformat(r[3]),
                    type=r[4],
                    body_sha=r[5],
                    referral_key=r[6],
                    result=r[7],
                )
        return found

    def version_known_at(self, program_id: UUID, known_at: datetime) -> int | None:
        rows = self._select(
            "SELECT MAX(version) FROM wht_event_index WHERE program_id = ? AND recorded_at <= ?",
            (program_id.hex, _instant(known_at)),
        )
        return rows[0][0] if rows and rows[0][0] is not None else None

    def programs_with_referral(
        self, referral_key: str, known_at: datetime
    ) -> list[tuple[UUID, datetime]]:
        rows = self._select(
            "SELECT program_id, MIN(recorded_at) FROM wht_event_index "
            "WHERE referral_key = ? AND recorded_at <= ? GROUP BY program_id",
            (referral_key, _instant(known_at)),
        )
        return [(UUID(r[0]), datetime.fromisoformat(r[1])) for r in rows]

    def program_ids(self, known_at: datetime) -> list[UUID]:
        rows = self._select(
            "SELECT DISTINCT program_id FROM wht_event_index "
            "WHERE version = 1 AND recorded_at <= ?",
            (_instant(known_at),),
        )
        return [UUID(r[0]) for r in rows]
