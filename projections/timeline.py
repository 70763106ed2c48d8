"""A program's compliance along business time, as a few constant stretches.

"Which programs were over the daily cap as of March 1?" asks the assessment
of every program at one date. A program's assessment only changes on the
dates `projections.breakpoints` lists, so assessing it there once describes
it for every date: a `Timeline` is the state (status, discharge eligibility,
finding codes) from each of those dates on. The read model stores it as
segments, `[valid_from, valid_to)` date ranges, that SQL can index.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache
from uuid import UUID

from domain.events import EntryRetracted, ProgramReferred
from domain.facts import Fact
from domain.policy import PolicyPack
from projections.breakpoints import breakpoints
from projections.compliance import judge, status_of
from projections.epochs import State, states_on
from projections.record import FiledFacts, ProgramRecord, build_record

# The timeline starts before any business date: `BEGINNING` stands for "always".
BEGINNING = date.min


@dataclass(frozen=True)
class StateSegment:
    """Status and discharge eligibility over `[valid_from, valid_to)`; `valid_to` None: on."""

    valid_from: date
    valid_to: date | None
    status: str
    discharge_eligible: bool


@dataclass(frozen=True)
class FindingSegment:
    """A finding code present over `[valid_from, valid_to)`; `valid_to` None: from then on."""

    code: str
    valid_from: date
    valid_to: date | None


@dataclass(frozen=True)
class Timeline:
    """The state from each date on: `changes[0]` starts at `BEGINNING`, dates ascend,
    and no two neighbours hold the same state."""

    changes: tuple[tuple[date, State], ...]

    def at(self, as_of: date) -> State:
        """The state as of one business date."""
        starts = [start for start, _ in self.changes]
        return self.changes[bisect.bisect_right(starts, as_of) - 1][1]

    def state_segments(self) -> list[StateSegment]:
        """Runs of equal (status, discharge eligibility), covering every date."""
        runs: list[tuple[date, str, bool]] = []
        for start, state in self.changes:
            if not runs or (runs[-1][1], runs[-1][2]) != (state.status, state.discharge_eligible):
                runs.append((start, state.status, state.discharge_eligible))
        ends: list[date | None] = [start for start, _, _ in runs[1:]]
        ends.append(None)
        return [
            StateSegment(start, end, status, eligible)
            for (start, status, eligible), end in zip(runs, ends, strict=True)
        ]

    def finding_segments(self) -> list[FindingSegment]:
        """For each finding code, the ranges of dates it is present on, by code then date."""
        open_since: dict[str, date] = {}
        segments: list[FindingSegment] = []
        for start, state in self.changes:
            for code in sorted(set(open_since) - state.findings):
                segments.append(FindingSegment(code, open_since.pop(code), start))
            for code in sorted(state.findings - set(open_since)):
                open_since[code] = start
        segments.extend(FindingSegment(code, since, None) for code, since in open_since.items())
        return sorted(segments, key=lambda s: (s.code, s.valid_from))

    def as_json(self) -> list[list[object]]:
        return [[start.isoformat(), *state.as_json()] for start, state in self.changes]

    @classmethod
    def from_json(cls, value: Sequence[Sequence[object]]) -> Timeline:
        return cls(
            tuple((date.fromisoformat(str(row[0])), State.from_json(row[1:])) for row in value)
        )


def state_of(
    facts: Sequence[Fact],
    pack: PolicyPack,
    as_of: date,
    *,
    pack_in_force: bool = True,
    earlier_programs_same_referral: Sequence[str] = (),
) -> State:
    """The assessment of `projections.compliance.assess`, cut to what the list shows."""
    return _state(
        build_record(facts, as_of),
        pack,
        pack_in_force=pack_in_force,
        earlier_programs_same_referral=earlier_programs_same_referral,
    )


def _state(
    record: ProgramRecord,
    pack: PolicyPack,
    *,
    pack_in_force: bool,
    earlier_programs_same_referral: Sequence[str],
) -> State:
    # What `assess` would say of status, eligibility and finding codes, without
    # its figures and billing (see `projections.compliance.Verdict`).
    verdict = judge(
        record,
        pack,
        pack_in_force=pack_in_force,
        earlier_programs_same_referral=earlier_programs_same_referral,
    )
    return State(
        status_of(record),
        bool(verdict.reasons),
        frozenset(finding.code for finding in verdict.findings),
    )


@lru_cache(maxsize=65536)
def _same_id(text: str) -> str:
    # Cached: each new retraction compares its target with every earlier id.
    try:
        return str(UUID(text))
    except ValueError:
        return text.strip().lower()


def changed_from(new: Fact, earlier: Sequence[Fact]) -> date | None:
    """The first business date whose assessment `new` can change, given the facts
    recorded before it; None when it may change any date.

    A fact counts from its `occurred_on`; a retraction changes what its target
    said, so from the target's `occurred_on`. A referral, or the retraction of
    one, may change every date: whether any referral stands decides whether
    the program is `withdrawn`, whatever the business date (docs/domain.md R10).
    """
    if isinstance(new.data, ProgramReferred):
        return None
    if not isinstance(new.data, EntryRetracted):
        return new.occurred_on
    target = _same_id(str(new.data.target_event_id))
    for fact in earlier:
        if _same_id(fact.event_id) == target:
            return None if isinstance(fact.data, ProgramReferred) else fact.occurred_on
    return None


def _merged(changes: Sequence[tuple[date, State]]) -> Timeline:
    kept: list[tuple[date, State]] = []
    for start, state in changes:
        if kept and kept[-1][1] == state:
            continue
        kept.append((start, state))
    return Timeline(tuple(kept))


def build_timeline(
    facts: Sequence[Fact],
    pack: PolicyPack,
    *,
    pack_in_force: bool = True,
    earlier_programs_same_referral: Sequence[str] = (),
    previous: Timeline | None = None,
    since: date | None = None,
    filed: FiledFacts | None = None,
) -> Timeline:
    """The program's state on every business date: its state on each breakpoint,
    judged once per epoch of its singletons (`projections.epochs`).

    With `previous` and `since`, the caller vouches that the assessment of
    every date before `since` is as in `previous` (a new fact that occurred
    on `since`, nothing else changed): only dates from `since` on are
    assessed again. The result is the same as without them. `filed`, when
    given, must be `FiledFacts(facts)` (shared with the caller's due list).
    """
    if filed is None:
        filed = FiledFacts(facts)
    cut = filed

    def states(days: Sequence[date]) -> list[State]:
        return states_on(
            cut,
            pack,
            days,
            pack_in_force=pack_in_force,
            earlier_programs_same_referral=earlier_programs_same_referral,
        )

    dates = breakpoints(facts, pack)
    if previous is not None and since is not None and since > BEGINNING:
        kept = [(start, s) for start, s in previous.changes if start < since]
        later = sorted({since, *(d for d in dates if d > since)})
        return _merged([*kept, *zip(later, states(later), strict=True)])
    if not dates:
        return Timeline(((BEGINNING, states([BEGINNING])[0]),))
    first = dates[0]
    before = first - timedelta(days=1) if first > BEGINNING else first
    found = states([before, *dates])
    return _merged([(BEGINNING, found[0]), *zip(dates, found[1:], strict=True)])
