"""The case manager's worklist page: programs with something missed or due soon.

Which obligations are listed is what `GET /v1/worklist` answers (the read
model's due-dates table, for the same as_of, window and provider); for the
programs on it the page adds the figures a case manager scans for: worker,
claim, admission date, weeks used, hours, open violations and the next due item.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from fastapi import APIRouter, Request
from starlette.responses import HTMLResponse, Response

from api.deps import TrackerDep, caught_up, parse_as_of
from api.ui.pages import UNAVAILABLE, refusal_page
from api.ui.render import day_input, error_page, page
from api.ui.session import Viewer, admit, record_read
from domain.errors import InvalidQuery, StoreUnavailable, TrackerError
from projections.model import json_number
from service import listing
from service.application import Tracker
from service.business_time import ProgramDates
from service.readmodel.view import ReadModelRecorder, WorklistQuery
from service.security import Role
from service.storage import store_errors

router = APIRouter(include_in_schema=False)
ROUTE = "/v1/worklist"
MOST = 500  # obligations read for one page
SORTS = {
    "next_due": lambda r: (r["next"]["due_on"], r["program_id"]),
    "worker": lambda r: (r["worker_name"].lower(), r["program_id"]),
    "claim": lambda r: (r["claim_number"], r["program_id"]),
    "admitted_on": lambda r: (r["admitted_on"] or "", r["program_id"]),
    "weeks_used": lambda r: (-r["weeks_used"], r["program_id"]),
    "hours": lambda r: (-r["total_hours"], r["program_id"]),
    "violations": lambda r: (-r["violations"], r["program_id"]),
}


def rows(
    request: Request, tracker: Tracker, who: Viewer, params: dict[str, Any]
) -> list[dict[str, Any]]:
    view: ReadModelRecorder = request.app.state.read_model
    known_at = tracker.clock()
    provider = params["provider_id"] or None
    if who.key is not None and who.key.role is Role.PROVIDER:
        provider = who.key.provider_id
    late = caught_up(request, tracker)
    if late is not None:
        raise StoreUnavailable("The read model is catching up; reload the page shortly.")
    now = datetime.now(UTC)
    # With no as_of, each program's obligations at today in its own time zone (R21);
    # a program is listed from its referral's date on (R12).
    items, _ = listing.worklist(
        view,
        ProgramDates(tracker, known_at, now),
        WorklistQuery(
            as_of=params["as_of"] or now.date(),
            known_at=known_at,
            due_by=now.date(),
            provider_id=provider,
            limit=MOST,
        ),
        params["as_of"],
        lambda day: listing.plus_days(day, params["due_within"]),
    )
    named = who.key is None or who.key.role is not Role.REGULATOR
    by_program: dict[str, list[Any]] = {}
    for item, day in items:
        status = "open" if item.due_on >= day else "missed"
        if params["status"] in ("", status) and params["kind"] in ("", item.kind):
            by_program.setdefault(item.program_id, []).append((item, status, day))
    found = []
    for pid, listed in by_program.items():
        item, status, day = listed[0]
        judged = tracker.view(UUID(pid), known_at)
        assessment = judged.assess(day)
        people = tracker.worker_of(UUID(pid), known_at) if named else None
        found.append(
            {
                "program_id": pid,
                "as_of": day.isoformat(),
                "provider_id": item.provider_id,
                "worker_name": (people or {}).get("worker_name", ""),
                "claim_number": (people or {}).get("claim_number", ""),
                "admitted_on": assessment.admitted_on.isoformat()
                if assessment.admitted_on
                else None,
                "weeks_used": assessment.weeks_used,
                "max_weeks": judged.pack.limits.max_weeks,
                "total_hours": json_number(assessment.total_hours),
                "reimbursable_hours": json_number(assessment.reimbursable_hours),
                "violations": sum(1 for f in assessment.findings if f.severity == "violation"),
                "next": {"kind": item.kind, "due_on": item.due_on.isoformat(), "status": status},
                "items": len(listed),
            }
        )
    return sorted(found, key=SORTS[params["sort"]])


@router.get("/ui/worklist", response_class=HTMLResponse)
def worklist_page(
    request: Request,
    tracker: TrackerDep,
    as_of: str | None = None,
    due_within: str = "7",
    provider_id: str = "",
    status: str = "",
    kind: str = "",
    sort: str = "next_due",
) -> Response:
    """Programs with an obligation missed or due within `due_within` days, sortable."""
    who = admit(request, ROUTE)
    if not isinstance(who, Viewer):
        return who
    try:
        given = parse_as_of(as_of)
        if not due_within.isdigit() or int(due_within) > 3660:
            raise InvalidQuery("due_within is a whole number of days from 0 to 3660.")
        if sort not in SORTS or status not in ("", "open", "missed"):
            raise InvalidQuery("sort or status is not one this page offers.")
        params = {
            "as_of": given,
            "due_within": int(due_within),
            "provider_id": provider_id.strip()[:500],
            "status": status,
            "kind": kind,
            "sort": sort,
        }
        with store_errors():
            found = rows(request, tracker, who, params)
            record_read(request, who, "/ui/worklist", 200)
    except StoreUnavailable:
        return error_page(request, 503, "Store unavailable", UNAVAILABLE, who)
    except (TrackerError, OverflowError, ValueError) as error:
        if isinstance(error, TrackerError):
            return refusal_page(request, error, who)
        return error_page(request, 422, "Not a valid request", str(error), who)
    query = {
        "as_of": day_input(given) if given else "",
        "due_within": due_within,
        "provider_id": provider_id,
        "status": status,
        "kind": kind,
    }
    return page(
        request,
        "worklist.html",
        {
            "rows": found,
            "query": query,
            "sort": sort,
            "sorts": list(SORTS),
            "named": who.key is None or who.key.role is not Role.REGULATOR,
            "kinds": [
                "evaluation_documentation",
                "reevaluation",
                "staff_conference",
                "discharge_report",
                "coverage_end",
            ],
        },
        who=who,
    )
