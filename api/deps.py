"""Typed dependencies: routes receive the tracker, they never build it."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import Depends, Query, Request
from starlette.responses import Response

from api.problems import problem
from domain.errors import InvalidQuery, ProgramNotFound
from domain.events import EARLIEST
from service.application import Tracker
from service.readmodel import partitions
from service.readmodel.view import ReadModelRecorder
from service.security import Role


def get_tracker(request: Request) -> Tracker:
    tracker: Tracker = request.app.state.tracker
    return tracker


TrackerDep = Annotated[Tracker, Depends(get_tracker)]


def program_uuid(program_id: str) -> UUID:
    try:
        return UUID(program_id)
    except ValueError:
        raise ProgramNotFound(f"Program {program_id!r} does not exist (ids are UUIDs).") from None


# Documented formats; an empty value means "not given" (a blank picker on the pages).
INSTANT: dict[str, Any] = {"anyOf": [{"type": "string", "format": "date-time"}, {"const": ""}]}
DAY: dict[str, Any] = {"anyOf": [{"type": "string", "format": "date"}, {"const": ""}]}


def parse_known_at(
    known_at: Annotated[
        str | None,
        Query(description="RFC 3339 instant with offset", json_schema_extra=INSTANT),
    ] = None,
) -> datetime | None:
    if known_at is None or known_at == "":
        return None
    # A '+' left unencoded in a query string arrives as a space.
    text = known_at.strip().replace(" ", "+")
    try:
        instant = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
        # The stores compare instants in UTC; an instant at the very edge of the
        # calendar (0001-01-01T00:00+05:00) has no UTC form and must not be a 500.
        return (instant if instant.tzinfo else instant.replace(tzinfo=UTC)).astimezone(UTC)
    except (ValueError, OverflowError):
        raise InvalidQuery(
            f"known_at {known_at!r} is not an RFC 3339 instant, e.g. 2026-03-15T12:00:00Z.",
            [{"loc": ["query", "known_at"], "msg": "not an RFC 3339 instant"}],
        ) from None


# The business dates a read may ask about: no fact is dated before 1900, and
# nothing the policy counts (weeks, working days, deadlines) runs for centuries.
AS_OF_RANGE = (EARLIEST, date(2999, 12, 31))


def parse_as_of(
    as_of: Annotated[
        str | None,
        Query(
            description="business date YYYY-MM-DD, from 1900-01-01 to 2999-12-31",
            json_schema_extra=DAY,
        ),
    ] = None,
) -> date | None:
    if as_of is None or as_of == "":
        return None
    try:
        if len(as_of) != 10:
            raise ValueError
        day = date.fromisoformat(as_of)
    except ValueError:
        raise InvalidQuery(
            f"as_of {as_of!r} is not a date written YYYY-MM-DD.",
            [{"loc": ["query", "as_of"], "msg": "not a YYYY-MM-DD date"}],
        ) from None
    first, last = AS_OF_RANGE
    if not first <= day <= last:
        raise InvalidQuery(
            f"as_of {as_of} is out of range: business dates run from {first} to {last}.",
            [{"loc": ["query", "as_of"], "msg": f"must be from {first} to {last}"}],
        )
    return day


KnownAt = Annotated[datetime | None, Depends(parse_known_at)]
AsOf = Annotated[date | None, Depends(parse_as_of)]
# A page cursor as this service hands them out (base64url, unpadded); one that fits
# but was never handed out is still refused (422, InvalidCursor).
Cursor = Annotated[str | None, Query(max_length=200, pattern=r"^[A-Za-z0-9_-]+$")]
ProgramId = Annotated[UUID, Depends(program_uuid)]


def is_regulator(request: Request) -> bool:
    """Whether the caller holds a regulator key: its answers are de-identified."""
    key = getattr(request.state, "api_key", None)
    return key is not None and key.role is Role.REGULATOR


Deidentified = Annotated[bool, Depends(is_regulator)]


def caught_up(request: Request, tracker: Tracker) -> Response | None:
    """Wait (briefly) for the read model (every partition of it) to apply every event
    recorded so far, as the regulator's list does; a 503 problem when it cannot."""
    view: ReadModelRecorder = request.app.state.read_model
    wait: float = request.app.state.read_model_wait
    latest = tracker.recorder.max_notification_id()
    try:
        partitions.wait(view, tracker.name, latest, timeout=wait)
    except TimeoutError:
        position = partitions.position(view, tracker.name)
        return problem(
            503,
            "Read model catching up",
            f"The read model has applied events up to {position} of {latest}; it did not catch "
            f"up within {wait:g} s. Retry shortly (is a projection running? see `wht project`).",
            headers={"Retry-After": "2"},
            position=position,
            latest=latest,
        )
    return None
