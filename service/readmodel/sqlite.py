"""SQLite tables of the regulator's read model, beside the events in one file.

Dates are `YYYY-MM-DD` text and instants UTC text of one fixed width, so text
order is time order; "infinity" (which sorts after every digit) stands for an
open `valid_to` and for a row not superseded yet.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID

from eventsourcing.persistence import Tracking
from eventsourcing.sqlite import SQLiteCursor, SQLiteTrackingRecorder

from projections.timeline import Timeline
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


def instant(value: datetime) -> str:
    """An instant as fixed-width UTC text (the event index uses the same spelling)."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f+00:00")


class SQLiteReadModel(SQLiteTrackingRecorder, ReadModelRecorder):
    """The read model's tables and queries on SQLite."""

    def construct_create_table_statements(self) -> list[str]:
        return [*super().construct_create_table_statements(), *program_statements("sqlite")]

    def _rows(self, sql: str, params: Sequence[Any]) -> list[Any]:
        with self.datastore.transaction(commit=False) as c:
            c.execute(sql, params)
            return list(c.fetchall())

    def current(self, program_id: UUID) -> CurrentProgram | None:
        rows = self._rows(
            "SELECT version, provider_id, inputs, timeline FROM wht_rm_program "
            "WHERE program_id = ?",
            (str(program_id),),
        )
        if not rows:
            return None
        version, provider, inputs, timeline = rows[0]
        return CurrentProgram(version, provider, inputs, Timeline.from_json(_json(timeline)))

    def record_many(self, changes: Sequence[ProgramChange], tracking: Tracking) -> None:
        # A program's row is written once a transaction, from its last change (its
        # timeline is the whole of it), known from its first change's time.
        last = {change.program_id: change for change in changes}
        first: dict[UUID, datetime] = {}
        with self.datastore.transaction(commit=True) as c:
            # Write first, so that this transaction waits (SQLITE_LOCK_TIMEOUT) for
            # another writer's (`wht rebuild --workers N` runs several) instead of
            # failing at once with "database is locked" when a read (the due rows')
            # came first: SQLite refuses to upgrade a reader while another writes.
            c.execute("UPDATE wht_rm_program SET version = version WHERE 0")
            for change in changes:
                first.setdefault(change.program_id, change.recorded_at)
                self._write(c, change)
                if last[change.program_id] is change:
                    self._write_program(c, change, first[change.program_id])
            self._insert_tracking(c, tracking)

    def _write(self, c: SQLiteCursor, change: ProgramChange) -> None:
        pid, at = str(change.program_id), instant(change.recorded_at)
        _many(
            c,
            "UPDATE wht_rm_state SET superseded_at = ? WHERE program_id = ? AND valid_from = ? "
            f"AND superseded_at = '{INFINITY}'",
            [(at, pid, s.valid_from.isoformat()) for s in change.retired_states],
        )
        _many(
            c,
            "UPDATE wht_rm_finding SET superseded_at = ? WHERE program_id = ? AND code = ? "
            f"AND valid_from = ? AND superseded_at = '{INFINITY}'",
            [(at, pid, f.code, f.valid_from.isoformat()) for f in change.retired_findings],
        )
        _many(
            c,
            "INSERT INTO wht_rm_state (program_id, provider_id, status, eligible, valid_from, "
            "valid_to, recorded_from, superseded_at, version) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    pid,
                    change.provider_id,
                    s.status,
                    int(s.discharge_eligible),
                    s.valid_from.isoformat(),
                    _date(s.valid_to),
                    at,
                    INFINITY,
                    change.version,
                )
                for s in change.added_states
            ],
        )
        _many(
            c,
            "INSERT INTO wht_rm_finding (program_id, provider_id, code, valid_from, valid_to, "
            "recorded_from, superseded_at, version) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    pid,
                    change.provider_id,
                    f.code,
                    f.valid_from.isoformat(),
                    _date(f.valid_to),
                    at,
                    INFINITY,
                    change.version,
                )
                for f in change.added_findings
            ],
        )
        self._write_due(c, change)

    def _write_program(self, c: SQLiteCursor, change: ProgramChange, known_from: datetime) -> None:
        at = instant(change.recorded_at)
        c.execute(
            "INSERT INTO wht_rm_program (program_id, provider_id, known_from, version, "
            "recorded_at, inputs, timeline) VALUES (?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (program_id) DO UPDATE SET provider_id = excluded.provider_id, "
            "version = excluded.version, recorded_at = excluded.recorded_at, "
            "inputs = excluded.inputs, timeline = excluded.timeline",
            (
                str(change.program_id),
                change.provider_id,
                instant(known_from),
                change.version,
                at,
                change.inputs,
                _dump(change.timeline),
            ),
        )

    def _write_due(self, c: SQLiteCursor, change: ProgramChange) -> None:
        # The program's due rows, diffed here against what the table holds now.
        if change.due is None:
            return
        pid, at = str(change.program_id), instant(change.recorded_at)
        c.execute(select_current_due("?"), (pid,))
        retired, added = due_changes({due_row(row) for row in c.fetchall()}, change)
        _many(
            c,
            retire_due("?"),
            [
                (at, pid, kind, due_on.isoformat(), since.isoformat())
                for _, kind, _, due_on, _, since, _ in retired
            ],
        )
        _many(
            c,
            insert_due("?"),
            [
                (
                    pid,
                    provider,
                    kind,
                    clause,
                    due_on.isoformat(),
                    late.isoformat() if late else None,
                    since.isoformat(),
                    _date(until),
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
            "?",
            as_of=query.as_of.isoformat(),
            known_at=instant(query.known_at),
            due_by=query.due_by.isoformat(),
            after=None if after is None else (after[0].isoformat(), after[1], after[2]),
        )
        rows = self._rows(sql, params)
        return WorkPage(
            tuple(
                WorkItem(
                    pid,
                    provider,
                    kind,
                    clause,
                    date.fromisoformat(due_on),
                    date.fromisoformat(late) if late else None,
                )
                for pid, provider, kind, clause, due_on, late in rows[: query.limit]
            ),
            len(rows) > query.limit,
        )

    def _select(self, query: ProgramQuery) -> tuple[str, list[Any]]:
        return select_programs(
            query,
            "?",
            as_of=query.as_of.isoformat(),
            known_at=instant(query.known_at),
            eligible=None if query.discharge_eligible is None else int(query.discharge_eligible),
            after=query.after,
        )

    def programs(self, query: ProgramQuery) -> ProgramPage:
        # One read transaction: the page and its findings from one snapshot.
        with self.datastore.transaction(commit=False) as c:
            c.execute(*self._select(query))
            page = list(c.fetchall())
            more = len(page) > query.limit
            page = page[: query.limit]
            codes: dict[str, list[str]] = {}
            if page:
                c.execute(
                    *select_findings(
                        [row[0] for row in page],
                        "?",
                        as_of=query.as_of.isoformat(),
                        known_at=instant(query.known_at),
                        dialect="sqlite",
                    )
                )
                codes = {program_id: joined.split(",") for program_id, joined in c.fetchall()}
        return ProgramPage(
            tuple(
                ListedProgram(
                    pid, provider, status, bool(eligible), tuple(sorted(codes.get(pid, [])))
                )
                for pid, provider, status, eligible in page
            ),
            more,
        )

    def explain(self, query: ProgramQuery) -> list[str]:
        sql, params = self._select(query)
        return [str(row[3]) for row in self._rows(f"EXPLAIN QUERY PLAN {sql}", params)]

    def analyze(self) -> None:
        with self.datastore.transaction(commit=True) as c:
            for table in TABLES:
                c.execute(f"ANALYZE {table}")

    def counts(self) -> dict[str, int]:
        return {
            table: int(self._rows(f"SELECT COUNT(*) FROM {table}", ())[0][0]) for table in TABLES
        }

    def reset(self, application_name: str) -> None:
        with self.datastore.transaction(commit=True) as c:
            for table in TABLES:
                c.execute(f"DROP TABLE IF EXISTS {table}")
            # The name, and its partitions' names (`partitions.tracking_name`).
            c.execute(
                "DELETE FROM tracking WHERE application_name = ? OR application_name LIKE ?",
                (application_name, f"{application_name}#%"),
            )
            for statement in program_statements("sqlite"):
                c.execute(statement)


def _many(c: SQLiteCursor, statement: str, rows: list[tuple[Any, ...]]) -> None:
    # An executemany of no rows still prepares its statement: most changes
    # retire or add only some kinds of rows.
    if rows:
        c.executemany(statement, rows)


def _date(value: Any) -> str:
    return INFINITY if value is None else str(value.isoformat())


def _dump(timeline: Timeline) -> str:
    return json.dumps(timeline.as_json(), separators=(",", ":"))


def _json(text: str) -> Any:
    return json.loads(text)
