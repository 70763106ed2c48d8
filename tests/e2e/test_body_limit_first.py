"""A body declared over the limit is refused before anything reads it (issue 23,
item 8): for every role, a provider's key too, whose guard reads the body of an
event to check the program is its own. Called at the ASGI level with a body that
must never be asked for: reading it fails the test, not a clock."""

from __future__ import annotations

import asyncio
import json
from typing import Any
from uuid import uuid4

import pytest

from api.app import create_app
from api.limits import MAX_BODY_BYTES
from service.application import Tracker


async def answer(app: Any, path: str, token: str) -> tuple[int, dict[str, Any]]:
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        raise AssertionError("the body was read, though its declared length is over the limit")

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [
            (b"host", b"127.0.0.1"),
            (b"content-type", b"application/json"),
            (b"content-length", str(2 * MAX_BODY_BYTES).encode()),
            (b"authorization", f"Bearer {token}".encode()),
        ],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
        "state": {},
    }
    await app(scope, receive, send)
    start = next(m for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return start["status"], json.loads(body)


@pytest.mark.parametrize("role", ["provider", "admin"])
@pytest.mark.parametrize("path", ["/v1/programs/{pid}/events", "/v1/events"])
def test_a_body_declared_over_the_limit_is_refused_unread(
    tracker: Tracker, role: str, path: str
) -> None:
    app = create_app(tracker, projection=False)
    _, token = app.state.security.add_key(role, "clinic-north" if role == "provider" else None)
    status, problem = asyncio.run(answer(app, path.format(pid=uuid4()), token))
    assert status == 413
    assert problem["status"] == 413
