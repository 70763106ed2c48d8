"""A program's story, day by day and week by week, read against the policy's caps.

What the program page charts (`api.ui.chart`) and lists as the chart's text
alternative: each date with its session hours and its other events (absences,
tardiness, re-evaluations, discharge), and each program week with its attended
days against the weekly cap.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from domain.policy import PolicyPack
from projections.calendar import week_number
from projections.record import ProgramRecord

WITHIN, OVER, UNPAID = "within", "over", "unpaid"


@dataclass
class Day:
    """One date: its hours, how they count, and its other events."""

    on: date
    week: int | None
    hours: Decimal = Decimal(0)
    # within the daily cap | over it | not reimbursable at all (outside the program,
    # after the last covered week, or past the weekly cap's attended days)
    kind: str = ""
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Week:
    """A program week: its dates and attended days against the weekly cap."""

    number: int
    start: date
    end: date
    attended: int
    cap: int

    @property
    def over(self) -> bool:
        return self.attended > self.cap


@dataclass(frozen=True)
class Marker:
    """An event drawn as a marker: absence, tardy or reeval."""

    kind: str
    on: date
    text: str


@dataclass(frozen=True)
class Story:
    record: ProgramRecord
    pack: PolicyPack
    days: list[Day]
    weeks: list[Week]
    markers: list[Marker]
    today: date

    @property
    def first_day(self) -> date:
        return min(
            [d.on for d in self.days] + [w.start for w in self.weeks], default=self.record.as_of
        )

    @property
    def last_day(self) -> date:
        """The chart's last day: its entries' and weeks', or `as_of` when later, but not
        past today when `as_of` lies ahead (then the chart ends at today, or at the
        last entry or week when later, and draws no "As of" line)."""
        drawn = max([d.on for d in self.days] + [w.end for w in self.weeks], default=None)
        if drawn is None:  # nothing dated to draw: one day, `as_of` (`first_day` too)
            return self.record.as_of
        return max(drawn, min(self.record.as_of, max(self.today, drawn)))


def _markers(record: ProgramRecord) -> list[Marker]:
    found = [
        Marker(
            "absence",
            a.occurred_on,
            f"{'Excused' if a.body.excused else 'Unexcused'} absence: {a.body.reason or '—'}",
        )
        for a in record.absences
    ]
    found += [
        Marker("tardy", t.occurred_on, f"Tardy {t.body.minutes_late} min") for t in record.tardies
    ]
    for r in record.reevaluations:
        said = [
            k.replace("_", " ")
            for k in ("goals_met", "return_to_work_ready", "plateau")
            if getattr(r.body, k)
        ]
        found.append(
            Marker(
                "reeval", r.occurred_on, f"Re-evaluation: {', '.join(said) if said else 'continue'}"
            )
        )
    return found


def program_story(record: ProgramRecord, pack: PolicyPack, today: date) -> Story:
    """Each date and program week of a program's record, as of the record's date (its
    weeks stop at `today` when that date lies ahead, bar entries dated later)."""
    limits = pack.limits
    start = record.admitted_on
    days: dict[date, Day] = {}

    def day(on: date) -> Day:
        if on not in days:
            days[on] = Day(on, week_number(start, on) if start and on >= start else None)
        return days[on]

    attended: dict[int, int] = {}
    for on, hours in record.day_hours().items():
        entry = day(on)
        entry.hours = hours
        nth = 0
        if entry.week is not None and record.in_program(on):
            attended[entry.week] = nth = attended.get(entry.week, 0) + 1
        paid = record.in_program(on) and 0 < (entry.week or 0) <= limits.max_weeks
        entry.kind = (
            UNPAID
            if not paid or nth > limits.max_days_per_week
            else OVER
            if hours > limits.max_hours_per_day
            else WITHIN
        )
    markers = _markers(record)
    for marker in markers:
        day(marker.on).notes.append(marker.text)
    if record.discharge is not None:
        reason = record.discharge.body.reason.replace("_", " ")
        day(record.discharge.occurred_on).notes.append(f"Discharged: {reason}")

    weeks: list[Week] = []
    if start is not None:
        # Weeks run to the program's end as of the record's date (its discharge, or
        # `as_of`), but never past today unless an entry or the last covered week is
        # later: how far in the future `as_of` lies must not decide what a page costs
        # (it drew 50,000 weeks, 17 MB, for as_of=2999-12-31).
        drawn = max([start + timedelta(days=7 * limits.max_weeks - 1), *days])
        last = max(drawn, min(record.window_end, today))
        for k in range(1, max(limits.max_weeks, week_number(start, last)) + 1):
            first = start + timedelta(days=7 * (k - 1))
            weeks.append(
                Week(
                    k,
                    first,
                    first + timedelta(days=6),
                    attended.get(k, 0),
                    limits.max_days_per_week,
                )
            )
    return Story(record, pack, sorted(days.values(), key=lambda d: d.on), weeks, markers, today)
