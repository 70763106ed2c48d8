"""What is due: one program's obligations and budgets (docs/reference/http.md)."""

from __future__ import annotations

import base64
import binascii
import io
from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal, get_args
from uuid import UUID

from defusedcsv import csv
from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field

from api.deps import AsOf, Cursor, KnownAt, ProgramId, TrackerDep, caught_up, is_regulator
from api.openapi import READ_PROBLEMS, problem_responses
from domain.errors import InvalidCursor
from domain.program import format_instant
from projections.due import MISSED, OPEN
from service import listing
from service.business_time import ProgramDates, as_of_for
from service.readmodel.view import ReadModelRecorder, WorkItem, WorklistQuery
from service.security import Role

router = APIRouter(prefix="/v1", tags=["due dates"])

Kind = Literal[
    "evaluation_documentation",
    "reevaluation",
    "staff_conference",
    "discharge_report",
    "coverage_end",
]
Status = Literal["open", "missed"]
KINDS = frozenset(get_args(Kind))


class ObligationOut(BaseModel):
    """One thing the program owes: `due_on` is the last day to meet it."""

    kind: Kind
    clause: str
    due_on: date
    status: Status
    violation_on: date | None = None


class BudgetsOut(BaseModel):
    """What is left: absence equivalents before DIS-5a is breached, reimbursable days
    this program week, program weeks of the covered ones, and reimbursable hours used."""

    absence_equivalents_left: int
    days_left_this_week: int
    weeks_left: int
    reimbursable_hours_used: int | float


class DueOut(BaseModel):
    program_id: str
    as_of: date
    known_at: str
    obligations: list[ObligationOut]
    budgets: BudgetsOut


@router.get(
    "/programs/{program_id}/due",
    operation_id="get_due_dates",
    response_model=DueOut,
    response_model_exclude_none=True,
    responses=READ_PROBLEMS,
)
def due_dates(
    program_id: ProgramId, tracker: TrackerDep, as_of: AsOf = None, known_at: KnownAt = None
) -> DueOut:
    """What must this program do by when, and what has it left, as of a business date
    (default: today in the program's time zone), as known at an instant (default: now)?
    Before the program's referral date it did not exist yet: 404."""
    view = tracker.view(program_id, known_at)
    listed = view.due(as_of_for(view, as_of)).as_dict()
    return DueOut.model_validate(
        {"program_id": str(program_id), "known_at": format_instant(view.known_at), **listed}
    )


class WorkItemOut(BaseModel):
    """One obligation on the worklist; `worker_name` and `claim_number` are left out
    for a regulator."""

    program_id: str
    provider_id: str
    kind: Kind
    clause: str
    due_on: date
    status: Status
    violation_on: date | None = None
    worker_name: str | None = None
    claim_number: str | None = None
    as_of: date = Field(
        description="the business date the obligation is listed at (its `status` is as of "
        "it): the worklist's `as_of`, or, with none given, today in the program's time zone"
    )


class WorklistOut(BaseModel):
    items: list[WorkItemOut]
    next_cursor: str | None
    as_of: date = Field(
        description="the `as_of` asked for; with none, today in UTC (each item says its own)"
    )
    known_at: str


CSV_COLUMNS = (
    "program_id",
    "provider_id",
    "kind",
    "clause",
    "due_on",
    "status",
    "violation_on",
    "as_of",
)
NAME_COLUMNS = ("worker_name", "claim_number")
DEFAULT_WITHIN = 7
DEFAULT_LIMIT = 50
MAX_LIMIT = 500


def encode_cursor(item: WorkItem) -> str:
    """An opaque page cursor: the page's last (due_on, program_id, kind), base64url."""
    due_on, program_id, kind = item.cursor()
    text = f"{due_on.isoformat()}|{program_id}|{kind}"
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[date, str, str]:
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        day, program_id, kind = text.split("|")
        if kind not in KINDS:
            raise ValueError(kind)
        return date.fromisoformat(day), str(UUID(program_id)), kind
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise InvalidCursor(
            "cursor is not one this service handed out; use next_cursor of the previous page.",
            [{"loc": ["query", "cursor"], "msg": "not a valid cursor"}],
        ) from None


