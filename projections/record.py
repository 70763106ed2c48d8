"""The facts an assessment may use, sorted into a typed view of one program.

docs/domain.md: the facts are the events recorded by T, less those retracted by T,
that occurred on or before D. The caller has already cut the list at T; this
module drops what was retracted and what happened after D, and files the rest
by event type so each rule reads typed bodies, never raw facts.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from functools import lru_cache
from operator import itemgetter
from typing import Generic, NamedTuple, TypeVar
from uuid import UUID

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
    Strict,
    TardinessRecorded,
)
from domain.facts import Fact

B = TypeVar("B", bound=Strict)


@dataclass(frozen=True)
class Entry(Generic[B]):
    """One remaining fact: its business date, its version and its typed body."""

    occurred_on: date
    version: int
    body: B


@lru_cache(maxsize=65536)
def _normalised_id(event_id: str) -> str:
    # Event ids are UUIDs; compare them in one spelling (lower case, hyphens)
    # so a retraction finds its target however the client wrote it. Cached:
    # every assessment of a program parses the same ids again.
    try:
        return str(UUID(event_id))
    except ValueError:
        return event_id.strip().lower()


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


class SessionDay(NamedTuple):
    """One date's sessions, summed: hours, and ancillary minutes (COD-2)."""

    day: date
    hours: Decimal
    ancillary_minutes: int


@dataclass(frozen=True)
class ProgramRecord:
    """A program's remaining facts as of one business date, filed by type."""

    as_of: date
    referral: Entry[ProgramReferred] | None
    admission: Entry[ProgramAdmitted] | None
    discharge: Entry[ProgramDischarged] | None
    evaluation: Entry[InitialEvaluationDocumented] | None
    report: Entry[DischargeReportFiled] | None
    sessions: tuple[Entry[SessionLogged], ...]
    absences: tuple[Entry[AbsenceRecorded], ...]
    tardies: tuple[Entry[TardinessRecorded], ...]
    reevaluations: tuple[Entry[ProgressReEvaluated], ...]
    medical_changes: tuple[Entry[MedicalConditionChanged], ...]
    repeat_approvals: tuple[Entry[RepeatProgramApproved], ...]
    conferences: tuple[Entry[StaffConferenceHeld], ...]
    # Per date with a session, in date order: derived from `sessions` once
    # per program (see `FiledFacts`), so left out of equality and repr.
    session_days: tuple[SessionDay, ...] = field(repr=False, compare=False)
    # Every referral of the program is retracted (docs/domain.md R10): the record
    # then holds no facts at all, so there are no figures and no findings.
    withdrawn: bool = False

    @property
    def referred_on(self) -> date | None:
        """The referral date, or None when no referral remains."""
        return self.referral.occurred_on if self.referral else None

    @property
    def admitted_on(self) -> date | None:
        """The admission date: program start and first day of week 1."""
        return self.admission.occurred_on if self.admission else None

    @property
    def discharged_on(self) -> date | None:
        """The discharge date, or None while the program runs."""
        return self.discharge.occurred_on if self.discharge else None

    @property
    def window_end(self) -> date:
        """The last day the program can be judged on: as_of, or discharge if earlier."""
        if self.discharged_on is not None and self.discharged_on < self.as_of:
            return self.discharged_on
        return self.as_of

    def in_program(self, day: date) -> bool:
        """Whether `day` is on or after admission and not after discharge."""
        admission, discharge = self.admission, self.discharge
        if admission is None or day < admission.occurred_on:
            return False
        return discharge is None or day <= discharge.occurred_on

    def day_hours(self) -> dict[date, Decimal]:
        """Session hours summed per date, for every date with a session, by date."""
        return {day.day: day.hours for day in self.session_days}


def build_record(facts: Sequence[Fact], as_of: date) -> ProgramRecord:
    """File the facts that count as of `as_of` into a `ProgramRecord`.

    The referral is the first remaining `ProgramReferred` in record order;
    for admission, discharge, evaluation and report the earliest by
    (occurred_on, version) wins (the application refuses a second one).
    """
    return FiledFacts(facts).record(as_of)


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
            report=self._reports.first_until(as_of),
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
