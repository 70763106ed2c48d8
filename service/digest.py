"""Published digests: one hash over the whole store's history up to a position.

A program's own chain proves its trail is intact, but not that no program
was dropped or rewritten wholesale with fresh hashes. The digest covers the
application's notification log (every stored event of every program, in the
order the store recorded them): a payer who keeps `digest@position` can
later prove the store still holds exactly that history up to that position.

    h_0 = 64 zeros
    h_n = sha256("{h_(n-1)}|{notification id}|{originator id}|{version}|{topic}|{sha256(state)}")

(UTF-8, hex digests; the originator id as a hyphenated UUID.) Any change to
a stored row, a row deleted, inserted or moved, changes every digest from
that position on.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from eventsourcing.persistence import ApplicationRecorder, Notification

from domain.errors import InvalidQuery, NotFound

ALGORITHM = "wht-log-chain-sha256-v1"
DEFINITION = (
    "h_0 = '0'*64; h_n = sha256(f'{h_(n-1)}|{notification_id}|{originator_id}|"
    "{originator_version}|{topic}|{sha256(state).hexdigest()}'.encode()).hexdigest(), "
    "over the notification log in id order up to and including `position`"
)
PAGE = 500


@dataclass(frozen=True)
class Digest:
    position: int
    digest: str
    events: int

    def as_dict(self) -> dict[str, Any]:
        """The digest as GET /v1/digest answers it."""
        return {
            "position": self.position,
            "digest": self.digest,
            "algorithm": ALGORITHM,
            "definition": DEFINITION,
            "events": self.events,
            "token": f"{self.digest}@{self.position}",
        }


def link(previous: str, notification: Notification) -> str:
    """One step of the digest chain."""
    raw: object = notification.state
    if isinstance(raw, memoryview | bytearray):
        raw = bytes(raw)
    if not isinstance(raw, bytes):
        # A row rewritten with another SQL type (text, a number) is still hashed, and
        # never as the same bytes it replaced.
        raw = f"{type(raw).__name__}:{raw}".encode()
    state = hashlib.sha256(raw).hexdigest()
    text = (
        f"{previous}|{notification.id}|{str(notification.originator_id)}|"
        f"{notification.originator_version}|{notification.topic}|{state}"
    )
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def head_position(recorder: ApplicationRecorder) -> int:
    """The position of the latest stored event (0 for an empty store)."""
    return recorder.max_notification_id() or 0


def store_digest(recorder: ApplicationRecorder, position: int | None = None) -> Digest:
    """The digest of the store's history up to `position` (default: all of it)."""
    head = head_position(recorder)
    stop = head if position is None else position
    if stop < 0:
        raise InvalidQuery(
            "position must be 0 or more.",
            [{"loc": ["query", "position"], "msg": "must be 0 or more"}],
        )
    if stop > head:
        raise NotFound(
            f"The store's history reaches position {head}; there is no position {stop} yet."
        )
    digest = "0" * 64
    count = 0
    start = 1
    while stop > 0 and start <= stop:
        page = recorder.select_notifications(start, PAGE, stop=stop)
        if not page:
            break
        for notification in page:
            digest = link(digest, notification)
            count += 1
        start = page[-1].id + 1
    return Digest(stop, digest, count)


def parse_token(token: str) -> tuple[str, int]:
    """`HEX@POSITION` as published, split and checked."""
    digest, sep, position = token.strip().partition("@")
    digest = digest.lower()
    if not sep or len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
        raise ValueError("expected HEX@POSITION: a 64-digit hex digest, '@', a position")
    if not position.isdigit():
        raise ValueError("the position after '@' must be a whole number")
    return digest, int(position)


def check_digest(recorder: ApplicationRecorder, digest: str, position: int) -> tuple[bool, str]:
    """Whether the store still holds exactly the history `digest@position` names."""
    head = head_position(recorder)
    if position > head:
        return False, (
            f"the store's history reaches only position {head}, short of {position}: "
            "events were removed or this is another store"
        )
    actual = store_digest(recorder, position)
    if actual.digest != digest.lower():
        return False, (
            f"digest at position {position} is {actual.digest}, not {digest}: the "
            "history up to that position has changed"
        )
    return True, f"history up to position {position} ({actual.events} events) is unchanged"
