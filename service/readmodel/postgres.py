"""PostgreSQL tables of the regulator's read model, beside the events in one database.

Dates are `date`, instants `timestamptz`; PostgreSQL's own 'infinity' stands
for an open `valid_to` and for a row not superseded yet. Table creation takes
the schema lock (`service.persistence.schema`), so that several processes
starting on one fresh database do not race on CREATE TABLE.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.persistence import Tracking
from eventsourcing.postgres import PostgresDatastore, PostgresTrackingRecorder
from psycopg import Cursor
from psycopg.rows import DictRow
from psycopg.sql import SQL

from projections.timeline import Timeline
from service.persistence.schema import SCHEMA_XACT_LOCK, SerialisedSchema
from service.readmodel.sql import (
    INFINITY,
    TABLES,
    due_changes,
    due_row,
    insert_due,
    program_statements,
    retire_due,
    select_current_due,
    select_findings,
    select_programs,
    select_worklist,
)
from service.readmodel.view import (
    CurrentProgram,
    ListedProgram,
    ProgramChange,
    ProgramPage,
    ProgramQuery,
    ReadModelRecorder,
    WorkItem,
    WorklistQuery,
    WorkPage,
)


class PostgresReadModel(SerialisedSchema, PostgresTrackingRecorder, ReadModelRecorder):
    """The read model's tables and queries on PostgreSQL."""

    def __init__(self, datastore: PostgresDatastore, **kwargs: Any) -> None:
        super().__init__(datastore, **kwargs)
        self.sql_create_statements.extend(SQL(s).format() for s in program_statements("postgres"))

    def _rows(self, sql: str, params: Sequence[Any]) -> list[DictRow]:
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(SQL(sql), params)
            return list(curs.fetchall())

    def current(self, program_id: UUID) -> CurrentProgram | None:
        rows = self._rows(
            "SELECT version, provider_id, inputs, timeline FROM wht_rm_program "
            "WHERE program_id = %s",
            (program_id,),
        )
        if not rows:
            return None
        row = rows[0]
        return CurrentProgram(
            row["version"],
            row["provider_id"],
            row["inputs"],
            Timeline.from_json(json.loads(row["timeline"])),
        )

    def record_many(self, changes: Sequence[ProgramChange], tracking: Tracking) -> None:
        # A program's row is written once a transaction, from its last change (its
        # timeline is the whole of it), known from its first change's time.
        last = {change.program_id: change for change in changes}
        first: dict[UUID, datetime] = {}
        with self.datastore.transaction(commit=True) as curs:
            for change in changes:
                first.setdefault(change.program_id, change.recorded_at)
                self._write(curs, change)
                if last[change.program_id] is change:
                    self._write_program(curs, change, first[change.program_id])
            self._insert_tracking(curs, tracking)

    def _write(self, curs: Cursor[DictRow], change: ProgramChange) -> None:
        pid, at = change.program_id, change.recorded_at
        if change.retired_states:
            curs.executemany(
                "UPDATE wht_rm_state SET superseded_at = %s WHERE program_id = %s "
                f"AND valid_from = %s AND superseded_at = '{INFINITY}'",
                [(at, pid, s.valid_from) for s in change.retired_states],
            )
        if change.retired_findings:
            curs.executemany(
                "UPDATE wht_rm_finding SET superseded_at = %s WHERE program_id = %s "
                f"AND code = %s AND valid_from = %s AND superseded_at = '{INFINITY}'",
                [(at, pid, f.code, f.valid_from) for f in change.retired_findings],
            )
        if change.added_states:
            curs.executemany(
                "INSERT INTO wht_rm_state (program_id, provider_id, status, eligible, "
                "valid_from, valid_to, recorded_from, superseded_at, version) "
                "VALUES (%s, %s, %s, %s, %s, %s::date, %s, 'infinity', %s)",
                [
                    (
                        pid,
                        change.provider_id,
                        s.status,
                        s.discharge_eligible,
                        s.valid_from,
                        s.valid_to or INFINITY,
                        at,
                        change.version,
                    )
                    for s in change.added_states
                ],
            )
        if change.added_findings:
            curs.executemany(
                "INSERT INTO wht_rm_finding (program_id, provider_id, code, valid_from, "
                "valid_to, recorded_from, superseded_at, version) "
                "VALUES (%s, %s, %s, %s, %s::date, %s, 'infinity', %s)",
                [
                    (
                        pid,
                        change.provider_id,
                        f.code,
                        f.valid_from,
                        f.valid_to or INFINITY,
                        at,
                        change.version,
                    )
                    for f in change.added_findings
                ],
            )
        self._write_due(curs, change)

    def _write_program(
        self, curs: Cursor[DictRow], change: ProgramChange, known_from: datetime
    ) -> None:
        curs.execute(
            "INSERT INTO wht_rm_program (program_id, provider_id, known_from, version, "
            "recorded_at, inputs, timeline) VALUES (%s, %s, %s, %s, %s, %s, %s) "
            "ON CONFLICT (program_id) DO UPDATE SET provider_id = excluded.provider_id, "
            "version = excluded.version, recorded_at = excluded.recorded_at, "
            "inputs = excluded.inputs, timeline = excluded.timeline",
            (
                change.program_id,
                change.provider_id,
                known_from,
                change.version,
                change.recorded_at,
                change.inputs,
                json.dumps(change.timeline.as_json(), separators=(",", ":")),
            ),
        )

    def _write_due(self, curs: Cursor[DictRow], change: ProgramChange) -> None:
        # The program's due rows, diffed here against what the table holds now.
        if change.due is None:
            return
        pid, at = change.program_id, change.recorded_at
        curs.execute(SQL(select_current_due("%s")), (pid,))
        current = {due_row(tuple(row.values())) for row in curs.fetchall()}
        retired, added = due_changes(current, change)
        if retired:
            curs.executemany(
                retire_due("%s"),
                [(at, pid, kind, due_on, since) for _, kind, _, due_on, _, since, _ in retired],
            )
        if added:
            curs.executemany(
                insert_due("%s", day_cast="::date"),
                [
                    (
                        pid,
                        provider,
                        kind,
                        clause,
                        due_on,
                        late,
                        since,
                        until or INFINITY,
                        at,
                        change.version,
                    )
                    for provider, kind, clause, due_on, late, since, until in added
                ],
            )

    def worklist(self, query: WorklistQuery) -> WorkPage:
        after = query.after
        sql, params = select_worklist(
            query,
            "%s",
            as_of=query.as_of,
            known_at=query.known_at,
            due_by=query.due_by,
            after=None if after is None else (after[0], UUID(after[1]), after[2]),
        )
        rows = self._rows(sql, params)
        return WorkPage(
            tuple(
                WorkItem(
                    str(row["program_id"]),
                    row["provider_id"],
                    row["kind"],
                    row["clause"],
                    row["due_on"],
                    row["violation_on"],
                )
                for row in rows[: query.limit]
            ),
            len(rows) > query.limit,
        )

    def _select(self, query: ProgramQuery) -> tuple[str, list[Any]]:
        return select_programs(
            query,
            "%s",
            as_of=query.as_of,
            known_at=query.known_at,
            eligible=query.discharge_eligible,
            after=UUID(query.after) if query.after is not None else None,
        )

    def programs(self, query: ProgramQuery) -> ProgramPage:
        # One snapshot for the page and its findings (READ COMMITTED takes one a statement).
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(SQL("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ"))
            sql, params = self._select(query)
            curs.execute(SQL(sql), params)
            page = list(curs.fetchall())
            more = len(page) > query.limit
            page = page[: query.limit]
            codes: dict[UUID, list[str]] = {}
            if page:
                sql, params = select_findings(
                    [row["program_id"] for row in page],
                    "%s",
                    as_of=query.as_of,
                    known_at=query.known_at,
                    dialect="postgres",
                )
                curs.execute(SQL(sql), params)
                codes = {row["program_id"]: row["string_agg"].split(",") for row in curs.fetchall()}
        return ProgramPage(
            tuple(
                ListedProgram(
                    str(row["program_id"]),
                    row["provider_id"],
                    row["status"],
                    bool(row["eligible"]),
                    tuple(sorted(codes.get(row["program_id"], []))),
                )
                for row in page
            ),
            more,
        )

    def explain(self, query: ProgramQuery) -> list[str]:
        sql, params = self._select(query)
        rows = self._rows(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", params)
        return [str(row["QUERY PLAN"]) for row in rows]

    def analyze(self) -> None:
        with self.datastore.transaction(commit=True) as curs:
            for table in TABLES:
                curs.execute(SQL(f"ANALYZE {table}"))

    def counts(self) -> dict[str, int]:
        return {
            table: int(self._rows(f"SELECT COUNT(*) AS n FROM {table}", ())[0]["n"])
            for table in TABLES
        }

    def reset(self, application_name: str) -> None:
        with self.datastore.transaction(commit=True) as curs:
            curs.execute(SQL(SCHEMA_XACT_LOCK))
            for table in TABLES:
                curs.execute(SQL(f"DROP TABLE IF EXISTS {table}"))
            # The name, and its partitions' names (`partitions.tracking_name`).
            curs.execute(
                SQL(
                    f"DELETE FROM {self.tracking_table_name} "
                    "WHERE application_name = %s OR application_name LIKE %s"
                ),
                (application_name, f"{application_name}#%"),
            )
            for statement in program_statements("postgres"):
                curs.execute(SQL(statement))
