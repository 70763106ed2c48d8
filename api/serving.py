"""The HTTP server's own bounds against slow and idle clients (uvicorn's h11 protocol).

uvicorn closes an idle keep-alive connection, but waits for ever for a request
whose headers or body arrive a byte at a time: an outside run held 3,000 such
connections for 37 s, one still open at 75 s. This protocol adds:

- a deadline for a request's headers, from the first byte (or the connection);
- a deadline for its body, once the headers are in;
- a cap on open connections: past it a new connection is closed at once.

A client past a deadline is disconnected; nothing it sent was acted on (the
application sees a request only once its headers are in, and a body cut short
is never a complete event).
"""

from __future__ import annotations

import asyncio
from typing import Any

import h11
from uvicorn.config import Config
from uvicorn.protocols.http.h11_impl import H11Protocol
from uvicorn.server import ServerState

HEADER_SECONDS = 10.0
BODY_SECONDS = 30.0
MAX_CONNECTIONS = 1000


class BoundedH11Protocol(H11Protocol):
    """uvicorn's h11 protocol with header and body deadlines and a connection cap."""

    header_seconds = HEADER_SECONDS
    body_seconds = BODY_SECONDS
    max_connections = MAX_CONNECTIONS

    def __init__(
        self, config: Config, server_state: ServerState, app_state: dict[str, Any], **kw: Any
    ) -> None:
        super().__init__(config, server_state, app_state, **kw)
        self._deadline: asyncio.TimerHandle | None = None
        self._phase: str | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        if len(self.connections) > self.max_connections:
            transport.close()  # over the cap: no room for one more
            return
        self._arm("headers", self.header_seconds)

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._phase is None and self.conn.their_state is h11.IDLE:
            self._arm("headers", self.header_seconds)  # the next request on a kept connection
        super().data_received(data)
        state = self.conn.their_state
        if state is h11.SEND_BODY and self._phase != "body":
            self._arm("body", self.body_seconds)
        elif state is not h11.IDLE and state is not h11.SEND_BODY:
            self._disarm()  # the request is in: the application has it

    def _arm(self, phase: str, seconds: float) -> None:
        self._disarm()
        self._phase = phase
        self._deadline = self.loop.call_later(seconds, self._too_slow)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
        self._deadline, self._phase = None, None

    def _too_slow(self) -> None:
        self._deadline, self._phase = None, None
        if not self.transport.is_closing():
            self.transport.close()


def bounded_protocol(
    header_seconds: float, body_seconds: float, max_connections: int
) -> type[BoundedH11Protocol]:
    """The protocol class with these bounds (uvicorn takes a class, not an instance)."""
    return type(
        "ConfiguredH11Protocol",
        (BoundedH11Protocol,),
        {
            "header_seconds": header_seconds,
            "body_seconds": body_seconds,
            "max_connections": max_connections,
        },
    )
