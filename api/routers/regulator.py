"""The regulator's list: programs across providers, at a business date and a known-at instant.

`GET /v1/programs?status=&finding=&provider_id=&discharge_eligible=&as_of=&known_at=`
answers from the read model's indexes (`service.readmodel.projection`), never by
folding trails. Each item says what `GET /v1/programs/{id}/compliance` says
for the same two times: status, discharge eligibility and finding codes, and
the `as_of` it was judged at: the one given, or today in the program's time
zone (docs/domain.md R21). A program is listed from its referral's date on
(R12; `service.listing`).
Before answering, the route waits (briefly) for the projection to apply every
event recorded so far, so a client reads its own writes; if the projection
cannot catch up in time the answer is 503, never a silently stale list.
"""

from __future__ import annotations

import base64
import binascii
from datetime import UTC, datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from api import examples
from api.deps import AsOf, Cursor, KnownAt, TrackerDep, caught_up
from api.openapi import ok, problem_responses
from api.responses import ProgramList
from domain.errors import InvalidCursor
from domain.program import format_instant
from service import listing
from service.business_time import ProgramDates
from service.readmodel.view import ProgramQuery, ReadModelRecorder

router = APIRouter(prefix="/v1", tags=["regulator"])
DEFAULT_LIMIT = 50
MAX_LIMIT = 500


def encode_cursor(program_id: str) -> str:
    """An opaque page cursor: the last program_id of the page, base64url."""
    return base64.urlsafe_b64encode(program_id.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> str:
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        return str(UUID(text))
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise InvalidCursor(
            "cursor is not one this service handed out; use next_cursor of the previous page.",
            [{"loc": ["query", "cursor"], "msg": "not a valid cursor"}],
        ) from None


@router.get(
    "/programs",
    operation_id="list_programs",
    response_model=None,
    responses=ok(ProgramList, example=examples.PROGRAMS) | problem_responses(422, 503),
)
def list_programs(
    request: Request,
    tracker: TrackerDep,
    as_of: AsOf = None,
    known_at: KnownAt = None,
    status: Annotated[
        Literal["referred", "admitted", "discharged", "withdrawn"] | None, Query()
    ] = None,
    finding: Annotated[
        str | None,
        Query(max_length=100, pattern=r"^[a-z][a-z0-9_]*$", description="a finding code"),
    ] = None,
    provider_id: Annotated[str | None, Query(max_length=500)] = None,
    discharge_eligible: Annotated[bool | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Any:
    """Which programs match, as of a business date, as known at an instant (default:
    now)? With no `as_of`, each program is judged at today in its own time zone; each
    item says its `as_of`. A program is listed from its referral's date on. Paged by
    program_id: pass `next_cursor` as `cursor`."""
    view: ReadModelRecorder = request.app.state.read_model
    instant = known_at or tracker.clock()
    now = datetime.now(UTC)
    if (behind := caught_up(request, tracker)) is not None:
        return behind
    query = ProgramQuery(
        as_of=as_of or now.date(),
        known_at=instant,
        status=status,
        finding=finding or None,
        provider_id=provider_id,
        discharge_eligible=discharge_eligible,
        after=decode_cursor(cursor) if cursor else None,
        limit=limit,
    )
    found, more = listing.programs(view, ProgramDates(tracker, instant, now), query, as_of)
    last = found[-1][0].program_id if found else None
    return JSONResponse(
        {
            "programs": [{**item.as_dict(), "as_of": day.isoformat()} for item, day in found],
            "next_cursor": encode_cursor(last) if more and last else None,
            # The date asked for; with none, today in UTC (each item says its own).
            "as_of": query.as_of.isoformat(),
            "known_at": format_instant(instant),
            "limit": limit,
        }
    )
