"""COV-1 across programs: which programs stand on one physician referral, and in what order.

Policy 481, "Coverage": "Participation in work hardening is limited to a
maximum of one program per physician referral." docs/domain.md R5: the programs
on a physician referral id are those whose *standing* referral (recorded,
and not retracted, as known at `known_at`) carries it. The first program is
the one whose referral occurred first in business time (ties: record time,
then program id); every later one is a repeat and needs a
`RepeatProgramApproved`.

Each program's referrals are reduced to `ReferralSpan`s: when each was
recorded and when (if ever) it was retracted, so that "standing at T" is a
comparison, for any T, from one read of the program's trail.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from uuid import UUID

from domain.events import EntryRetracted, ProgramReferred
from domain.facts import Fact


@dataclass(frozen=True)
class ReferralSpan:
    """One `ProgramReferred` of a program that names a physician referral id."""

    program_id: str
    event_id: str
    key: str  # the physician referral id
    occurred_on: date
    recorded_at: datetime
    retracted_at: datetime | None  # when its retraction was recorded, if ever

    def standing(self, known_at: datetime) -> bool:
        """Whether this referral was recorded and not yet retracted at `known_at`."""
        if self.recorded_at > known_at:
            return False
        return self.retracted_at is None or self.retracted_at > known_at

    def order(self) -> tuple[date, datetime, str]:
        """First in business time, then record time, then program id (R5)."""
        return (self.occurred_on, self.recorded_at, self.program_id)


@lru_cache(maxsize=65536)
def _same_id(event_id: str) -> str:
    # A retraction may spell its target's UUID differently (case, braces).
    try:
        return str(UUID(event_id))
    except ValueError:
        return event_id.strip().lower()


def referral_spans(program_id: UUID | str, trail: Sequence[Fact]) -> list[ReferralSpan]:
    """Every referral of `trail` that names a physician referral id, with its retraction."""
    return spans_of(
        program_id,
        [fact for fact in trail if isinstance(fact.data, ProgramReferred)],
        [fact for fact in trail if isinstance(fact.data, EntryRetracted)],
    )


def spans_of(
    program_id: UUID | str, referrals: Sequence[Fact], retractions: Sequence[Fact]
) -> list[ReferralSpan]:
    """`referral_spans` from a trail's referrals and retractions alone, each in record
    order (a program keeps both lists as it takes facts: `Program.referrals`)."""
    retracted: dict[str, datetime] = {}
    for fact in retractions:
        if isinstance(fact.data, EntryRetracted):
            target = _same_id(str(fact.data.target_event_id))
            retracted.setdefault(target, fact.recorded_at)
    spans: list[ReferralSpan] = []
    for fact in referrals:
        data = fact.data
        if not isinstance(data, ProgramReferred) or not data.referral.physician_referral_id:
            continue
        spans.append(
            ReferralSpan(
                str(program_id),
                fact.event_id,
                data.referral.physician_referral_id,
                fact.occurred_on,
                fact.recorded_at,
                retracted.get(_same_id(fact.event_id)),
            )
        )
    return spans


def standing_referral(spans: Iterable[ReferralSpan], known_at: datetime) -> ReferralSpan | None:
    """The program's standing referral at `known_at`, if it names a referral id."""
    return next((span for span in spans if span.standing(known_at)), None)


def programs_before(
    mine: ReferralSpan, others: Iterable[ReferralSpan], known_at: datetime
) -> list[str]:
    """The other programs standing on `mine.key` at `known_at` whose referral comes
    before `mine` (R5), sorted by program id."""
    found = {
        span.program_id
        for span in others
        if span.program_id != mine.program_id
        and span.key == mine.key
        and span.standing(known_at)
        and span.order() < mine.order()
    }
    return sorted(found)
