"""The facts an assessment may use, sorted into a typed view of one program.

DOMAIN.md: the facts are the events recorded by T, less those retracted by T,
that occurred on or before D. The caller has already cut the list at T; this
module drops what was retracted and what happened after D, and files the rest
by event type so each rule reads typed bodies, never raw facts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Generic, TypeVar
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


def _normalised_id(event_id: str) -> str:
    # Event ids are UUIDs; compare them in one spelling (lower case, hyphens)
    # so a retraction finds its target however the client wrote it.
    try:
        return str(UUID(event_id))
    except ValueError:
        return event_id.strip().lower()


def effective_facts(facts: Sequence[Fact], as_of: date) -> list[Fact]:
    """The facts that count as of `as_of`: not retracted, occurred by `as_of`.

    A retraction counts whatever its own business date: it corrects the record
    (system time), it does not happen in the program's story.
    """
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
        and fact.occurred_on <= as_of
    ]


def _entries(facts: Sequence[Fact], model: type[B]) -> tuple[Entry[B], ...]:
    # Sorting by (occurred_on, version) makes every "earliest" and "latest"
    # independent of the order the facts were handed over in.
    found = [
        Entry(fact.occurred_on, fact.version, fact.data)
        for fact in facts
        if isinstance(fact.data, model)
    ]
    return tuple(sorted(found, key=lambda entry: (entry.occurred_on, entry.version)))


def _first(entries: tuple[Entry[B], ...]) -> Entry[B] | None:
    return entries[0] if entries else None


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
        if self.admitted_on is None or day < self.admitted_on:
            return False
        return self.discharged_on is None or day <= self.discharged_on

    def day_hours(self) -> dict[date, Decimal]:
        """Session hours summed per date, for every date with a session."""
        hours: dict[date, Decimal] = {}
        for session in self.sessions:
            hours[session.occurred_on] = (
                hours.get(session.occurred_on, Decimal(0)) + session.body.hours
            )
        return dict(sorted(hours.items()))


def build_record(facts: Sequence[Fact], as_of: date) -> ProgramRecord:
    """File the facts that count as of `as_of` into a `ProgramRecord`.

    The referral is the first remaining `ProgramReferred` in record order;
    for admission, discharge, evaluation and report the earliest by
    (occurred_on, version) wins (the application refuses a second one).
    """
    remaining = effective_facts(facts, as_of)
    referral = next(
        (
            Entry(fact.occurred_on, fact.version, fact.data)
            for fact in remaining
            if isinstance(fact.data, ProgramReferred)
        ),
        None,
    )
    return ProgramRecord(
        as_of=as_of,
        referral=referral,
        admission=_first(_entries(remaining, ProgramAdmitted)),
        discharge=_first(_entries(remaining, ProgramDischarged)),
        evaluation=_first(_entries(remaining, InitialEvaluationDocumented)),
        report=_first(_entries(remaining, DischargeReportFiled)),
        sessions=_entries(remaining, SessionLogged),
        absences=_entries(remaining, AbsenceRecorded),
        tardies=_entries(remaining, TardinessRecorded),
        reevaluations=_entries(remaining, ProgressReEvaluated),
        medical_changes=_entries(remaining, MedicalConditionChanged),
        repeat_approvals=_entries(remaining, RepeatProgramApproved),
    )
