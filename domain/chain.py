"""A program's hash chain, checked link by link: pure, for the store and for bundles.

Each event carries `hash`, the SHA-256 of its canonical form, and that form
includes `prev_hash`, its predecessor's hash (`domain.program.event_hash`).
`chain_problems` walks the links in version order and names, at the version
where it shows, every gap in versions, undecodable row, content that no
longer matches its hash, and `prev_hash` that is not its predecessor's hash.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.utils import get_topic

from domain.program import GENESIS_HASH, Program, event_hash

FIRST_TOPIC = get_topic(Program.Referred)


@dataclass(frozen=True)
class Link:
    """One event as the chain sees it: exactly the fields its hash covers."""

    version: int
    type: str
    event_id: str
    occurred_on: str
    recorded_at: datetime
    data: dict[str, Any]
    prev_hash: str
    hash: str

    def computed_hash(self, program_id: UUID) -> str:
        """The hash this event should carry, recomputed from its content."""
        return event_hash(
            program_id,
            self.version,
            self.type,
            self.event_id,
            self.occurred_on,
            self.recorded_at,
            self.data,
            self.prev_hash,
        )


@dataclass(frozen=True)
class BadRow:
    """A stored row that could not be read as an event of the chain."""

    version: int
    reason: str


@dataclass(frozen=True)
class Problem:
    version: int
    reason: str


@dataclass(frozen=True)
class IntegrityReport:
    """The outcome of recomputing one program's chain."""

    program_id: UUID
    events_checked: int
    head_hash: str | None
    problems: tuple[Problem, ...]

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def first_bad_version(self) -> int | None:
        return min((p.version for p in self.problems), default=None)

    def as_dict(self) -> dict[str, Any]:
        """The report as docs/reference/http.md's integrity answer, with every problem found."""
        return {
            "program_id": str(self.program_id),
            "ok": self.ok,
            "events_checked": self.events_checked,
            "head_hash": self.head_hash,
            "first_bad_version": self.first_bad_version,
            "problems": [
                {"version": p.version, "reason": p.reason}
                for p in sorted(self.problems, key=lambda p: p.version)
            ],
        }


def chain_problems(
    program_id: UUID, links: Sequence[Link | BadRow], topics: Sequence[str] | None = None
) -> list[Problem]:
    """What is wrong with a chain of links, each problem at the version it shows at."""
    problems: list[Problem] = []
    expected = 1
    prev: str | None = GENESIS_HASH
    for index, link in enumerate(links):
        if link.version != expected:
            if link.version > expected:
                missing = (
                    f"versions {expected}-{link.version - 1} are"
                    if (link.version - 1 > expected)
                    else f"version {expected} is"
                )
                problems.append(Problem(expected, f"{missing} missing (deleted?)"))
            else:
                problems.append(Problem(link.version, "version out of order"))
            prev = None  # the predecessor is not the one the chain expects
        expected = link.version + 1
        if isinstance(link, BadRow):
            problems.append(Problem(link.version, link.reason))
            prev = None
            continue
        if topics is not None and (topics[index] == FIRST_TOPIC) != (link.version == 1):
            problems.append(Problem(link.version, "only the first event may open the trail"))
        if prev is not None and link.prev_hash != prev:
            problems.append(
                Problem(
                    link.version,
                    "prev_hash does not match the hash of the event before it (chain broken)",
                )
            )
        if link.computed_hash(program_id) != link.hash:
            problems.append(
                Problem(link.version, "content does not match its hash (altered after recording)")
            )
        prev = link.hash
    return problems


class ChainBroken(Exception):
    """A stored event that does not continue its program's chain, found as it loads."""

    def __init__(self, version: int, reason: str) -> None:
        super().__init__(f"version {version}: {reason}")
        self.version = version
        self.reason = reason


def check_stored_event(program_id: UUID, prev_hash: str, event: Any) -> None:
    """Raise ChainBroken unless a stored event (a `Program.Referred` or `Recorded` as the
    store gave it back) continues the chain: its `prev_hash` is its predecessor's hash
    (`prev_hash`, GENESIS_HASH for the first) and its content still hashes to its `hash`.

    A fact altered in the store that still parses would otherwise be served as the
    truth; this is `chain_problems`' check of one link, made as each event loads."""
    version = int(event.originator_version)
    if event.prev_hash != prev_hash:
        raise ChainBroken(version, "prev_hash does not match the hash of the event before it")
    computed = event_hash(
        program_id,
        version,
        event.type,
        event.event_id,
        event.occurred_on,
        event.timestamp,
        event.data,
        event.prev_hash,
    )
    if computed != event.hash:
        raise ChainBroken(version, "content does not match its hash (altered after recording)")
