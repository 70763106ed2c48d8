"""The oracle's list of business dates on which a program's assessment can change.

Kept from the product (which judged the read model on these dates before the fold,
`projections.fold`, read the dates off its own findings) so that the differential
tests know where to look: between two of these dates `assess` stays the same.

For a fixed set of recorded facts, `assess(facts, pack, as_of)` is a step
function of `as_of`: it changes only on a fact's `occurred_on` (the fact starts
to count) or on a date where a rule's clock runs out without any new fact.
This module lists those dates, rule by rule, so that the read model can assess
a program once per date here instead of once per calendar day:

- every fact's `occurred_on`, and an evaluation's `documented_on` (TS-e:
  documentation counts from the day it was completed);
- program weeks (TS-k, COV-2): the last day of week k, `start + 7k - 1` (a
  week is complete) and the day after it, `start + 7k` (coverage is exhausted
  the day after week 8), for k up to the longest week count of the pack, plus 1;
- TS-e: the working day after which documentation is late (the 6th and 8th
  working day for 5 and 7), counted from admission and from the evaluation;
- TS-i: each anchor (admission, re-evaluation) + interval + 1, when a
  re-evaluation becomes overdue;
- TS-j: each anchor (admission, staff conference) + conference interval + 1,
  when a staff conference becomes overdue;
- REP: discharge + report deadline + 1, when a missing report becomes late.

Dates come from every fact, retracted or not, and every candidate anchor: a
date too many only splits a constant stretch in two, which the timeline
merges again; a date too few would be a wrong answer.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, timedelta

from domain.events import (
    InitialEvaluationDocumented,
    ProgramAdmitted,
    ProgramDischarged,
    ProgressReEvaluated,
    StaffConferenceHeld,
)
from domain.facts import Fact
from domain.policy import PolicyPack
from projections.calendar import nth_working_day_after, week_first_day, week_last_day


def _safe(days: Iterable[date | None]) -> set[date]:
    return {day for day in days if day is not None}


def _plus(day: date, days: int) -> date | None:
    try:
        return day + timedelta(days=days)
    except OverflowError:  # past 9999-12-31: no such business date
        return None


def week_breakpoints(start: date, pack: PolicyPack) -> set[date]:
    """Last day of each program week and the day after it (TS-k, COV-2)."""
    weeks = max(pack.limits.max_weeks, pack.typical.max_weeks) + 1
    found: set[date | None] = set()
    for week in range(1, weeks + 1):
        try:
            found.add(week_last_day(start, week))
            found.add(week_first_day(start, week + 1))
        except OverflowError:
            break
    return _safe(found)


def working_day_breakpoints(start: date, pack: PolicyPack) -> set[date]:
    """The first working day past each TS-e threshold, counted from `start`."""
    deadlines = pack.deadlines
    found: set[date] = set()
    for limit in (
        deadlines.evaluation_warning_working_days,
        deadlines.evaluation_violation_working_days,
    ):
        try:
            found.add(nth_working_day_after(start, limit + 1, deadlines.holiday_calendar))
        except OverflowError:
            continue
    return found


def breakpoints(facts: Sequence[Fact], pack: PolicyPack) -> tuple[date, ...]:
    """Every date on which `assess(facts, pack, as_of)` may differ from the day before.

    Sorted, without repeats. Between two consecutive dates (and before the
    first, and from the last on) the assessment's status, discharge
    eligibility and findings stay the same.
    """
    deadlines = pack.deadlines
    interval = deadlines.reevaluation_interval_days
    conference = deadlines.conference_interval_days
    found: set[date] = {fact.occurred_on for fact in facts}
    for fact in facts:
        data = fact.data
        on = fact.occurred_on
        if isinstance(data, ProgramAdmitted):
            found |= week_breakpoints(on, pack)
            found |= working_day_breakpoints(on, pack)
            found |= _safe([_plus(on, interval + 1), _plus(on, conference + 1)])
        elif isinstance(data, InitialEvaluationDocumented):
            found |= working_day_breakpoints(on, pack)
            found |= _safe([data.documented_on])
        elif isinstance(data, ProgressReEvaluated):
            found |= _safe([_plus(on, interval + 1)])
        elif isinstance(data, StaffConferenceHeld):
            found |= _safe([_plus(on, conference + 1)])
        elif isinstance(data, ProgramDischarged):
            found |= _safe([_plus(on, deadlines.report_deadline_days + 1)])
    return tuple(sorted(found))
