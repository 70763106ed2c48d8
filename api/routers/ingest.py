"""Ingest: one event per program, or a batch across programs (docs/reference/http.md)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import ValidationError

from api import examples
from api.deps import TrackerDep
from api.openapi import WRITE_PROBLEMS, ok, request_body
from api.responses import BatchReceipt, Receipt
from api.schemas import BatchIn, BatchItemIn, EventIn
from api.settings import Settings
from domain.errors import BatchRejected, InvalidEvent
from domain.intake import NewEvent, parse_event
from service.application import Tracker
from service.readmodel.runner import ReadModelRunner
from service.readmodel.scaleout import PartitionsRunner
from service.receipts import visible_others
from service.security import Role

router = APIRouter(prefix="/v1", tags=["ingest"])


def _keep_pace(request: Request, tracker: Tracker) -> None:
    # With the projection in this process, answer once it is within WHT_INGEST_MAX_LAG
    # events of the store (or WHT_INGEST_LAG_WAIT has passed): it shares the process
    # with every request thread, and would otherwise fall behind a fast client.
    runner: ReadModelRunner | PartitionsRunner | None = request.app.state.projection
    settings: Settings = request.app.state.settings
    if runner is None or runner.state != "active" or settings.ingest_lag_wait <= 0:
        return
    latest = tracker.recorder.max_notification_id() or 0
    runner.keep_pace(latest, settings.ingest_max_lag, settings.ingest_lag_wait)


def _shown(request: Request, body: dict[str, Any]) -> dict[str, Any]:
    # A provider key sees, under `others`, only its own provider's programs (R13).
    key = getattr(request.state, "api_key", None)
    provider = key.provider_id if key is not None and key.role is Role.PROVIDER else None
    return visible_others(body, provider)


def _new_event(item: EventIn, loc: list[str | int]) -> NewEvent:
    return parse_event(
        item.event_id, item.type, item.occurred_on, item.data, item.expected_version, loc
    )


@router.post(
    "/programs/{program_id}/events",
    status_code=201,
    operation_id="record_event",
    response_model=None,
    openapi_extra=request_body("EventRequest", examples.SESSION),
    responses=ok(Receipt, 201, "Recorded", examples.RECEIPT)
    | ok(Receipt, 200, "A repeat of an event_id already recorded: nothing stored")
    | WRITE_PROBLEMS,
)
def post_event(
    program_id: str, body: EventIn, tracker: TrackerDep, request: Request
) -> JSONResponse:
    """Record one event of a program. 201 new, 200 a repeat of the same event_id."""
    try:
        pid = UUID(program_id)
    except ValueError:
        raise InvalidEvent(
            f"program_id {program_id!r} is not a UUID.",
            [{"loc": ["path", "program_id"], "msg": "must be a UUID"}],
        ) from None
    receipt = tracker.ingest(pid, _new_event(body, ["body"]))
    _keep_pace(request, tracker)
    request.app.state.metrics.ingested([(body.type, receipt.status, receipt.body)])
    return JSONResponse(_shown(request, receipt.body), status_code=receipt.status)


@router.post(
    "/events",
    status_code=201,
    operation_id="record_batch",
    response_model=None,
    openapi_extra=request_body(
        "BatchRequest", {"events": [{"program_id": examples.PROGRAM, **examples.SESSION}]}
    ),
    responses=ok(
        BatchReceipt,
        201,
        "Every event recorded (or a repeat)",
        {"results": [{"status": 201, **examples.RECEIPT}]},
    )
    | WRITE_PROBLEMS,
)
def post_batch(body: BatchIn, tracker: TrackerDep, request: Request) -> JSONResponse:
    """Record up to 1,000 events across programs, all or nothing, in one transaction."""
    items: list[tuple[UUID, NewEvent]] = []
    failures: list[dict[str, Any]] = []
    for index, raw in enumerate(body.events):
        loc: list[str | int] = ["body", "events", index]
        try:
            item = BatchItemIn.model_validate(raw)
            items.append((item.program_id, _new_event(item, loc)))
        except ValidationError as exc:
            errors = [{"loc": [*loc, *e["loc"]], "msg": e["msg"]} for e in exc.errors()]
            failures.append({"index": index, "error": InvalidEvent("Not a valid event.", errors)})
        except InvalidEvent as exc:
            failures.append({"index": index, "error": exc})
    if failures:
        raise BatchRejected(
            f"{len(failures)} of {len(body.events)} events are not valid; nothing was stored.",
            failures,
            "invalid",
        )
    receipts = tracker.ingest_batch(items)
    _keep_pace(request, tracker)
    request.app.state.metrics.ingested(
        (new.type, r.status, r.body) for (_, new), r in zip(items, receipts, strict=True)
    )
    return JSONResponse(
        {"results": [{"status": r.status, **_shown(request, r.body)} for r in receipts]},
        status_code=201,
    )
