"""The oracle's filing of a whole trail at once: `FiledFacts`, as the product had it.

The product files facts one at a time (`projections.filing.Filing`), for the fold
and for every record; this is the whole-trail filing it replaced, kept so that
the tests can hold `Filing` to it (tests/unit/test_replay_differential.py).
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from operator import itemgetter
from typing import Generic

from domain.events import (
    AbsenceRecorded,
    DischargeReportFiled,
    EntryRetracted,
    InitialEvaluationDocumented,
    MedicalConditionChanged,
    ProgramAdmitted,
    ProgramDischarged,
    ProgramReferred,
    ProgressReEvaluated,
    RepeatProgramApproved,
    SessionLogged,
    StaffConferenceHeld,
    TardinessRecorded,
)
from domain.facts import Fact
from projections.record import B, Entry, ProgramRecord, SessionDay, _normalised_id


def _unretracted(facts: Sequence[Fact]) -> list[Fact]:
    # A retraction counts whatever its own business date: it corrects the
    # record (system time), it does not happen in the program's story.
    retracted = {
        _normalised_id(str(fact.data.target_event_id))
        for fact in facts
        if isinstance(fact.data, EntryRetracted)
    }
    return [
        fact
        for fact in facts
        if not isinstance(fact.data, EntryRetracted)
        and _normalised_id(fact.event_id) not in retracted
    ]


@dataclass(frozen=True)
class _ByDate(Generic[B]):
    """One event type's entries sorted by (occurred_on, version), cut by bisection.

    Sorting makes every "earliest" and "latest" independent of the order the
    facts were handed over in; the entries that occurred by a date are then a
    prefix of the sorted ones, in the same order as if sorted after the cut.
    """

    entries: tuple[Entry[B], ...]
    days: tuple[date, ...]  # each entry's occurred_on, for bisect

    @classmethod
    def of(cls, entries: Sequence[Entry[B]]) -> _ByDate[B]:
        """From one type's entries in record order (a stable sort keeps it among equals)."""
        found = sorted(entries, key=lambda entry: (entry.occurred_on, entry.version))
        return cls(tuple(found), tuple(entry.occurred_on for entry in found))

    def until(self, as_of: date) -> tuple[Entry[B], ...]:
        """The entries that occurred on or before `as_of`."""
        cut = bisect_right(self.days, as_of)
        return self.entries if cut == len(self.entries) else self.entries[:cut]

    def first_until(self, as_of: date) -> Entry[B] | None:
        """The earliest entry that occurred on or before `as_of`, if any."""
        return self.entries[0] if self.days and self.days[0] <= as_of else None


class FiledFacts:
    """One program's facts filed once, so that records at many dates are cheap cuts.

    A timeline assesses the same facts at a dozen business dates; only the
    `as_of` cut differs between them. What does not depend on `as_of` (which
    facts are retracted, each type's entries in date order, session hours
    per day) is derived here once, and `record(as_of)` bisects it.
    """

    def __init__(self, facts: Sequence[Fact]) -> None:
        kinds = _by_kind(_unretracted(facts))
        referred = any(isinstance(fact.data, ProgramReferred) for fact in facts)
        self._withdrawn = referred and not kinds.get(ProgramReferred)
        if self._withdrawn:
            kinds = {}
        # In record order: the referral is the first one remaining, not the earliest.
        self._referrals = tuple(_of_kind(kinds, ProgramReferred))
        self._admissions = _ByDate.of(_of_kind(kinds, ProgramAdmitted))
        self._discharges = _ByDate.of(_of_kind(kinds, ProgramDischarged))
        self._evaluations = _ByDate.of(_of_kind(kinds, InitialEvaluationDocumented))
        self._reports = _ByDate.of(_of_kind(kinds, DischargeReportFiled))
        self._sessions = _ByDate.of(_of_kind(kinds, SessionLogged))
        self._absences = _ByDate.of(_of_kind(kinds, AbsenceRecorded))
        self._tardies = _ByDate.of(_of_kind(kinds, TardinessRecorded))
        self._reevaluations = _ByDate.of(_of_kind(kinds, ProgressReEvaluated))
        self._medical_changes = _ByDate.of(_of_kind(kinds, MedicalConditionChanged))
        self._repeat_approvals = _ByDate.of(_of_kind(kinds, RepeatProgramApproved))
        self._conferences = _ByDate.of(_of_kind(kinds, StaffConferenceHeld))
        self._session_days = _session_days(self._sessions.entries)
        self._session_dates = tuple(day.day for day in self._session_days)

    def singleton_dates(self) -> tuple[date, ...]:
        """The dates of every remaining referral, admission, discharge, evaluation and report.

        These are the facts a rule may read whatever their date relative to the
        finding it dates (see `projections.epochs`): between two of these dates
        the record's singletons stay the same. Sorted, without repeats.
        """
        found = {entry.occurred_on for entry in self._referrals}
        for filed in (self._admissions, self._discharges, self._evaluations, self._reports):
            found.update(filed.days)
        return tuple(sorted(found))

    def record(self, as_of: date) -> ProgramRecord:
        """The `ProgramRecord` of these facts as of `as_of` (see `build_record`)."""
        referral = next((entry for entry in self._referrals if entry.occurred_on <= as_of), None)
        return ProgramRecord(
            as_of=as_of,
            referral=referral,
            admission=self._admissions.first_until(as_of),
            discharge=self._discharges.first_until(as_of),
            evaluation=self._evaluations.first_until(as_of),
            reports=self._reports.until(as_of),
            sessions=self._sessions.until(as_of),
            absences=self._absences.until(as_of),
            tardies=self._tardies.until(as_of),
            reevaluations=self._reevaluations.until(as_of),
            medical_changes=self._medical_changes.until(as_of),
            repeat_approvals=self._repeat_approvals.until(as_of),
            conferences=self._conferences.until(as_of),
            session_days=self._session_days[: bisect_right(self._session_dates, as_of)],
            withdrawn=self._withdrawn,
        )


def _by_kind(facts: Sequence[Fact]) -> dict[type, list[tuple[int, Fact]]]:
    # One pass files every fact under its body's class, with its record position.
    kinds: dict[type, list[tuple[int, Fact]]] = {}
    for position, fact in enumerate(facts):
        kinds.setdefault(type(fact.data), []).append((position, fact))
    return kinds


def _of_kind(kinds: dict[type, list[tuple[int, Fact]]], model: type[B]) -> list[Entry[B]]:
    # The facts whose body is a `model`, in record order, as entries.
    found = [pair for kind, pairs in kinds.items() if issubclass(kind, model) for pair in pairs]
    return [
        Entry(fact.occurred_on, fact.version, fact.data)
        for _, fact in sorted(found, key=itemgetter(0))
        if isinstance(fact.data, model)  # always: it narrows the type
    ]


def _session_days(sessions: Sequence[Entry[SessionLogged]]) -> tuple[SessionDay, ...]:
    # A day's sessions are all in a cut or all out of it, so per-day sums over
    # every session, cut at as_of, equal the sums over the cut's sessions.
    hours: dict[date, Decimal] = {}
    ancillary: dict[date, int] = {}
    for session in sessions:  # in date order, so the days come out sorted
        on, body = session.occurred_on, session.body
        hours[on] = hours.get(on, Decimal(0)) + body.hours
        ancillary[on] = ancillary.get(on, 0) + body.ancillary_minutes.total
    return tuple(SessionDay(on, total, ancillary[on]) for on, total in hours.items())
