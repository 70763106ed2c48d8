"""Session standards (TS-f, TS-g, TS-k) and provider qualifications (PQ-1).

Policy 481: daily documentation of activities and response (TS-f); the
therapeutic activities a session may address, listed in the pack (TS-g, with
TS-h's work simulation: docs/domain.md R20); typical
frequency 4-8 hours a day, 3-5 days a week for 2-8 weeks (TS-k, numbers from
the pack's `typical`); components performed by licensed providers (PQ-1).
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right

from domain.policy import PolicyPack
from projections.calendar import week_first_day, week_last_day
from projections.model import Finding, format_hours, plural, violation, warning
from projections.record import ProgramRecord


def documentation_findings(record: ProgramRecord, pack: PolicyPack) -> list[Finding]:
    """Each session the clinic says was not documented that day (TS-f)."""
    return [
        violation(
            "daily_documentation_missing",
            "TS-f",
            session.occurred_on,
            f"Session of {format_hours(session.body.hours)} hours on {session.occurred_on}"
            f"{_by(session.body.provider.name)} was not documented that day (TS-f).",
        )
        for session in record.sessions
        if not session.body.documented
    ]


def activity_key(text: str) -> str:
    """An activity as the pack lists it: trimmed, lower case, spaces and hyphens as
    underscores ("Work simulation" is work_simulation)."""
    return "_".join(text.strip().lower().replace("-", " ").split())


def activity_findings(record: ProgramRecord, pack: PolicyPack) -> list[Finding]:
    """Each session that names none of the pack's therapeutic activities (TS-g, R20).
    Free text beside a listed activity is kept and not flagged."""
    listed = frozenset(pack.therapeutic_activities)
    if not listed:
        return []
    return [
        warning(
            "activities_not_listed",
            "TS-g",
            session.occurred_on,
            f"Session on {session.occurred_on}{_by(session.body.provider.name)} names "
            f"{_named(session.body.activities)}, none of the therapeutic activities the "
            "policy lists (TS-g).",
        )
        for session in record.sessions
        if not any(activity_key(a) in listed for a in session.body.activities)
    ]


def _named(activities: list[str]) -> str:
    shown = [a.strip() for a in activities if a.strip()]
    return "no activity" if not shown else "only " + ", ".join(f'"{a}"' for a in shown)


def provider_findings(record: ProgramRecord, pack: PolicyPack) -> list[Finding]:
    """Sessions and the initial evaluation performed without a licence number (PQ-1)."""
    findings = [
        violation(
            "unlicensed_provider",
            "PQ-1",
            session.occurred_on,
            f"Session on {session.occurred_on}{_by(session.body.provider.name)} has no "
            "licence number for the provider; the policy requires licensed providers (PQ-1).",
        )
        for session in record.sessions
        if not session.body.provider.licensed
    ]
    evaluation = record.evaluation
    if evaluation is not None and not evaluation.body.evaluator.licensed:
        findings.append(
            violation(
                "unlicensed_provider",
                "PQ-1",
                evaluation.occurred_on,
                f"Initial evaluation on {evaluation.occurred_on}"
                f"{_by(evaluation.body.evaluator.name)} has no licence number for the "
                "evaluator; the policy requires licensed providers (PQ-1).",
            )
        )
    return findings


def frequency_findings(record: ProgramRecord, pack: PolicyPack) -> list[Finding]:
    """Completed program weeks with too few days, and days with too few hours (TS-k).

    Only weeks 1 to the typical maximum count: later weeks are already past
    coverage (COV-2), and warning about their frequency would add nothing.
    A week cut short by discharge, or not over by D, is not completed.
    """
    start = record.admitted_on
    if start is None:
        return []
    typical = pack.typical
    last_typical_day = week_last_day(start, typical.max_weeks)
    hours = record.day_hours()
    days = list(hours)  # in date order: a week's days are one bisected range
    findings: list[Finding] = []
    for week in range(1, typical.max_weeks + 1):
        first, last = week_first_day(start, week), week_last_day(start, week)
        if last > record.window_end:
            break
        attended = bisect_right(days, last) - bisect_left(days, first)
        if attended < typical.min_days_per_week:
            findings.append(
                warning(
                    "below_typical_frequency",
                    "TS-k",
                    last,
                    f"Program week {week} ({first} to {last}) had "
                    f"{plural(attended, 'attended day')}; "
                    f"typical is {typical.min_days_per_week} to {typical.max_days_per_week} "
                    "days a week (TS-k).",
                )
            )
    # The days in program (from admission to discharge) and in the typical weeks.
    discharged_on = record.discharged_on
    end = last_typical_day if discharged_on is None else min(discharged_on, last_typical_day)
    for day in days[bisect_left(days, start) : bisect_right(days, end)]:
        day_hours = hours[day]
        if day_hours < typical.min_hours_per_day:
            findings.append(
                warning(
                    "below_typical_frequency",
                    "TS-k",
                    day,
                    f"{format_hours(day_hours)} hours attended on {day}; typical is "
                    f"{format_hours(typical.min_hours_per_day)} to "
                    f"{format_hours(typical.max_hours_per_day)} hours a day (TS-k).",
                )
            )
    return findings


# Discharge reasons that end a program early for cause (DIS-4, DIS-5):
# a short program then says nothing about its typical duration.
EARLY_END_REASONS = ("medical_condition_changed", "non_compliance")


def duration_findings(record: ProgramRecord, pack: PolicyPack) -> list[Finding]:
    """A discharge before the end of the typical minimum of weeks (TS-k, docs/domain.md R8).

    Not for a discharge on a change in medical condition (DIS-4) or
    non-compliance (DIS-5); dated the discharge.
    """
    start, discharge = record.admitted_on, record.discharge
    if start is None or discharge is None or discharge.body.reason in EARLY_END_REASONS:
        return []
    typical = pack.typical
    last = week_last_day(start, typical.min_weeks)
    on = discharge.occurred_on
    if on >= last:
        return []
    return [
        warning(
            "below_typical_frequency",
            "TS-k",
            on,
            f"Discharged on {on}, before the end of program week {typical.min_weeks} "
            f"({last}); typical duration is {typical.min_weeks} to {typical.max_weeks} "
            "weeks (TS-k).",
        )
    ]


def _by(name: str) -> str:
    return f" by {name.strip()}" if name.strip() else ""
