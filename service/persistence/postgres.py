"""PostgreSQL: the library's application recorder plus the tracker's event index."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.persistence import StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder, PostgresDatastore
from psycopg import Cursor
from psycopg.rows import DictRow
from psycopg.sql import SQL, Identifier

from service.persistence import LOOKUP_CHUNK, IndexRow, first_new_versions, gap_refusal
from service.persistence.schema import SerialisedSchema

COLUMNS = "event_id, program_id, version, recorded_at, type, body_sha, referral_key, result"


class IndexedPostgresRecorder(SerialisedSchema, PostgresApplicationRecorder):
    def __init__(self, datastore: PostgresDatastore, *, events_table_name: str = "stored_events"):
        super().__init__(datastore, events_table_name=events_table_name)
        self.sql_create_statements.extend(
            SQL(s).format()
            for s in (
                "CREATE TABLE IF NOT EXISTS wht_event_index ("
                "event_id text PRIMARY KEY, program_id uuid NOT NULL, "
                "version bigint NOT NULL, recorded_at timestamptz NOT NULL, type text NOT NULL, "
                "body_sha text NOT NULL, referral_key text, result text NOT NULL)",
                "CREATE UNIQUE INDEX IF NOT EXISTS wht_event_index_program_time "
                "ON wht_event_index (program_id, recorded_at, version)",
                "CREATE INDEX IF NOT EXISTS wht_event_index_referral "
                "ON wht_event_index (referral_key) WHERE referral_key IS NOT NULL",
            )
        )

    def _insert_events(
        self, curs: Cursor[DictRow], stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> None:
        # Runs inside the library's transaction, before the events themselves:
        # a repeated event_id fails the whole transaction, nothing is stored.
        self._refuse_gaps(curs, stored_events)
        rows: dict[tuple[UUID, int], IndexRow] = kwargs.get("index_rows") or {}
        if rows:
            curs.executemany(
                SQL(
                    f"INSERT INTO wht_event_index ({COLUMNS}) "  # noqa: S608 (fixed columns)
                    "VALUES (%s, %s, %s, %s, %s, %s, %s, %s)"
                ),
                [
                    (
                        r.event_id,
                        r.program_id,
                        r.version,
                        r.recorded_at,
                        r.type,
                        r.body_sha,
                        r.referral_key,
                        r.result,
                    )
                    for r in rows.values()
                ],
            )

    def _refuse_gaps(self, curs: Cursor[DictRow], stored_events: Sequence[StoredEvent]) -> None:
        # Each program's trail must end just before the batch's first version of it;
        # one query for the batch (`IndexedSQLiteRecorder._refuse_gaps`).
        first = first_new_versions(stored_events)
        if not any(v > 1 for v in first.values()):
            return
        curs.execute(
            SQL(
                "SELECT originator_id, MAX(originator_version) AS v FROM {schema}.{table} "
                "WHERE originator_id = ANY(%s) GROUP BY originator_id"
            ).format(
                schema=Identifier(self.datastore.schema),
                table=Identifier(self.events_table_name),
            ),
            (list(first),),
        )
        stored = {UUID(str(r["originator_id"])): int(r["v"]) for r in curs.fetchall()}
        for pid, version in first.items():
            if stored.get(pid, 0) < version - 1:  # more: another writer first (conflict)
                raise gap_refusal(pid, stored.get(pid, 0), version)

    def _select(self, sql: str, params: tuple[Any, ...]) -> list[Any]:
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(SQL(sql), params)
            return list(curs.fetchall())

    def find_event(self, event_id: str) -> IndexRow | None:
        return self.find_events([event_id]).get(event_id)

    def find_events(self, event_ids: Sequence[str]) -> dict[str, IndexRow]:
        """The index rows of those of `event_ids` already stored, by event id."""
        found: dict[str, IndexRow] = {}
        unique = list(dict.fromkeys(event_ids))
        for first in range(0, len(unique), LOOKUP_CHUNK):
            for r in self._select(
                f"SELECT {COLUMNS} FROM wht_event_index WHERE event_id = ANY(%s)",  # noqa: S608
                (unique[first : first + LOOKUP_CHUNK],),
            ):
                found[r["event_id"]] = IndexRow(
                    event_id=r["event_id"],
                    program_id=r["program_id"],
                    version=r["version"],
                    recorded_at=r["recorded_at"],
                    type=r["type"],
                    body_sha=r["body_sha"],
                    referral_key=r["referral_key"],
                    result=r["result"],
                )
        return found

    def version_known_at(self, program_id: UUID, known_at: datetime) -> int | None:
        rows = self._select(
            "SELECT MAX(version) AS v FROM wht_event_index "
            "WHERE program_id = %s AND recorded_at <= %s",
            (program_id, known_at),
        )
        return rows[0]["v"] if rows else None

    def programs_with_referral(
        self, referral_key: str, known_at: datetime
    ) -> list[tuple[UUID, datetime]]:
        rows = self._select(
            "SELECT program_id, MIN(recorded_at) AS first FROM wht_event_index "
            "WHERE referral_key = %s AND recorded_at <= %s GROUP BY program_id",
            (referral_key, known_at),
        )
        return [(r["program_id"], r["first"]) for r in rows]

    def program_ids(self, known_at: datetime) -> list[UUID]:
        rows = self._select(
            "SELECT DISTINCT program_id FROM wht_event_index "
            "WHERE version = 1 AND recorded_at <= %s",
            (known_at,),
        )
        return [r["program_id"] for r in rows]
