"""Errors as application/problem+json (RFC 9457): the only place mapping domain errors to HTTP."""

from __future__ import annotations

import logging
from typing import Any

from eventsourcing.persistence import IntegrityError, PersistenceError
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import compile_path

from domain.errors import (
    BatchRejected,
    Conflict,
    InvalidEvent,
    InvalidRequest,
    NotFound,
    StoreUnavailable,
    TrackerError,
)

log = logging.getLogger("wht")
PROBLEM = "application/problem+json"
STATUS: dict[type[TrackerError], int] = {
    NotFound: 404,
    Conflict: 409,
    InvalidEvent: 422,
    InvalidRequest: 422,
    StoreUnavailable: 503,
}
UNAVAILABLE = (
    "The event store cannot be reached or written "
    "just now; nothing was stored by this request. Retry shortly."
)


def problem_body(status: int, title: str, detail: str, **extra: Any) -> dict[str, Any]:
    """A problem's members; the answers made beneath the app (the body limit, the HTTP
    protocol) send it as they are."""
    return {
        "type": f"https://wht.example/problems/{status}",
        "title": title,
        "status": status,
        "detail": detail,
        **extra,
    }


def problem(
    status: int, title: str, detail: str, headers: dict[str, str] | None = None, **extra: Any
) -> JSONResponse:
    body = problem_body(status, title, detail, **extra)
    return JSONResponse(body, status_code=status, media_type=PROBLEM, headers=headers)


def status_of(error: TrackerError) -> int:
    for cls, status in STATUS.items():
        if isinstance(error, cls):
            return status
    return 400


def _loc(loc: Any) -> list[Any]:
    return [p for p in loc] if isinstance(loc, (list, tuple)) else [loc]


def _describe(error: TrackerError) -> dict[str, Any]:
    out: dict[str, Any] = {"status": status_of(error), "title": error.title, "detail": error.detail}
    if isinstance(error, (InvalidEvent, InvalidRequest)):
        out["errors"] = error.errors
    return out


def _allow(request: Request, error: StarletteHTTPException) -> dict[str, str] | None:
    """The exception's headers; for a 405, `Allow` names every method the path takes (each
    route names only its own, and one path may have a route per method)."""
    headers = dict(error.headers) if error.headers else {}
    if error.status_code == 405:
        methods = set(headers.get("Allow", "").replace(" ", "").split(",")) - {""}
        for template, operations in request.app.openapi().get("paths", {}).items():
            if compile_path(template)[0].match(request.url.path):
                methods.update(m.upper() for m in operations)
        headers["Allow"] = ", ".join(sorted(methods))
    return headers or None


def install(app: FastAPI) -> None:
    @app.exception_handler(TrackerError)
    async def tracker_error(_: Request, error: TrackerError) -> JSONResponse:
        if isinstance(error, BatchRejected):
            items = [{"index": f["index"], **_describe(f["error"])} for f in error.items]
            errors = [
                {"loc": ["body", "events", it["index"], *e["loc"][1:]], "msg": e["msg"]}
                for it in items
                for e in it.get("errors", [{"loc": ["body"], "msg": it["detail"]}])
            ]
            status = 422 if error.status_family == "invalid" else 409
            return problem(status, error.title, error.detail, items=items, errors=errors)
        extra: dict[str, Any] = {k: v for k, v in error.extra.items() if v is not None}
        if isinstance(error, (InvalidEvent, InvalidRequest)):
            extra["errors"] = error.errors
        return problem(status_of(error), error.title, error.detail, **extra)

    def unavailable(error: Exception) -> JSONResponse:
        log.warning("store unavailable: %s", error)
        return problem(503, "Store unavailable", UNAVAILABLE, headers={"Retry-After": "5"})

    @app.exception_handler(StoreUnavailable)
    async def store_unavailable(_: Request, error: StoreUnavailable) -> JSONResponse:
        return unavailable(error)

    @app.exception_handler(RequestValidationError)
    async def validation_error(_: Request, error: RequestValidationError) -> JSONResponse:
        errors = [
            {"loc": _loc(e.get("loc", [])), "msg": str(e.get("msg", ""))} for e in error.errors()
        ]
        where = ", ".join(".".join(str(p) for p in e["loc"]) for e in errors[:5])
        return problem(
            422, "Invalid request", f"The request is not valid at: {where}.", errors=errors
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, error: StarletteHTTPException) -> JSONResponse:
        titles = {404: "Not found", 405: "Method not allowed", 413: "Request too large"}
        # The exception's headers (a 405's Allow, say) are part of the answer.
        return problem(
            error.status_code,
            titles.get(error.status_code, "Error"),
            str(error.detail),
            headers=_allow(request, error),
        )

    # The library's own errors, from service code that does not yet raise StoreUnavailable
    # itself (the Tracker's commands and queries, the read model): see docs/architecture.md.
    @app.exception_handler(PersistenceError)
    async def persistence_error(_: Request, error: PersistenceError) -> JSONResponse:
        if isinstance(error, IntegrityError):  # a race the service could not settle
            return problem(409, "Conflict", "Another write got there first; read and resend.")
        return unavailable(error)

    @app.exception_handler(Exception)
    async def unexpected(_: Request, error: Exception) -> JSONResponse:
        log.exception("unexpected error")
        return problem(
            500,
            "Internal error",
            "The tracker failed unexpectedly; nothing was "
            "stored by this request. Please report it with the time of the request.",
        )
