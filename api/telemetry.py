"""Each request's id, metrics and access-log line (`wht serve --log-format json`).

`Telemetry` is the outermost ASGI middleware: it gives every request an id (the
client's `X-Request-Id` when it is a plain token, otherwise a new one), answers it
in the `X-Request-Id` header, keeps it in a context variable for every log line
written while the request runs, counts the answer by route template and status,
and writes one access line when the answer has left.
"""

from __future__ import annotations

import json
import logging
import re
import time
import traceback
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

from starlette.datastructures import MutableHeaders
from starlette.routing import compile_path
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.metrics import UNMATCHED, Metrics

REQUEST_ID: ContextVar[str | None] = ContextVar("wht_request_id", default=None)
ACCEPTED_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
access_log = logging.getLogger("wht.access")


def route_template(app: Any, scope: Scope, known: list[tuple[re.Pattern[str], str]]) -> str:
    """The template of the route a request reached, so that labels never hold a raw path.
    A request answered before routing (the guard's 401/403, a 413) is matched against the
    documented paths, as the guard matches them; anything else is `unmatched`."""
    route = scope.get("route")
    if route is not None and isinstance(getattr(route, "path", None), str):
        return str(route.path)
    if not known:
        paths = app.openapi().get("paths", {})
        known.extend(
            sorted(((compile_path(t)[0], t) for t in paths), key=lambda r: r[1].count("{"))
        )
    for regex, template in known:
        if regex.match(scope["path"]):
            return template
    return UNMATCHED


class Telemetry:
    def __init__(self, app: ASGIApp, metrics: Metrics, routes: Any) -> None:
        self.app = app
        self.metrics = metrics
        self.routes = routes  # the FastAPI app, whose routes name the templates
        self._known: list[tuple[re.Pattern[str], str]] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = dict(scope.get("headers") or []).get(b"x-request-id", b"").decode("latin-1")
        request_id = given if ACCEPTED_ID.match(given) else uuid4().hex
        token = REQUEST_ID.set(request_id)
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                MutableHeaders(scope=message).append("X-Request-Id", request_id)
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            seconds = time.perf_counter() - started
            route = route_template(self.routes, scope, self._known)
            self.metrics.observe(scope["method"], route, status, seconds)
            access_log.info(
                "%s %s %s -> %d in %.1f ms",
                scope.get("client", ("-",))[0] if scope.get("client") else "-",
                scope["method"],
                scope["path"],
                status,
                seconds * 1000,
                extra={
                    "method": scope["method"],
                    "path": scope["path"],
                    "route": route,
                    "status": status,
                    "duration_ms": round(seconds * 1000, 3),
                },
            )
            REQUEST_ID.reset(token)


class RequestIdFilter(logging.Filter):
    """Puts the current request's id (or "-") on every record, for the text format."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = REQUEST_ID.get() or "-"
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, the request id, and the
    access line's fields."""

    FIELDS = ("method", "path", "route", "status", "duration_ms")

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": REQUEST_ID.get(),
        }
        for name in self.FIELDS:
            if name in record.__dict__:
                line[name] = record.__dict__[name]
        if record.exc_info:
            line["exception"] = "".join(traceback.format_exception(*record.exc_info))
        return json.dumps(line, ensure_ascii=False, default=str)


def log_config(log_format: str) -> dict[str, Any]:
    """The logging configuration `wht serve` hands uvicorn: `text` (uvicorn's own lines and
    ours) or `json` (every line, uvicorn's too, one JSON object with its request id)."""
    if log_format == "json":
        formatter: dict[str, Any] = {"()": JsonFormatter}
    else:
        formatter = {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"main": formatter},
        "filters": {"request_id": {"()": RequestIdFilter}},
        "handlers": {
            "main": {
                "class": "logging.StreamHandler",
                "formatter": "main",
                "filters": ["request_id"],
                "stream": "ext://sys.stderr",
            }
        },
        "loggers": {
            "uvicorn": {"handlers": ["main"], "level": "INFO", "propagate": False},
            "uvicorn.error": {"level": "INFO"},
            # Our access line carries the route and request id; uvicorn's would repeat it.
            "uvicorn.access": {"handlers": [], "level": "WARNING", "propagate": False},
            "wht": {"handlers": ["main"], "level": "INFO", "propagate": False},
        },
    }
