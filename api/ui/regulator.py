"""The regulator's page: programs across providers, filtered and paged, and as CSV.

Each page of the list is what `GET /v1/programs` answers for the same filters
and times: the page calls that route's own function (`api.routers.regulator.
list_programs`) with its documented query parameters, so the two can never
disagree (same read model, same cursors, same wait for the projection).
"""

from __future__ import annotations

import io
import json
from dataclasses import asdict, dataclass
from typing import Any
from urllib.parse import urlencode

from defusedcsv import csv
from fastapi import APIRouter, Request
from starlette.responses import HTMLResponse, Response

from api.deps import TrackerDep, parse_as_of, parse_known_at
from api.routers import regulator as json_list
from api.ui.pages import UNAVAILABLE, refusal_page
from api.ui.render import SECURITY_HEADERS, day_input, error_page, local_input, page
from api.ui.session import Viewer, admit, record_read
from domain.errors import InvalidQuery, StoreUnavailable, TrackerError
from domain.program import format_instant
from service.application import Tracker
from service.storage import store_errors

router = APIRouter(include_in_schema=False)
LIST = "/v1/programs"
MAX_LIMIT: int = getattr(json_list, "MAX_LIMIT", 500)
STATUSES = ("referred", "admitted", "discharged", "withdrawn")
# docs/domain.md's finding codes (stable API), for the filter's choices.
FINDING_CODES = [
    "referral_incomplete",
    "admission_criteria_unmet",
    "consider_work_conditioning",
    "region_not_covered",
    "evaluation_incomplete",
    "evaluator_not_qualified",
    "evaluation_documentation_late",
    "daily_documentation_missing",
    "reevaluation_overdue",
    "staff_conference_overdue",
    "below_typical_frequency",
    "unlicensed_provider",
    "daily_hours_over_cap",
    "weekly_days_over_cap",
    "beyond_max_weeks",
    "ancillary_time_over_limit",
    "session_under_two_hours",
    "non_compliance",
    "discharge_reason_unsupported",
    "report_incomplete",
    "repeat_program_without_review",
    "session_outside_program",
    "policy_not_in_force",
]
PAGE_SIZES = (10, 25, 50, 100)
CSV_COLUMNS = [
    "program_id",
    "provider_id",
    "status",
    "discharge_eligible",
    "findings",
    "as_of",
    "known_at",
]


class ListRefused(Exception):
    """The JSON route answered a problem (503 catching up, 422 bad cursor...)."""

    def __init__(self, status: int, title: str, detail: str) -> None:
        super().__init__(detail)
        self.status, self.title, self.detail = status, title, detail


@dataclass(frozen=True)
class Filters:
    """The list's filters as the form sends them (empty: any)."""

    status: str = ""
    finding: str = ""
    provider_id: str = ""
    discharge_eligible: str = ""
    as_of: str = ""
    known_at: str = ""

    def arguments(self, tracker: Tracker) -> dict[str, Any]:
        """The JSON route's arguments, checked as its query validation would."""
        if self.status and self.status not in STATUSES:
            raise InvalidQuery(f"status {self.status!r} is not one of {', '.join(STATUSES)}.")
        if self.discharge_eligible not in ("", "true", "false"):
            raise InvalidQuery("discharge_eligible is true, false or empty.")
        if len(self.finding) > 100 or len(self.provider_id) > 500:
            raise InvalidQuery("A finding code or provider id that long is not one we know.")
        return {
            # known_at is fixed here, so that every page and the CSV see one instant. With
            # no as_of, each program is listed at today in its own time zone (R21).
            "as_of": parse_as_of(self.as_of),
            "known_at": parse_known_at(self.known_at) or tracker.clock(),
            "status": self.status or None,
            "finding": self.finding or None,
            "provider_id": self.provider_id or None,
            "discharge_eligible": None
            if not self.discharge_eligible
            else self.discharge_eligible == "true",
        }

    def encoded(self, **extra: Any) -> str:
        values = {k: v for k, v in {**asdict(self), **extra}.items() if v not in ("", None)}
        return urlencode(values)


def filters_of(request: Request) -> Filters:
    params = request.query_params
    return Filters(**{k: params.get(k, "").strip() for k in Filters.__dataclass_fields__})


