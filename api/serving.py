"""The HTTP server's own bounds against slow and idle clients (uvicorn's h11 protocol).

uvicorn closes an idle keep-alive connection, but waits for ever for a request
whose headers or body arrive a byte at a time: an outside run held 3,000 such
connections for 37 s, one still open at 75 s. This protocol adds:

- a deadline for a request's headers, from the first byte (or the connection);
- a deadline for its body, once the headers are in;
- a cap on open connections: past it a new connection is closed at once;
- a request h11 cannot take answered as problem+json: 414 when its request line is
  over the head limit (h11's, 16 KiB), 431 when its headers are, 400 otherwise
  (uvicorn answers all three with a plain-text 400).

A client past a deadline is disconnected; nothing it sent was acted on (the
application sees a request only once its headers are in, and a body cut short
is never a complete event).
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import h11
from uvicorn.config import Config
from uvicorn.protocols.http.h11_impl import H11Protocol
from uvicorn.server import ServerState

from api.problems import PROBLEM, problem_body

HEADER_SECONDS = 10.0
BODY_SECONDS = 30.0
MAX_CONNECTIONS = 1000
HEAD_BYTES = 16 * 1024  # a request's line and headers at most (h11's own default)
LINGER_SECONDS = 2.0  # reading what a refused client still sends, before closing


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
        self._head_limit = config.h11_max_incomplete_event_size or HEAD_BYTES
        self._head_bytes = 0  # of the request whose head is arriving
        self._line_ended = False  # whether its request line has ended
        self._draining = False  # refused: what still arrives is read and dropped

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
        if self._draining:
            return
        if self.conn.their_state is h11.IDLE:
            if self._phase is None:
                self._arm("headers", self.header_seconds)  # the next request on a kept one
            self._head_bytes += len(data)
            self._line_ended = self._line_ended or b"\n" in data
        super().data_received(data)
        if self._draining:
            return  # refused just now: the drain deadline closes the connection
        state = self.conn.their_state
        if state is not h11.IDLE:
            self._head_bytes, self._line_ended = 0, False
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

    def send_400_response(self, msg: str) -> None:
        too_long = self._head_bytes > self._head_limit
        if too_long and not self._line_ended:
            status, title = 414, "URI too long"
            detail = f"The request line is over {self._head_limit} bytes: send less in the query."
        elif too_long:
            status, title = 431, "Request header fields too large"
            detail = (
                f"The request's headers are over {self._head_limit} bytes: send fewer or "
                "shorter ones."
            )
        else:
            status, title, detail = 400, "Bad request", "The request is not valid HTTP/1.1."
        body = json.dumps(problem_body(status, title, detail)).encode()
        headers = [
            (b"content-type", PROBLEM.encode()),
            (b"content-length", str(len(body)).encode()),
            (b"connection", b"close"),
        ]
        for event in (
            h11.Response(status_code=status, headers=headers),
            h11.Data(data=body),
            h11.EndOfMessage(),
        ):
            self.transport.write(self.conn.send(event) or b"")
        # A lingering close: the client may still be sending what was refused, and
        # closing with it unread would reset the connection, the answer lost with it.
        self._draining = True
        if self.transport.can_write_eof():
            self.transport.write_eof()
        self._arm("drain", LINGER_SECONDS)

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
