"""A real webhook receiver for the alert tests: a tiny http.server on 127.0.0.1 in a
thread, which keeps every request it was sent and checks its signature as docs/alerts.md
tells receivers to (written here from the contract, not with the tracker's own code)."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from service.notify import Destinations

# Receivers listen on 127.0.0.1: subscriptions and notifiers made in-process name it,
# as an operator names a receiver inside its network (WHT_WEBHOOK_ALLOW_HOSTS; the
# test suite sets that for the servers it starts, in tests/conftest.py).
LOCAL = Destinations.allowing("127.0.0.1")


def signed_correctly(secret: str, header: str, body: bytes) -> bool:
    """`Wht-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`."""
    parts = dict(p.split("=", 1) for p in header.split(",") if "=" in p)
    if "t" not in parts or "v1" not in parts:
        return False
    expected = hmac.new(
        secret.encode(), parts["t"].encode() + b"." + body, hashlib.sha256
    ).hexdigest()
    return hmac.compare_digest(expected, parts["v1"]) and abs(time.time() - int(parts["t"])) < 300


@dataclass(frozen=True)
class Received:
    path: str
    signature: str
    body: bytes
    valid: bool

    @property
    def alert(self) -> dict[str, Any]:
        parsed: dict[str, Any] = json.loads(self.body)
        return parsed


class Receiver:
    """Listens on a port until `stop()`; `start()` again listens on the same port.
    `status` is what it answers (set 503 to refuse alerts while still up); `delay` is
    how long it takes to answer, after it has kept the request (a slow receiver)."""

    def __init__(self, secret: str, port: int = 0) -> None:
        self.secret = secret
        self.port = port
        self.status = 204
        self.delay = 0.0
        self.received: list[Received] = []
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/wht"

    def start(self) -> Receiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                signature = self.headers.get("Wht-Signature") or ""
                status = receiver.status
                if 200 <= status < 300:
                    with receiver._lock:
                        receiver.received.append(
                            Received(
                                self.path,
                                signature,
                                body,
                                signed_correctly(receiver.secret, signature, body),
                            )
                        )
                time.sleep(receiver.delay)
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.port = int(self._server.server_address[1])
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop listening: connections are refused until `start()`."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def alerts(self) -> list[Received]:
        with self._lock:
            return list(self.received)

    def wait_for(self, count: int, timeout: float) -> list[Received]:
        """The requests received, once there are at least `count` (or the time is up)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and len(self.alerts()) < count:
            time.sleep(0.05)
        return self.alerts()
