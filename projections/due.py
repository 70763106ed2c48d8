"""What is due next: a program's open and missed obligations, and what it has left.

A case manager asks "what must this clinic do, by when, and how much of the
program is left?". Each obligation is one of the rules' own deadlines
(`projections.rules`), listed while nothing on record fulfils it:

- `evaluation_documentation` (TS-e): from the start of the TS-e clock until
  the evaluation is on record with its `documented_on` reached; `due_on` is
  the last day without a warning, `violation_on` the last without a violation.
  TS-e's rule runs whatever the program's status, so this one is listed
  before admission (an evaluation held first starts the clock) and after
  discharge too;
- `reevaluation` (TS-i) and `staff_conference` (TS-j): from admission until
  discharge, due the pack's interval after admission or the last one held;
- `coverage_end` (COV-2): from admission until discharge, the last day of
  the last covered week;
- `discharge_report` (REP): from discharge until a report is filed.

An obligation is `open` while `due_on >= as_of` and `missed` after; a missed
one stays listed until fulfilled (its finding, dated the day after `due_on`,
stays for good: docs/domain.md R1). A withdrawn program owes nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from domain.events import InitialEvaluationDocumented
from domain.facts import Fact
from domain.policy import PolicyPack
from projections.calendar import week_last_day, week_number
from projections.filing import Filing
from projections.model import json_number
from projections.record import ProgramRecord
from projections.rules.attendance import attendance
from projections.rules.conferences import conference_deadline
from projections.rules.coverage import coverage_last_day, day_ledger, reimbursable_hours
from projections.rules.evaluation import (
    documentation_clock,
    documented_by,
    reevaluation_deadline,
)
from projections.rules.report import discharge_report, report_deadline

BEGINNING = date.min
# The event types whose facts the due list reads (`obligations`): a session, an
# absence or a tardiness leaves a program's due list as it was, so the read
# model does not work it out again for one (tests/unit/test_due_properties.py).
READS = frozenset(
    {
        "ProgramReferred",  # a program whose referrals are all retracted owes nothing
        "ProgramAdmitted",
        "InitialEvaluationDocumented",
        "ProgressReEvaluated",
        "StaffConferenceHeld",
        "ProgramDischarged",
        "DischargeReportFiled",
        "EntryRetracted",
    }
)
ONE_DAY = timedelta(days=1)
OPEN, MISSED = "open", "missed"


@dataclass(frozen=True)
class Obligation:
    """One thing the program owes by a date: its kind, the clause, the last day."""

    kind: str
    clause: str
    due_on: date
    violation_on: date | None = None  # TS-e only: the last day without a violation

    def status(self, as_of: date) -> str:
        """`open` while the due date is today or later, `missed` after it."""
        return OPEN if self.due_on >= as_of else MISSED

    def as_dict(self, as_of: date) -> dict[str, Any]:
        """The obligation as docs/reference/http.md's JSON, its status judged at `as_of`."""
        found: dict[str, Any] = {
            "kind": self.kind,
            "clause": self.clause,
            "due_on": self.due_on.isoformat(),
            "status": self.status(as_of),
        }
        if self.violation_on is not None:
            found["violation_on"] = self.violation_on.isoformat()
        return found


@dataclass(frozen=True)
class Budgets:
    """What the program has left as of one date (DIS-5a, COV-2)."""

    absence_equivalents_left: int
    days_left_this_week: int
    weeks_left: int
    reimbursable_hours_used: Decimal

    def as_dict(self) -> dict[str, Any]:
        return {
            "absence_equivalents_left": self.absence_equivalents_left,
            "days_left_this_week": self.days_left_this_week,
            "weeks_left": self.weeks_left,
            "reimbursable_hours_used": json_number(self.reimbursable_hours_used),
        }


@dataclass(frozen=True)
class DueList:
    """A program's obligations and budgets as of one business date."""

    as_of: date
    obligations: tuple[Obligation, ...]
    budgets: Budgets

    def as_dict(self) -> dict[str, Any]:
        return {
            "as_of": self.as_of.isoformat(),
            "obligations": [o.as_dict(self.as_of) for o in self.obligations],
            "budgets": self.budgets.as_dict(),
        }


def obligations(record: ProgramRecord, pack: PolicyPack) -> tuple[Obligation, ...]:
    """Every obligation open or missed as of the record's date, by due date then kind
    (see the module docstring for when each is listed)."""
    if record.withdrawn:
        return ()
    found: list[Obligation] = []
    clock = documentation_clock(record, pack)
    if clock is not None and not documented_by(record, record.as_of):
        found.append(
            Obligation(
                "evaluation_documentation",
                "TS-e",
                clock.warning_from - ONE_DAY,
                clock.violation_from - ONE_DAY,
            )
        )
    if record.discharge is not None:
        deadline = report_deadline(record, pack)
        if discharge_report(record) is None and deadline is not None:
            found.append(Obligation("discharge_report", "REP", deadline))
    elif record.admission is not None:
        for kind, clause, due_on in (
            ("reevaluation", "TS-i", reevaluation_deadline(record, pack)),
            ("staff_conference", "TS-j", conference_deadline(record, pack)),
            ("coverage_end", "COV-2", coverage_last_day(record, pack)),
        ):
            if due_on is not None:
                found.append(Obligation(kind, clause, due_on))
    return tuple(sorted(found, key=lambda o: (o.due_on, o.kind)))


