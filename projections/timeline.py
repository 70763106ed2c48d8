"""A program's compliance along business time, as a few constant stretches.

"Which programs were over the daily cap as of March 1?" asks the assessment
of every program at one date. A program's state (status, discharge
eligibility, finding codes) changes only on a few dates, which its fold
(`projections.fold`, `Fold.timeline`) reads off what it found: a `Timeline`
is the state from each of those dates on. The read model stores it as
segments, `[valid_from, valid_to)` date ranges, that SQL can index.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

# The timeline starts before any business date: `BEGINNING` stands for "always".
BEGINNING = date.min


@dataclass(frozen=True)
class State:
    """What the regulator's list shows of a program on one business date."""

    status: str
    discharge_eligible: bool
    findings: frozenset[str]

    def as_json(self) -> list[object]:
        return [self.status, self.discharge_eligible, sorted(self.findings)]

    @classmethod
    def from_json(cls, value: Sequence[object]) -> State:
        status, eligible, codes = value
        assert isinstance(codes, list)
        return cls(str(status), bool(eligible), frozenset(str(c) for c in codes))


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
