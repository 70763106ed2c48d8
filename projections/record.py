"""The facts an assessment may use, sorted into a typed view of one program.

docs/domain.md: the facts are the events recorded by T, less those retracted by T,
that occurred on or before D. The caller has already cut the list at T; this
module drops what was retracted and what happened after D, and files the rest
by event type so each rule reads typed bodies, never raw facts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from functools import lru_cache
from typing import Generic, NamedTuple, TypeVar
from uuid import UUID

from domain.events import (
    AbsenceRecorded,
    DischargeReportFiled,
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
    reports: tuple[Entry[DischargeReportFiled], ...]  # every one, each judged on its own
    sessions: tuple[Entry[SessionLogged], ...]
    absences: tuple[Entry[AbsenceRecorded], ...]
    tardies: tuple[Entry[TardinessRecorded], ...]
    reevaluations: tuple[Entry[ProgressReEvaluated], ...]
    medical_changes: tuple[Entry[MedicalConditionChanged], ...]
    repeat_approvals: tuple[Entry[RepeatProgramApproved], ...]
    conferences: tuple[Entry[StaffConferenceHeld], ...]
    # Per date with a session, in date order: derived from `sessions` once
    # per program (see `projections.filing`), so left out of equality and repr.
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

    def in_course(self, entries: tuple[Entry[B], ...], until: date) -> list[Entry[B]]:
        """The entries of the program's course (re-evaluations, medical changes) dated
        from admission to `until`: none before admission (docs/domain.md R12)."""
        start = self.admitted_on
        if start is None:
            return []
        return [entry for entry in entries if start <= entry.occurred_on <= until]

    def day_hours(self) -> dict[date, Decimal]:
        """Session hours summed per date, for every date with a session, by date."""
        return {day.day: day.hours for day in self.session_days}