def budgets(record: ProgramRecord, pack: PolicyPack) -> Budgets:
    """How many absence equivalents, days this week and weeks are left, and the
    reimbursable hours used, as of the record's date.

    Days this week: the program week of `as_of` allows the pack's days a week
    (COV-2); left are those not yet used, and at most the week's days from
    `as_of` on that have no session yet. Before admission, after discharge and
    past the last covered week no day is left; before admission every week is.
    """
    limits = pack.limits
    counts = attendance(record, pack)
    ledger = day_ledger(record, pack)
    left = max(0, limits.max_unexcused_absences - counts.absence_equivalents)
    start, as_of = record.admitted_on, record.as_of
    days = 0
    weeks = limits.max_weeks if start is None else 0
    if start is not None and record.discharge is None:
        week = week_number(start, as_of)
        weeks = max(0, limits.max_weeks - week)
        if week <= limits.max_weeks:
            used = sum(1 for day in ledger.reimbursable if week_number(start, day) == week)
            free = (week_last_day(start, week) - as_of).days + (
                0 if as_of in ledger.day_hours else 1
            )
            days = max(0, min(limits.max_days_per_week - used, free))
    return Budgets(left, days, weeks, reimbursable_hours(ledger, pack))


def due(facts: Sequence[Fact], pack: PolicyPack, as_of: date) -> DueList:
    """What the program owes, and what it has left, as of `as_of` (facts as `assess`)."""
    return due_list(Filing.of(facts).record(as_of), pack)


def due_list(record: ProgramRecord, pack: PolicyPack) -> DueList:
    """What the program owes, and what it has left, as of the record's date."""
    return DueList(record.as_of, obligations(record, pack), budgets(record, pack))


@dataclass(frozen=True)
class DueSegment:
    """An obligation listed over `[valid_from, valid_to)`; `valid_to` None: from then on."""

    kind: str
    clause: str
    due_on: date
    violation_on: date | None
    valid_from: date
    valid_to: date | None

    @property
    def obligation(self) -> Obligation:
        return Obligation(self.kind, self.clause, self.due_on, self.violation_on)


def due_segments(
    facts: Sequence[Fact], pack: PolicyPack, filed: Filing | None = None
) -> tuple[DueSegment, ...]:
    """Each obligation with the business dates it is listed on, for the read model.

    The list changes only where the facts on record do: on a fact's date, or
    on an evaluation's `documented_on` (each obligation and its `due_on` are
    worked out from the facts up to the date; nothing in them counts days up
    to it), so it is computed there once; status is left to the reader
    (`due_on` vs as_of). Week ends and deadlines are not among these dates:
    passing a deadline changes an obligation's status, not the list.
    `filed`, when given, must be `Filing.of(facts)`.
    """
    if filed is None:
        filed = Filing.of(facts)
    dates = [BEGINNING, *(d for d in change_dates(facts) if d > BEGINNING)]
    open_since: dict[Obligation, date] = {}
    segments: list[DueSegment] = []

    def close(obligation: Obligation, since: date, until: date | None) -> None:
        segments.append(
            DueSegment(
                obligation.kind,
                obligation.clause,
                obligation.due_on,
                obligation.violation_on,
                since,
                until,
            )
        )

    for day in dates:
        now = set(obligations(filed.record(day), pack))
        for gone in sorted(set(open_since) - now, key=_order):
            close(gone, open_since.pop(gone), day)
        for new in sorted(now - set(open_since), key=_order):
            open_since[new] = day
    for obligation, since in open_since.items():
        close(obligation, since, None)
    return tuple(sorted(segments, key=lambda s: (s.valid_from, s.due_on, s.kind)))


def change_dates(facts: Sequence[Fact]) -> tuple[date, ...]:
    """The dates on which the due list may differ from the day before (see
    `due_segments`): every fact's date and every evaluation's `documented_on`."""
    found = {fact.occurred_on for fact in facts}
    for fact in facts:
        if isinstance(fact.data, InitialEvaluationDocumented) and fact.data.documented_on:
            found.add(fact.data.documented_on)
    return tuple(sorted(found))


def _order(obligation: Obligation) -> tuple[date, str]:
    return (obligation.due_on, obligation.kind)
