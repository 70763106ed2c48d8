"""A request HTTP/1.1 cannot take is answered as problem+json by a real `wht serve`
(issue 23, item 8): 414 for a request line over the head limit (a 200 KB query
string reset the connection or got a plain-text 400), 431 for headers over it, 400
for what is not HTTP; and the server goes on answering."""

from __future__ import annotations

import contextlib
import json
import socket
import time
from pathlib import Path

import pytest

from api.serving import HEAD_BYTES
from tests.e2e.test_serve_process import serving

pytestmark = pytest.mark.slow

WAIT = 20.0  # seconds: far past anything the server needs to answer


def exchange(port: int, request: bytes) -> tuple[int, dict[str, str], bytes]:
    """Send `request` whole, then read until the server closes: status, headers, body."""
    with socket.create_connection(("127.0.0.1", port), timeout=WAIT) as sock:
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            sock.sendall(request)  # the server may answer before taking all of it
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
    head, _, body = received.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines)
    return int(status_line.split()[1]), {k.lower(): v for k, v in headers.items()}, body


CASES = {
    "a query string of 200 KB": (
        b"GET /v1/policies?q=" + b"a" * 200_000 + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
        414,
    ),
    "a header of 200 KB": (
        b"GET /v1/policies HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: " + b"a" * 200_000 + b"\r\n\r\n",
        431,
    ),
    "not HTTP": (b"HELLO THERE\r\n\r\n", 400),
}


def test_requests_http_cannot_take_are_problems(sqlite_url: str, tmp_path: Path) -> None:
    assert HEAD_BYTES < 200_000
    with serving(sqlite_url, tmp_path) as client:
        port = int(str(client.base_url).rsplit(":", 1)[1].strip("/"))
        for name, (request, expected) in CASES.items():
            status, headers, body = exchange(port, request)
            assert status == expected, (name, status, body)
            assert headers["content-type"] == "application/problem+json", name
            assert json.loads(body)["status"] == expected, name
        assert client.get("/v1/policies").status_code == 200  # still serving


def test_a_refused_client_that_goes_on_sending_is_closed(sqlite_url: str, tmp_path: Path) -> None:
    # The server reads what a refused client still sends only for a while (a lingering
    # close), then closes: a client that never stops is not held for ever.
    with serving(sqlite_url, tmp_path) as client:
        port = int(str(client.base_url).rsplit(":", 1)[1].strip("/"))
        with socket.create_connection(("127.0.0.1", port), timeout=WAIT) as sock:
            sock.sendall(b"HELLO THERE\r\n\r\n")
            assert sock.recv(65536).startswith(b"HTTP/1.1 400")
            deadline = time.monotonic() + WAIT
            closed = False
            while not closed and time.monotonic() < deadline:
                try:
                    sock.sendall(b"more of what was refused\r\n")
                    time.sleep(0.2)
                except (BrokenPipeError, ConnectionResetError):
                    closed = True
            assert closed, "the server kept a refused connection open"
