"""Delivering the outbox: POST each due alert, sign it, record the attempt, retry.

At least once: an alert leaves the outbox only when its receiver answered 2xx and that
answer is recorded; a process killed between the two sends it again, with the same
`delivery_id` and body. Anything but a 2xx (an error status, a refused connection, a
timeout, a redirect) is retried with exponential backoff (`RetryPolicy`: 1 s, 2 s,
4 s, ... capped at 60 s) until `retry_for` (24 hours by default) has passed since the
alert was made; then it is marked `failed`.
"""

from __future__ import annotations

import hashlib
import hmac
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any

from domain.program import format_instant
from service.application import Tracker
from service.notify.destinations import Destinations
from service.notify.store import DELIVERED, FAILED, PENDING, AlertStore, Due

SIGNATURE_HEADER = "Wht-Signature"
DAY = 24 * 60 * 60.0


@dataclass(frozen=True)
class RetryPolicy:
    """When to try again: `base` seconds after the first failure, doubling up to `cap`,
    for `retry_for` seconds after the alert was made; `timeout` per attempt."""

    base: float = 1.0
    cap: float = 60.0
    retry_for: float = DAY
    timeout: float = 10.0

    def delay(self, attempts: int) -> float:
        """Seconds to wait after the `attempts`-th failed attempt."""
        return float(min(self.base * 2 ** max(attempts - 1, 0), self.cap))


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """The `Wht-Signature` value: `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`."""
    mac = hmac.new(secret.encode("utf-8"), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    # A redirect is not an acknowledgement, and a POST must not become a GET elsewhere.
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_opener = urllib.request.build_opener(_NoRedirects)


def post(url: str, body: bytes, headers: dict[str, str], timeout: float) -> int:
    """POST and answer the status code; a connection failure raises OSError."""
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with _opener.open(request, timeout=timeout) as response:
            response.read(65536)
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)


class Sender:
    """Sends what the outbox holds due, one alert at a time."""

    def __init__(
        self,
        tracker: Tracker,
        store: AlertStore,
        policy: RetryPolicy,
        destinations: Destinations | None = None,
    ) -> None:
        self.tracker = tracker
        self.store = store
        self.policy = policy
        self.destinations = destinations if destinations is not None else Destinations()

    def send_due(self, limit: int = 50) -> int:
        """Attempt every delivery due now (at most `limit`); returns how many were tried."""
        due = self.store.due(time.time(), limit)
        for item in due:
            self.attempt(item)
        return len(due)

    def attempt(self, item: Due) -> str:
        body = item.body.encode("utf-8")
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "wht-alerts/1",
            SIGNATURE_HEADER: signature(item.secret, int(time.time()), body),
        }
        code: int | None = None
        error: str | None = None
        # Checked again before every attempt: what the host resolves to can change.
        refusal = self.destinations.refusal(item.url)
        if refusal is not None:
            error = f"destination refused, not sent: {refusal}"[:500]
        else:
            try:
                code = post(item.url, body, headers, self.policy.timeout)
                if not 200 <= code < 300:
                    error = f"HTTP {code}"
            except (OSError, ValueError) as exc:  # refused, reset, timed out, bad URL
                error = f"{type(exc).__name__}: {exc}"[:500]
        now = time.time()
        attempts = item.attempts + 1
        if error is None:
            status, next_attempt = DELIVERED, now
        elif now - item.created_epoch >= self.policy.retry_for:
            status, next_attempt = FAILED, now
        else:
            status, next_attempt = PENDING, now + self.policy.delay(attempts)
        self.store.record_attempt(
            item, format_instant(self.tracker.clock()), code, error, status, next_attempt
        )
        return status
