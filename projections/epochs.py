"""A program's state on many business dates, judged once per epoch instead of once per date.

The read model needs the state (status, discharge eligibility, finding codes)
on each of a dozen breakpoints after every event. Judging each breakpoint
from the whole record made a rebuild cost about 17 judgements an event.

docs/domain.md R1 says a finding is dated the day its breach happened and judged
only from facts of that day or before. The rules keep that for every fact
but the program's singletons (referral, admission, evaluation, discharge,
report), which they read whatever their date: COV-1's finding is dated the
admission but needs the referral, a discharge closes every window, an
admission reposted after the discharge still makes the discharge early.
So between two singleton dates (an epoch) the singletons a record holds stay
the same, and then, for D <= E in one epoch:

- the findings as of D are exactly the findings as of E dated on or before D
  (each rule is causal and monotone there: a later anchor, session, absence
  or document leaves a finding dated before it as it was);
- the status is the same (it reads only singletons);
- whether there is a discharge reason is decided as `discharge_reasons` decides
  it as of D: from re-evaluations and medical changes up to min(D, discharge)
  and attendance up to that date, all of which E's record and counts hold.

One judgement at the last wanted date of each epoch then gives every wanted
date in it. The whole-trail `assess` stays the oracle: the property tests
compare this with it on every day of generated histories.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date

from domain.policy import PolicyPack
from projections.calendar import week_last_day
from projections.compliance import Verdict, judge, status_of
from projections.record import FiledFacts
from projections.rules.discharge import REEVALUATION_REASONS


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


def states_on(
    filed: FiledFacts,
    pack: PolicyPack,
    dates: Sequence[date],
    *,
    pack_in_force: bool = True,
    earlier_programs_same_referral: Sequence[str] = (),
) -> list[State]:
    """The state as of each of `dates` (ascending), one judgement per epoch they touch."""
    bounds = filed.singleton_dates()
    states: list[State] = []
    first = 0
    while first < len(dates):
        # The epoch of dates[first] ends before the next singleton date after it.
        after = bisect_right(bounds, dates[first])
        end = bounds[after] if after < len(bounds) else None
        last = first + 1
        while last < len(dates) and (end is None or dates[last] < end):
            last += 1
        verdict = judge(
            filed.record(dates[last - 1]),
            pack,
            pack_in_force=pack_in_force,
            earlier_programs_same_referral=earlier_programs_same_referral,
        )
        states.extend(_epoch_states(verdict, pack, dates[first:last]))
        first = last
    return states


def _epoch_states(verdict: Verdict, pack: PolicyPack, dates: Sequence[date]) -> list[State]:
    # `verdict` judged the last of `dates`; every other date is cut from it.
    status = status_of(verdict.record)
    eligible_on = _eligibility(verdict, pack)
    findings = sorted(verdict.findings, key=lambda finding: finding.occurred_on)
    codes: set[str] = set()
    taken = 0
    states: list[State] = []
    for day in dates:
        while taken < len(findings) and findings[taken].occurred_on <= day:
            codes.add(findings[taken].code)
            taken += 1
        states.append(State(status, eligible_on(day), frozenset(codes)))
    return states


def _eligibility(verdict: Verdict, pack: PolicyPack) -> Callable[[date], bool]:
    """Whether `discharge_reasons` gives any reason as of a date of the epoch.

    The same reasons, found by bisection: judged on min(D, discharge) (R9),
    the latest re-evaluation by then, any medical change by then, absence
    equivalents over the limit by then, past the last covered week.
    """
    record = verdict.record
    discharged_on = record.discharged_on
    reevaluations = record.reevaluations
    reevaluated = [entry.occurred_on for entry in reevaluations]
    changed = record.medical_changes[0].occurred_on if record.medical_changes else None
    exceeded = verdict.counts.first_exceeded_on()
    start = record.admitted_on
    covered_until = week_last_day(start, pack.limits.max_weeks) if start is not None else None

    def eligible_on(day: date) -> bool:
        judged_on = day if discharged_on is None or day < discharged_on else discharged_on
        latest = bisect_right(reevaluated, judged_on)
        if latest and any(
            getattr(reevaluations[latest - 1].body, reason) for reason in REEVALUATION_REASONS
        ):
            return True
        if changed is not None and changed <= judged_on:
            return True
        if exceeded is not None and exceeded <= judged_on:
            return True
        return covered_until is not None and judged_on > covered_until

    return eligible_on
