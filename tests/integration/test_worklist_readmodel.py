"""The worklist's due-dates table on a real store, SQLite and PostgreSQL.

Program by program it answers what the program's own due list says at the
same two times (the list folded from the trail, `projections.due`), page by
page in (due_on, program_id, kind) order; a rebuild gives the same rows.
"""

from __future__ import annotations

from datetime import date, timedelta
from uuid import UUID

from domain.errors import ProgramNotFound
from service.application import Tracker
from service.readmodel.runner import ReadModelRunner
from service.readmodel.view import ReadModelRecorder, WorklistQuery

from .test_readmodel import seed

Row = tuple[date, str, str, str, date | None]


def wanted(tracker: Tracker, ids: list[UUID], query: WorklistQuery) -> list[Row]:
    found: list[Row] = []
    for pid in ids:
        try:
            listed = tracker.view(pid, query.known_at).due(query.as_of)
        except ProgramNotFound:  # not known yet at known_at
            continue
        found += [
            (o.due_on, str(pid), o.kind, o.clause, o.violation_on)
            for o in listed.obligations
            if o.due_on <= query.due_by
        ]
    return sorted(found)


def walked(view: ReadModelRecorder, query: WorklistQuery) -> list[Row]:
    rows: list[Row] = []
    while True:
        page = view.worklist(query)
        rows += [(i.due_on, i.program_id, i.kind, i.clause, i.violation_on) for i in page.items]
        if not page.more:
            return rows
        query = WorklistQuery(**{**query.__dict__, "after": page.items[-1].cursor()})


def test_the_worklist_answers_as_each_programs_own_due_list(
    tracker: Tracker, view: ReadModelRecorder, runner: ReadModelRunner
) -> None:
    provider, ids = seed(tracker, 6, seed=11)
    runner.catch_up()
    instants = sorted({tracker.view(pid).program.modified_on for pid in ids})
    checked = 0
    for known_at in [
        instants[0] - timedelta(microseconds=1),
        instants[len(instants) // 2],
        instants[-1],
    ]:
        for as_of in (date(2026, 2, 1), date(2026, 4, 20), date(2026, 8, 1), date(2027, 1, 1)):
            for within in (0, 7, 400):
                query = WorklistQuery(
                    as_of=as_of,
                    known_at=known_at,
                    due_by=as_of + timedelta(days=within),
                    provider_id=provider,
                    limit=4,
                )
                want = wanted(tracker, ids, query)
                assert walked(view, query) == want, (as_of, known_at, within)
                checked += len(want)
    assert checked > 0


def test_another_providers_rows_are_not_in_a_providers_worklist(
    tracker: Tracker, view: ReadModelRecorder, runner: ReadModelRunner
) -> None:
    provider, ids = seed(tracker, 2, seed=3)
    other, _ = seed(tracker, 2, seed=4)
    runner.catch_up()
    query = WorklistQuery(
        as_of=date(2026, 9, 1),
        known_at=tracker.clock(),
        due_by=date(2030, 1, 1),
        provider_id=provider,
        limit=500,
    )
    items = view.worklist(query).items
    assert items and {i.provider_id for i in items} == {provider}
    assert {UUID(i.program_id) for i in items} <= set(ids)
