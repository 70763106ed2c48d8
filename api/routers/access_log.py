"""The access log: who read which program, when, and as of what (admin keys only)."""

from __future__ import annotations

from datetime import UTC
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel

from api import deps
from api.deps import TrackerDep, parse_known_at
from api.openapi import problem_responses
from domain.errors import InvalidQuery
from service.security import SecurityStore


class AccessEntry(BaseModel):
    seq: int
    at: str
    key_id: str
    role: str
    method: str
    endpoint: str
    path: str
    status: int
    program_id: str | None
    as_of: str | None
    known_at: str | None
    query: str
    prev_hash: str
    hash: str


class ChainCheck(BaseModel):
    ok: bool
    entries_checked: int
    head_hash: str
    first_bad_seq: int | None


class AccessLogPage(BaseModel):
    entries: list[AccessEntry]
    next_after: int | None
    chain: ChainCheck | None = None


router = APIRouter(prefix="/v1", tags=["security"])
INSTANT: dict[str, Any] = {"json_schema_extra": deps.INSTANT}


def _instant(name: str, text: str | None) -> str | None:
    try:
        parsed = parse_known_at(text)
    except InvalidQuery:
        raise InvalidQuery(
            f"{name} {text!r} is not an RFC 3339 instant, e.g. 2026-03-15T12:00:00Z.",
            [{"loc": ["query", name], "msg": "not an RFC 3339 instant"}],
        ) from None
    return parsed.astimezone(UTC).isoformat(timespec="microseconds") if parsed else None


@router.get("/access-log", operation_id="list_access_log", responses=problem_responses(422, 503))
def access_log(
    request: Request,
    tracker: TrackerDep,
    key_id: Annotated[str | None, Query(max_length=100)] = None,
    program_id: Annotated[str | None, Query(max_length=100)] = None,
    since: Annotated[str | None, Query(description="RFC 3339 instant", **INSTANT)] = None,
    until: Annotated[str | None, Query(description="RFC 3339 instant", **INSTANT)] = None,
    after: Annotated[int, Query(ge=0, le=2**62, description="seq cursor")] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    verify: Annotated[bool, Query(description="recompute the whole hash chain")] = False,
) -> AccessLogPage:
    """Every recorded read by a payer, auditor or regulator (key, endpoint, program, as_of,
    known_at, when), oldest first, hash-chained; page with `after` = the last `seq` seen."""
    store: SecurityStore | None = getattr(request.app.state, "security", None)
    if store is None:
        store = SecurityStore.of(tracker)
    since_at, until_at = _instant("since", since), _instant("until", until)
    entries = store.access_log(
        key_id=key_id,
        program_id=program_id,
        since=since_at,
        until=until_at,
        after=after,
        limit=limit,
    )
    chain = None
    if verify:
        report = store.verify_access_log()
        chain = ChainCheck(
            ok=report.ok,
            entries_checked=report.entries_checked,
            head_hash=report.head_hash,
            first_bad_seq=report.first_bad_seq,
        )
    return AccessLogPage(
        entries=[AccessEntry(**e) for e in entries],
        next_after=entries[-1]["seq"] if len(entries) == limit else None,
        chain=chain,
    )
