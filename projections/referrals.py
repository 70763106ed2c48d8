"""COV-1 across programs: which programs are one client's injury, and in what order.

Policy 481, "Coverage": "Participation in work hardening is limited to a
maximum of one program per physician referral." docs/domain.md R16: a program
is a repeat of an earlier program of the *same worker* that shares its
physician referral id *or* its claim number; programs of different workers
never are. Identifiers are compared trimmed, and a blank one is none (R15,
`domain.identifiers`). R5: a program counts by its *standing* referral
(recorded, and not retracted, as known at `known_at`). The first program is
the one whose referral occurred first in business time (ties: record time,
then program id); every later one is a repeat and needs a
`RepeatProgramApproved`.

Each program's referrals are reduced to `ReferralSpan`s: when each was
recorded and when (if ever) it was retracted, so that "standing at T" is a
comparison, for any T, from one read of the program's trail. The store finds
the candidates by index key (`index_key`: the referral's worker); the spans
then decide which of them share the injury.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from uuid import UUID

from domain.events import EntryRetracted, ProgramReferred
from domain.facts import Fact
from domain.identifiers import identifier

# What two programs of one worker share (R16), as `earlier_entry` and the
# COV-1 finding name it.
REFERRAL_ID = "physician referral id"
CLAIM_NUMBER = "claim number"
# How an entry marks an earlier program of another provider: the finding's message
# reaches this program's provider, who may not see that program (its id is withheld).
FOREIGN = "another provider"
WORKER_KEY = "worker:"  # index keys: the prefix, then the worker id (trimmed)


def index_key(referral: ProgramReferred) -> str | None:
    """The key the store's index files this referral under: its worker (trimmed), when
    it names a worker and a referral id or claim number to share; else None."""
    worker = identifier(referral.worker.worker_id)
    if worker is None:
        return None
    if identifier(referral.referral.physician_referral_id) is None and (
        identifier(referral.claim.claim_number) is None
    ):
        return None
    return WORKER_KEY + worker


@dataclass(frozen=True)
class ReferralSpan:
    """One `ProgramReferred` of a program that can make it one client's injury with
    another program: a worker, and a referral id or a claim number (all trimmed)."""

    program_id: str
    event_id: str
    worker: str
    referral_id: str | None
    claim: str | None
    legacy_key: str | None  # the referral id as sent: how index rows before R16 file it
    provider: str  # the provider the referral names (whose keys see the program)
    occurred_on: date
    recorded_at: datetime
    retracted_at: datetime | None  # when its retraction was recorded, if ever

    @property
    def key(self) -> str:
        """The index key its programs are found by (`index_key`)."""
        return WORKER_KEY + self.worker

    @property
    def lookup_keys(self) -> tuple[str, ...]:
        """Every index key a program sharing this injury may be filed under: the worker,
        and the referral id as sent (rows stored before R16 are keyed so)."""
        return (self.key, self.legacy_key) if self.legacy_key else (self.key,)

    def shares(self, other: ReferralSpan) -> tuple[str, ...]:
        """What `other` shares with this referral (R16): nothing for another worker."""
        if other.worker != self.worker:
            return ()
        found: list[str] = []
        if self.referral_id is not None and self.referral_id == other.referral_id:
            found.append(REFERRAL_ID)
        if self.claim is not None and self.claim == other.claim:
            found.append(CLAIM_NUMBER)
        return tuple(found)

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
    """Every referral of `trail` that can share an injury (`index_key`), with its
    retraction."""
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
        if not isinstance(data, ProgramReferred) or index_key(data) is None:
            continue
        referral_id = identifier(data.referral.physician_referral_id)
        spans.append(
            ReferralSpan(
                str(program_id),
                fact.event_id,
                identifier(data.worker.worker_id) or "",
                referral_id,
                identifier(data.claim.claim_number),
                data.referral.physician_referral_id if referral_id else None,
                data.provider_id,
                fact.occurred_on,
                fact.recorded_at,
                retracted.get(_same_id(fact.event_id)),
            )
        )
    return spans


def lookup_keys(spans: Iterable[ReferralSpan]) -> list[str]:
    """Every index key the programs sharing an injury with any of `spans` are filed
    under, sorted (see `ReferralSpan.lookup_keys`)."""
    return sorted({key for span in spans for key in span.lookup_keys})


def standing_referral(spans: Iterable[ReferralSpan], known_at: datetime) -> ReferralSpan | None:
    """The program's standing referral at `known_at`, if it can share an injury."""
    return next((span for span in spans if span.standing(known_at)), None)


def earlier_entry(program_id: str, shared: Iterable[str], foreign: bool = False) -> str:
    """How a judgement names an earlier program of the same injury: its id, what it
    shares, and whether another provider holds it, e.g. `"<id> (same claim number)"`
    or `"<id> (same claim number; another provider)"`. Kinds only, never the values:
    judgements are kept where worker identifiers may not be (the read model)."""
    return f"{program_id} (same {' and '.join(shared)}{'; ' + FOREIGN if foreign else ''})"


def read_entry(entry: str) -> tuple[str, tuple[str, ...], bool]:
    """`earlier_entry` read back: the program id, what it shares, and whether another
    provider holds it. A bare program id (bundles and judgements from before R16)
    shared the physician referral id; entries from before providers were told apart
    name none as another's."""
    program_id, _, shared = entry.partition(" (same ")
    if not shared:
        return entry, (REFERRAL_ID,), False
    kinds = tuple(kind for kind in (REFERRAL_ID, CLAIM_NUMBER) if kind in shared)
    return program_id, kinds, shared.endswith(f"; {FOREIGN})")


def programs_before(
    mine: ReferralSpan, others: Iterable[ReferralSpan], known_at: datetime
) -> list[str]:
    """The other programs standing at `known_at` on the same injury as `mine` (R16: the
    same worker, and its referral id or claim number) whose referral comes before
    `mine` (R5), as `earlier_entry` names them, sorted by program id: each marked as
    another provider's when its standing referral names another provider than `mine`."""
    found: dict[str, set[str]] = {}
    foreign: set[str] = set()
    for span in others:
        if span.program_id == mine.program_id or not span.standing(known_at):
            continue
        shared = mine.shares(span)
        if shared and span.order() < mine.order():
            found.setdefault(span.program_id, set()).update(shared)
            if span.provider != mine.provider:
                foreign.add(span.program_id)
    return [
        earlier_entry(
            pid, [kind for kind in (REFERRAL_ID, CLAIM_NUMBER) if kind in kinds], pid in foreign
        )
        for pid, kinds in sorted(found.items())
    ]
