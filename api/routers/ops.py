"""Operations: liveness, readiness and metrics (docs/reference/http.md; docs/operations.md)."""

from __future__ import annotations

import logging

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, RedirectResponse
from starlette.responses import Response

from api import examples
from api.deps import TrackerDep
from api.metrics import CONTENT_TYPE
from api.openapi import ok, problem_responses
from api.problems import problem
from api.responses import Health, Ready
from service.readmodel import partitions

log = logging.getLogger("wht")
router = APIRouter(tags=["ops"])


@router.get("/", include_in_schema=False)
def home() -> RedirectResponse:
    """The pages for people start at /ui."""
    return RedirectResponse("/ui", status_code=307)


@router.get("/healthz", response_model=None, responses=ok(Health, example={"status": "ok"}))
def healthz() -> dict[str, str]:
    """Is the process alive? (It answers without touching the store.)"""
    return {"status": "ok"}


@router.get(
    "/readyz",
    response_model=None,
    responses=ok(Ready, example=examples.READY) | problem_responses(503),
)
def readyz(request: Request, tracker: TrackerDep) -> Response:
    """Should a load balancer send traffic here? 200 when the store answers a query and the
    regulator's read model is within `WHT_READY_MAX_LAG` events of the store, and this
    server's projection (if it runs one) is not stuck failing; 503 otherwise."""
    limit: int = request.app.state.settings.ready_max_lag
    try:
        latest = tracker.recorder.max_notification_id() or 0
        position = partitions.position(request.app.state.read_model, tracker.name)
    except Exception as error:  # whatever the store raised, the answer is "not ready"
        log.warning("readyz: the store did not answer: %s", error)
        return problem(
            503,
            "Not ready",
            "The store did not answer a query; this server cannot serve requests just now.",
            headers={"Retry-After": "5"},
            reason="store_unavailable",
        )
    lag = max(latest - position, 0)
    projection = getattr(request.app.state, "projection", None)
    stuck = projection.failing() if projection is not None else None
    if stuck is not None:
        return problem(
            503,
            "Not ready",
            f"The read model's projection has failed {stuck.failures} times in a row at "
            f"event {position} of {latest}: {stuck.last_error}. The server's log has each "
            "failure; docs/operations.md says what to do.",
            headers={"Retry-After": "5"},
            reason="projector_failing",
            position=position,
            latest=latest,
            lag=lag,
        )
    if lag > limit:
        return problem(
            503,
            "Not ready",
            f"The read model is {lag} events behind the store (limit {limit}); is a "
            "projection running (`wht serve` without --no-projection, or `wht project`)?",
            headers={"Retry-After": "5"},
            reason="projector_lagging",
            position=position,
            latest=latest,
            lag=lag,
        )
    return JSONResponse(
        {
            "status": "ready",
            "store_position": latest,
            "projector_position": position,
            "projector_lag": lag,
            "max_lag": limit,
        }
    )


@router.get(
    "/metrics",
    response_class=Response,
    responses={
        200: {
            "description": "Prometheus text exposition format 0.0.4",
            "content": {CONTENT_TYPE.split(";")[0]: {"schema": {"type": "string"}}},
        }
    },
)
def metrics(request: Request) -> Response:
    """Prometheus text format: requests by route and status with latencies, events ingested
    by type, findings raised by code, the projector's position and lag."""
    return Response(request.app.state.metrics.exposition(), media_type=CONTENT_TYPE)