@router.get(
    "/worklist",
    operation_id="get_worklist",
    response_model=WorklistOut,
    responses={
        200: {"content": {"text/csv": {"schema": {"type": "string"}}}},
        **problem_responses(422, 503),
    },
)
def worklist(
    request: Request,
    tracker: TrackerDep,
    as_of: AsOf = None,
    known_at: KnownAt = None,
    provider_id: Annotated[str | None, Query(max_length=500)] = None,
    due_within: Annotated[int, Query(ge=0, le=3660, description="days after as_of")] = (
        DEFAULT_WITHIN
    ),
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    cursor: Cursor = None,
    format: Annotated[Literal["json", "csv"] | None, Query()] = None,  # noqa: A002
) -> Any:
    """What is due across programs: every obligation missed, or due within `due_within`
    days of `as_of`, as known at an instant (default: now), by due date then program.
    With no `as_of`, each program's obligations are listed at today in its own time
    zone; each item says its `as_of`. A program is listed from its referral's date on.
    A provider sees only its own programs; a regulator no names. `format=csv` or
    `Accept: text/csv` answers CSV."""
    view: ReadModelRecorder = request.app.state.read_model
    instant = known_at or tracker.clock()
    now = datetime.now(UTC)
    day = as_of or now.date()
    key = getattr(request.state, "api_key", None)
    others = False  # a provider asking for another provider's programs sees none
    if key is not None and key.role is Role.PROVIDER:
        others = provider_id not in (None, key.provider_id)
        provider_id = key.provider_id
    late = caught_up(request, tracker)
    if late is not None:
        return late
    query = WorklistQuery(
        as_of=day,
        known_at=instant,
        due_by=_plus(day, due_within),
        provider_id=provider_id,
        after=decode_cursor(cursor) if cursor else None,
        limit=limit,
    )
    found: list[tuple[WorkItem, date]] = []
    more = False
    if not others:
        found, more = listing.worklist(
            view,
            ProgramDates(tracker, instant, now),
            query,
            as_of,
            lambda listed_on: _plus(listed_on, due_within),
        )
    named = not is_regulator(request)
    people: dict[str, dict[str, str] | None] = {}
    items: list[dict[str, Any]] = []
    for item, listed_on in found:
        row: dict[str, Any] = {
            "program_id": item.program_id,
            "provider_id": item.provider_id,
            "kind": item.kind,
            "clause": item.clause,
            "due_on": item.due_on.isoformat(),
            "status": OPEN if item.due_on >= listed_on else MISSED,
            "violation_on": item.violation_on.isoformat() if item.violation_on else None,
            "as_of": listed_on.isoformat(),
        }
        if named:
            if item.program_id not in people:
                people[item.program_id] = tracker.worker_of(UUID(item.program_id), instant)
            row.update(people[item.program_id] or dict.fromkeys(NAME_COLUMNS, ""))
        items.append(row)
    next_cursor = encode_cursor(found[-1][0]) if more and found else None
    accept = request.headers.get("accept", "")
    if format == "csv" or (format is None and "text/csv" in accept):
        columns = CSV_COLUMNS + (NAME_COLUMNS if named else ())
        out = io.StringIO()
        writer = csv.DictWriter(out, columns, extrasaction="ignore", lineterminator="\n")
        writer.writeheader()
        writer.writerows({k: ("" if v is None else v) for k, v in row.items()} for row in items)
        headers = {"Content-Disposition": 'attachment; filename="worklist.csv"'}
        if next_cursor:
            headers["Wht-Next-Cursor"] = next_cursor
        return Response(out.getvalue(), media_type="text/csv; charset=utf-8", headers=headers)
    for row in items:
        if row["violation_on"] is None:
            del row["violation_on"]
    return JSONResponse(
        {
            "items": items,
            "next_cursor": next_cursor,
            "as_of": day.isoformat(),
            "known_at": format_instant(instant),
        }
    )


def _plus(day: date, days: int) -> date:
    return listing.plus_days(day, days)
