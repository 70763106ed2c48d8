"""Storage extensions: the event recorders with the tracker's own index.

Beside the library's stored events, each recorder keeps `wht_event_index`: one
row per event, written in the same transaction as the event. It holds what
the tracker must find without reading whole trails: the idempotency key
(`event_id`, unique) with the body's digest and the original result, the
record time (for `known_at` cuts by index) and, in `referral_key`, a referral's
COV-1 key (`projections.referrals.index_key`: `worker:` and its worker id,
trimmed; rows stored before docs/domain.md R16 hold the physician referral id
as sent, and are still looked up by it).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol
from uuid import UUID

from domain.errors import TrailGap


@dataclass(frozen=True)
class IndexRow:
    event_id: str
    program_id: UUID
    version: int
    recorded_at: datetime
    type: str
    body_sha: str
    referral_key: str | None
    result: str  # the JSON the ingest answered with, returned again on a retry


# How many event ids one lookup query names (SQLite allows 32,766 parameters).
LOOKUP_CHUNK = 500


def gap_refusal(program_id: UUID, stored: int, appending: int) -> TrailGap:
    """The refusal of an append at version `appending` to a trail whose store ends at
    version `stored` (not `appending - 1`)."""
    return TrailGap(
        f"Program {program_id}'s stored trail ends at version {stored}, but this event "
        f"would be version {appending}: versions were lost from the store, and nothing was "
        f"stored. GET /v1/programs/{program_id}/integrity lists the damage.",
        first_bad_version=stored + 1,
    )


def first_new_versions(stored_events: Sequence[Any]) -> dict[UUID, int]:
    """Each program's first version in a batch of stored events."""
    first: dict[UUID, int] = {}
    for stored in stored_events:
        pid = UUID(str(stored.originator_id))
        first[pid] = min(first.get(pid, stored.originator_version), stored.originator_version)
    return first


class IndexedRecorder(Protocol):
    def find_event(self, event_id: str) -> IndexRow | None: ...

    def find_events(self, event_ids: Sequence[str]) -> dict[str, IndexRow]: ...

    def version_known_at(self, program_id: UUID, known_at: datetime) -> int | None: ...

    def programs_with_referral(
        self, referral_key: str, known_at: datetime
    ) -> list[tuple[UUID, datetime]]: ...

    def program_ids(self, known_at: datetime) -> list[UUID]: ...
