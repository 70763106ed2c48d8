"""The read model's tables, indexes and queries, for SQLite and PostgreSQL alike.

Two row tables and one per-program table:

- `wht_rm_state`: status and discharge eligibility over a business-date range,
  one row per constant stretch (they cover every date: a program known at T
  has exactly one state row for any as_of);
- `wht_rm_finding`: a finding code present over a business-date range;
- `wht_rm_program`: the program's current version, provider, judging inputs
  and timeline (what the next event is diffed against);
- `wht_rm_due`: an obligation (`projections.due`) listed over a business-date
  range, with its due date: the worklist reads it by due date.

Every row has both validities: `[valid_from, valid_to)` in business time and
`[recorded_from, superseded_at)` in system time, "infinity" when open. The
indexes lead with what a regulator filters on (status, eligibility, provider,
finding code) and continue with `program_id`, so a page is an index range read
in program order that stops after `limit` rows; the four time columns follow in
the index, so the time test is done inside the index.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any, Literal

from service.readmodel.partitions import layout_statement
from service.readmodel.view import ProgramChange, ProgramQuery, WorklistQuery

INFINITY = "infinity"
TABLES = ("wht_rm_state", "wht_rm_finding", "wht_rm_program", "wht_rm_due")
TIMES = "recorded_from, superseded_at, valid_from, valid_to"
Dialect = Literal["sqlite", "postgres"]


def program_statements(dialect: Dialect) -> list[str]:
    """CREATE TABLE / INDEX statements (idempotent) for one dialect."""
    pg = dialect == "postgres"
    pid = "uuid" if pg else "TEXT"
    day = "date" if pg else "TEXT"
    instant = "timestamptz" if pg else "TEXT"
    flag = "boolean" if pg else "INTEGER"
    current = f"WHERE superseded_at = '{INFINITY}'"
    return [
        f"CREATE TABLE IF NOT EXISTS wht_rm_state (program_id {pid} NOT NULL, "
        f"provider_id TEXT NOT NULL, status TEXT NOT NULL, eligible {flag} NOT NULL, "
        f"valid_from {day} NOT NULL, valid_to {day} NOT NULL, "
        f"recorded_from {instant} NOT NULL, superseded_at {instant} NOT NULL, "
        "version INTEGER NOT NULL)",
        f"CREATE TABLE IF NOT EXISTS wht_rm_finding (program_id {pid} NOT NULL, "
        "provider_id TEXT NOT NULL, code TEXT NOT NULL, "
        f"valid_from {day} NOT NULL, valid_to {day} NOT NULL, "
        f"recorded_from {instant} NOT NULL, superseded_at {instant} NOT NULL, "
        "version INTEGER NOT NULL)",
        f"CREATE TABLE IF NOT EXISTS wht_rm_program (program_id {pid} PRIMARY KEY, "
        f"provider_id TEXT NOT NULL, known_from {instant} NOT NULL, version INTEGER NOT NULL, "
        f"recorded_at {instant} NOT NULL, inputs TEXT NOT NULL, timeline TEXT NOT NULL)",
        # One current row per program and start date: the diff updates by it.
        "CREATE UNIQUE INDEX IF NOT EXISTS wht_rm_state_current "
        f"ON wht_rm_state (program_id, valid_from) {current}",
        "CREATE UNIQUE INDEX IF NOT EXISTS wht_rm_finding_current "
        f"ON wht_rm_finding (program_id, code, valid_from) {current}",
        # Regulator filters, each followed by program_id (page order) and the times.
        "CREATE INDEX IF NOT EXISTS wht_rm_state_program "
        f"ON wht_rm_state (program_id, {TIMES}, status, eligible, provider_id)",
        "CREATE INDEX IF NOT EXISTS wht_rm_state_status "
        f"ON wht_rm_state (status, program_id, {TIMES}, eligible, provider_id)",
        "CREATE INDEX IF NOT EXISTS wht_rm_state_eligible "
        f"ON wht_rm_state (eligible, program_id, {TIMES}, status, provider_id)",
        "CREATE INDEX IF NOT EXISTS wht_rm_state_provider "
        f"ON wht_rm_state (provider_id, program_id, {TIMES}, status, eligible)",
        "CREATE INDEX IF NOT EXISTS wht_rm_finding_program "
        f"ON wht_rm_finding (program_id, {TIMES}, code)",
        "CREATE INDEX IF NOT EXISTS wht_rm_finding_code "
        f"ON wht_rm_finding (code, program_id, {TIMES}, provider_id)",
        "CREATE INDEX IF NOT EXISTS wht_rm_finding_provider "
        f"ON wht_rm_finding (provider_id, code, program_id, {TIMES})",
        *due_statements(dialect),
        layout_statement(dialect),
    ]


DUE_COLUMNS = "program_id, provider_id, kind, clause, due_on, violation_on"


def due_statements(dialect: Dialect) -> list[str]:
    """The due-dates table: one row per obligation and business-date range, bitemporal
    like the others; indexed by due date (the worklist's order), alone and by provider."""
    pg = dialect == "postgres"
    pid = "uuid" if pg else "TEXT"
    day = "date" if pg else "TEXT"
    instant = "timestamptz" if pg else "TEXT"
    return [
        f"CREATE TABLE IF NOT EXISTS wht_rm_due (program_id {pid} NOT NULL, "
        "provider_id TEXT NOT NULL, kind TEXT NOT NULL, clause TEXT NOT NULL, "
        f"due_on {day} NOT NULL, violation_on {day}, "
        f"valid_from {day} NOT NULL, valid_to {day} NOT NULL, "
        f"recorded_from {instant} NOT NULL, superseded_at {instant} NOT NULL, "
        "version INTEGER NOT NULL)",
        "CREATE UNIQUE INDEX IF NOT EXISTS wht_rm_due_current "
        f"ON wht_rm_due (program_id, kind, due_on, valid_from) WHERE superseded_at = '{INFINITY}'",
        "CREATE INDEX IF NOT EXISTS wht_rm_due_date "
        f"ON wht_rm_due (due_on, program_id, kind, {TIMES}, provider_id)",
        "CREATE INDEX IF NOT EXISTS wht_rm_due_provider "
        f"ON wht_rm_due (provider_id, due_on, program_id, kind, {TIMES})",
    ]


# A due row as the writer compares them: provider, kind, clause, due_on,
# violation_on, valid_from, valid_to (None: open).
DueRow = tuple[str, str, str, date, date | None, date, date | None]


def select_current_due(mark: str) -> str:
    """A program's current due rows, dates as text on both stores (see `due_row`)."""
    columns = ", ".join(
        f"CAST({c} AS TEXT)" if c not in ("provider_id", "kind", "clause") else c
        for c in (
            "provider_id",
            "kind",
            "clause",
            "due_on",
            "violation_on",
            "valid_from",
            "valid_to",
        )
    )
    return (
        f"SELECT {columns} FROM wht_rm_due WHERE program_id = {mark} "
        f"AND superseded_at = '{INFINITY}'"
    )


def due_row(row: Sequence[Any]) -> DueRow:
    """A row of `select_current_due` as a `DueRow`."""
    provider, kind, clause, due_on, violation_on, valid_from, valid_to = row
    return (
        str(provider),
        str(kind),
        str(clause),
        date.fromisoformat(due_on),
        date.fromisoformat(violation_on) if violation_on else None,
        date.fromisoformat(valid_from),
        None if valid_to == INFINITY else date.fromisoformat(valid_to),
    )


def due_changes(current: set[DueRow], change: ProgramChange) -> tuple[list[DueRow], list[DueRow]]:
    """The due rows to retire and to add for `change` (none when it leaves them)."""
    if change.due is None:
        return [], []
    new = {
        (
            change.provider_id,
            s.kind,
            s.clause,
            s.due_on,
            s.violation_on,
            s.valid_from,
            s.valid_to,
        )
        for s in change.due
    }
    return sorted(current - new, key=_due_order), sorted(new - current, key=_due_order)


def _due_order(row: DueRow) -> tuple[str, date, date]:
    return (row[1], row[3], row[5])


def retire_due(mark: str) -> str:
    return (
        f"UPDATE wht_rm_due SET superseded_at = {mark} WHERE program_id = {mark} "
        f"AND kind = {mark} AND due_on = {mark} AND valid_from = {mark} "
        f"AND superseded_at = '{INFINITY}'"
    )


def insert_due(mark: str, *, day_cast: str = "") -> str:
    return (
        "INSERT INTO wht_rm_due (program_id, provider_id, kind, clause, due_on, violation_on, "
        "valid_from, valid_to, recorded_from, superseded_at, version) VALUES "
        f"({mark}, {mark}, {mark}, {mark}, {mark}, {mark}, {mark}, {mark}{day_cast}, {mark}, "
        f"'{INFINITY}', {mark})"
    )


def select_worklist(
    query: WorklistQuery, mark: str, *, as_of: Any, known_at: Any, due_by: Any, after: Any
) -> tuple[str, list[Any]]:
    """The page of obligations listed at the two times and due by `due_by`, by
    (due_on, program_id, kind): an index range on due_on (or provider, due_on)."""
    where = [_valid("d", mark), f"d.due_on <= {mark}"]
    params: list[Any] = [known_at, known_at, as_of, as_of, due_by]
    if query.provider_id is not None:
        where.append(f"d.provider_id = {mark}")
        params.append(query.provider_id)
    if after is not None:
        where.append(f"(d.due_on, d.program_id, d.kind) > ({mark}, {mark}, {mark})")
        params.extend(after)
    sql = (
        f"SELECT d.program_id, d.provider_id, d.kind, d.clause, d.due_on, d.violation_on "
        f"FROM wht_rm_due d WHERE {' AND '.join(where)} "
        f"ORDER BY d.due_on, d.program_id, d.kind LIMIT {mark}"
    )
    params.append(query.limit + 1)
    return sql, params


def _valid(alias: str, mark: str) -> str:
    return (
        f"{alias}.recorded_from <= {mark} AND {alias}.superseded_at > {mark} "
        f"AND {alias}.valid_from <= {mark} AND {alias}.valid_to > {mark}"
    )


def select_programs(
    query: ProgramQuery, mark: str, *, as_of: Any, known_at: Any, eligible: Any, after: Any
) -> tuple[str, list[Any]]:
    """The page of programs: (program_id, provider_id, status, eligible) by program_id.

    With a finding code the finding rows drive (an index range on code, or on
    provider and code), each joined to its one state row; otherwise the state
    rows drive, on the index of the filter given. `limit + 1` rows are asked
    for, so the caller knows whether another page follows.
    """
    times = [known_at, known_at, as_of, as_of]
    params: list[Any] = []
    where: list[str] = []
    if query.finding is not None:
        source = (
            f"wht_rm_finding f JOIN wht_rm_state s ON s.program_id = f.program_id "
            f"AND {_valid('s', mark)}"
        )
        params += times
        where += [f"f.code = {mark}", _valid("f", mark)]
        params += [query.finding, *times]
        driver = "f"
        if query.provider_id is not None:
            where.append(f"f.provider_id = {mark}")
            params.append(query.provider_id)
    else:
        source, driver = "wht_rm_state s", "s"
        where.append(_valid("s", mark))
        params += times
        if query.provider_id is not None:
            where.append(f"s.provider_id = {mark}")
            params.append(query.provider_id)
    if query.status is not None:
        where.append(f"s.status = {mark}")
        params.append(query.status)
    if query.discharge_eligible is not None:
        where.append(f"s.eligible = {mark}")
        params.append(eligible)
    if after is not None:
        where.append(f"{driver}.program_id > {mark}")
        params.append(after)
    sql = (
        f"SELECT s.program_id, s.provider_id, s.status, s.eligible FROM {source} "
        f"WHERE {' AND '.join(where)} ORDER BY {driver}.program_id LIMIT {mark}"
    )
    params.append(query.limit + 1)
    return sql, params


def select_findings(
    ids: list[Any], mark: str, *, as_of: Any, known_at: Any, dialect: Dialect
) -> tuple[str, list[Any]]:
    """The finding codes of the programs of one page, at the query's two times: one row
    a program, its codes joined by commas (codes are lower_snake_case)."""
    marks = ", ".join([mark] * len(ids))
    codes = "string_agg(f.code, ',')" if dialect == "postgres" else "group_concat(f.code, ',')"
    sql = (
        f"SELECT f.program_id, {codes} FROM wht_rm_finding f "
        f"WHERE f.program_id IN ({marks}) AND {_valid('f', mark)} GROUP BY f.program_id"
    )
    return sql, [*ids, known_at, known_at, as_of, as_of]
