"""Attendance and non-compliance (DIS-5, DIS-5a).

Policy 481, discharge criterion 5: "The client is allowed no more than 3
unexcused absences; 5 days of tardiness are equivalent to 1 absence." Both
numbers come from the pack. Counts are of distinct dates: two tardiness
entries on one day are one tardy day. Only dates from admission to
discharge count (docs/domain.md R2).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from domain.policy import PolicyPack
from projections.model import Finding, plural, violation
from projections.record import ProgramRecord


@dataclass(frozen=True)
class Attendance:
    """Distinct absence and tardiness dates, and what they add up to."""

    unexcused_dates: frozenset[date]
    excused_dates: frozenset[date]
    tardy_dates: frozenset[date]
    tardy_days_per_absence: int
    max_unexcused_absences: int

    @property
    def unexcused_absences(self) -> int:
        return len(self.unexcused_dates)

    @property
    def excused_absences(self) -> int:
        return len(self.excused_dates)

    @property
    def tardy_days(self) -> int:
        return len(self.tardy_dates)

    @property
    def absence_equivalents(self) -> int:
        """Unexcused absences plus one per full set of tardy days (DIS-5a)."""
        return self.unexcused_absences + self.tardy_days // self.tardy_days_per_absence

    @property
    def non_compliant(self) -> bool:
        """Whether absence equivalents exceed what the policy allows (DIS-5a)."""
        return self.absence_equivalents > self.max_unexcused_absences

    def first_exceeded_on(self) -> date | None:
        """The date absence equivalents first went over the limit, if they did."""
        unexcused = tardy = 0
        for day in sorted(self.unexcused_dates | self.tardy_dates):
            unexcused += day in self.unexcused_dates
            tardy += day in self.tardy_dates
            if unexcused + tardy // self.tardy_days_per_absence > self.max_unexcused_absences:
                return day
        return None

    def up_to(self, day: date) -> Attendance:
        """The same counts, taking only dates on or before `day`."""
        return Attendance(
            frozenset(d for d in self.unexcused_dates if d <= day),
            frozenset(d for d in self.excused_dates if d <= day),
            frozenset(d for d in self.tardy_dates if d <= day),
            self.tardy_days_per_absence,
            self.max_unexcused_absences,
        )


def attendance(record: ProgramRecord, pack: PolicyPack) -> Attendance:
    """Count unexcused absences, excused absences and tardy days, by distinct date.

    Only dates inside the program count (docs/domain.md R2): an absence before
    admission or after discharge stays in the trail and counts for nothing.
    """
    absences = [a for a in record.absences if record.in_program(a.occurred_on)]
    return Attendance(
        unexcused_dates=frozenset(a.occurred_on for a in absences if not a.body.excused),
        excused_dates=frozenset(a.occurred_on for a in absences if a.body.excused),
        tardy_dates=frozenset(
            t.occurred_on for t in record.tardies if record.in_program(t.occurred_on)
        ),
        tardy_days_per_absence=pack.limits.tardy_days_per_absence,
        max_unexcused_absences=pack.limits.max_unexcused_absences,
    )


def non_compliance_findings(counts: Attendance, pack: PolicyPack) -> list[Finding]:
    """One finding when absence equivalents exceed the limit, dated when they first did."""
    exceeded_on = counts.first_exceeded_on()
    if exceeded_on is None:
        return []
    limits = pack.limits
    at = counts.up_to(exceeded_on)
    return [
        violation(
            "non_compliance",
            "DIS-5a",
            exceeded_on,
            f"By {exceeded_on}: {plural(at.unexcused_absences, 'unexcused absence')} and "
            f"{plural(at.tardy_days, 'tardy day')} make "
            f"{plural(at.absence_equivalents, 'absence equivalent')} "
            f"({limits.tardy_days_per_absence} tardy days count as 1 absence); the policy "
            f"allows no more than {limits.max_unexcused_absences} (DIS-5a).",
        )
    ]