def fetch(
    request: Request, tracker: Tracker, arguments: dict[str, Any], limit: int, cursor: str | None
) -> dict[str, Any]:
    """One page as `GET /v1/programs` answers it: {"programs", "next_cursor", ...}."""
    answer = json_list.list_programs(
        request=request, tracker=tracker, limit=limit, cursor=cursor, **arguments
    )
    body: dict[str, Any] = json.loads(bytes(answer.body))
    if answer.status_code != 200:
        raise ListRefused(answer.status_code, body.get("title", "Refused"), body.get("detail", ""))
    return body


def refused(request: Request, who: Viewer, error: Exception, endpoint: str) -> Response:
    """The page for a refusal, logged as a read like any other answer."""
    if isinstance(error, StoreUnavailable):
        return error_page(request, 503, "Store unavailable", UNAVAILABLE, who)
    if isinstance(error, ListRefused):
        response = error_page(request, error.status, error.title, error.detail, who)
    elif isinstance(error, TrackerError):
        response = refusal_page(request, error, who)
    else:  # FAILURES holds nothing else
        raise error
    try:
        record_read(request, who, endpoint, response.status_code)
    except StoreUnavailable:
        return error_page(request, 503, "Store unavailable", UNAVAILABLE, who)
    return response


FAILURES = (TrackerError, ListRefused)


@router.get("/ui/programs", response_class=HTMLResponse)
def programs_page(
    request: Request,
    tracker: TrackerDep,
    limit: str = "25",
    cursor: str | None = None,
    page_number: int = 1,
) -> Response:
    """Which programs match, as of a date, as known at an instant? 25 to a page."""
    who = admit(request, LIST)
    if not isinstance(who, Viewer):
        return who
    filters = filters_of(request)
    try:
        size = int(limit) if limit.isdigit() else 0
        if not 1 <= size <= MAX_LIMIT:
            raise InvalidQuery(f"limit is a whole number from 1 to {MAX_LIMIT}.")
        with store_errors():
            arguments = filters.arguments(tracker)
            found = fetch(request, tracker, arguments, size, cursor or None)
            record_read(request, who, "/ui/programs", 200)
    except FAILURES as error:
        return refused(request, who, error, "/ui/programs")
    number = max(page_number, 1)
    following = found.get("next_cursor")
    return page(
        request,
        "programs.html",
        {
            "filters": filters,
            "programs": found["programs"],
            "limit": size,
            "page_sizes": sorted({*PAGE_SIZES, size}),
            "page_number": number,
            "next_link": filters.encoded(limit=size, cursor=following, page_number=number + 1)
            if following
            else None,
            "first_link": filters.encoded(limit=size) if cursor else None,
            "csv_link": filters.encoded(),
            "statuses": STATUSES,
            "codes": FINDING_CODES,
            "as_of_text": arguments["as_of"].isoformat()
            if arguments["as_of"]
            else "today (each program's own date)",
            "known_at_text": format_instant(arguments["known_at"]),
            "as_of_value": filters.as_of
            or (day_input(arguments["as_of"]) if arguments["as_of"] else ""),
            "known_at_value": filters.known_at and local_input(arguments["known_at"]),
        },
        who=who,
    )


def csv_cell(value: str) -> str:
    # A provider id is client text: never let a spreadsheet run it as a formula.
    return f"'{value}" if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


@router.get("/ui/programs.csv")
def programs_csv(request: Request, tracker: TrackerDep) -> Response:
    """Every program the filters match (all pages), one row each."""
    who = admit(request, LIST)
    if not isinstance(who, Viewer):
        return who
    rows: list[list[str]] = []
    try:
        with store_errors():
            arguments = filters_of(request).arguments(tracker)
            as_of = arguments["as_of"].isoformat() if arguments["as_of"] else "today"
            known_at = format_instant(arguments["known_at"])
            cursor = None
            while True:
                found = fetch(request, tracker, arguments, MAX_LIMIT, cursor)
                rows += [
                    [
                        p["program_id"],
                        csv_cell(p["provider_id"]),
                        p["status"],
                        "true" if p["discharge_eligible"] else "false",
                        ";".join(p["findings"]),
                        p["as_of"],
                        known_at,
                    ]
                    for p in found["programs"]
                ]
                cursor = found.get("next_cursor")
                if not cursor:
                    break
            record_read(request, who, "/ui/programs.csv", 200)
    except FAILURES as error:
        return refused(request, who, error, "/ui/programs.csv")
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    writer.writerows(rows)
    disposition = f'attachment; filename="wht-programs-as-of-{as_of}.csv"'
    return Response(
        out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={**SECURITY_HEADERS, "Content-Disposition": disposition},
    )
