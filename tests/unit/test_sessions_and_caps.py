"""Daily and weekly caps (COV-2), daily documentation (TS-f), licences (PQ-1)
and typical frequency (TS-k)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from .builders import UNLICENSED, Program, day, found, plus, weekdays

ADMITTED_ON = day("2026-03-02")  # a Monday
AS_OF = day("2026-03-31")


def admitted(program: Program) -> Program:
    program.referred(day("2026-02-27"))
    program.admitted(ADMITTED_ON)
    return program


# COV-2: hours a day.


def test_eight_hours_in_a_day_is_within_the_cap(program: Program) -> None:
    admitted(program).session(day("2026-03-04"), "8")
    assessment = program.assess(AS_OF)
    assert found(assessment, "daily_hours_over_cap") == []
    assert assessment.reimbursable_hours == Decimal("8")


def test_eight_and_a_quarter_hours_is_over_the_cap_and_reimbursed_as_eight(
    program: Program,
) -> None:
    admitted(program).session(day("2026-03-04"), "8.25")
    assessment = program.assess(AS_OF)
    findings = found(assessment, "daily_hours_over_cap")
    assert [(f.clause, f.severity, f.occurred_on) for f in findings] == [
        ("COV-2", "violation", day("2026-03-04"))
    ]
    assert findings[0].message == (
        "Logged 8.25 hours on 2026-03-04; policy reimburses up to 8 hours a day (COV-2)."
    )
    assert assessment.total_hours == Decimal("8.25")
    assert assessment.reimbursable_hours == Decimal("8")


def test_sessions_on_one_day_are_added_up_before_the_cap(program: Program) -> None:
    admitted(program)
    program.session(day("2026-03-04"), "5")
    program.session(day("2026-03-04"), "3.5")
    assessment = program.assess(AS_OF)
    assert [f.occurred_on for f in found(assessment, "daily_hours_over_cap")] == [day("2026-03-04")]
    assert assessment.days_attended == 1
    assert assessment.reimbursable_hours == Decimal("8")


# COV-2: days a week.


def test_a_fifth_day_in_a_program_week_is_reimbursed(program: Program) -> None:
    admitted(program).sessions(weekdays(ADMITTED_ON, 5), "6")
    assessment = program.assess(AS_OF)
    assert found(assessment, "weekly_days_over_cap") == []
    assert assessment.reimbursable_hours == Decimal("30")


def test_a_sixth_day_in_a_program_week_is_over_the_cap_and_not_reimbursed(
    program: Program,
) -> None:
    admitted(program).sessions([plus(ADMITTED_ON, i) for i in range(6)], "6")
    assessment = program.assess(AS_OF)
    findings = found(assessment, "weekly_days_over_cap")
    assert [(f.clause, f.severity, f.occurred_on) for f in findings] == [
        ("COV-2", "violation", plus(ADMITTED_ON, 5))
    ]
    assert assessment.days_attended == 6
    assert assessment.total_hours == Decimal("36")
    assert assessment.reimbursable_hours == Decimal("30")
    assert plus(ADMITTED_ON, 5) not in [b.date for b in assessment.billing]


def test_a_sixth_and_seventh_day_each_get_a_finding(program: Program) -> None:
    admitted(program).sessions([plus(ADMITTED_ON, i) for i in range(7)], "6")
    findings = found(program.assess(AS_OF), "weekly_days_over_cap")
    assert [f.occurred_on for f in findings] == [plus(ADMITTED_ON, 5), plus(ADMITTED_ON, 6)]


def test_program_weeks_start_on_the_admission_day_not_on_monday(program: Program) -> None:
    program.referred(day("2026-03-02"))
    program.admitted(day("2026-03-04"))  # Wednesday: week 1 is Wed 4 to Tue 10 March
    # Five days Wed-Sun in week 1, then Mon 9 is the 6th day of week 1 ...
    program.sessions([day(f"2026-03-{d:02d}") for d in (4, 5, 6, 7, 8, 9)], "6")
    # ... while Wed 11 opens week 2 and is fine.
    program.session(day("2026-03-11"), "6")
    findings = found(program.assess(AS_OF), "weekly_days_over_cap")
    assert [f.occurred_on for f in findings] == [day("2026-03-09")]


# TS-f and PQ-1.


def test_an_undocumented_session_is_a_daily_documentation_violation(program: Program) -> None:
    admitted(program).session(day("2026-03-03"), "6", documented=False)
    program.session(day("2026-03-04"), "6")
    findings = found(program.assess(AS_OF), "daily_documentation_missing")
    assert [(f.clause, f.severity, f.occurred_on) for f in findings] == [
        ("TS-f", "violation", day("2026-03-03"))
    ]


def test_two_undocumented_sessions_on_one_day_make_one_finding_naming_both(
    program: Program,
) -> None:
    admitted(program)
    program.session(day("2026-03-03"), "3", documented=False)
    program.session(day("2026-03-03"), "2.5", documented=False)
    findings = found(program.assess(AS_OF), "daily_documentation_missing")
    assert len(findings) == 1
    assert "3 hours" in findings[0].message
    assert "2.5 hours" in findings[0].message


def test_a_session_by_a_provider_without_licence_number_breaks_pq_1(program: Program) -> None:
    admitted(program)
    program.session(day("2026-03-03"), "6", provider=UNLICENSED)
    program.session(day("2026-03-04"), "6", provider={"name": "Jo", "license_number": "  "})
    program.session(day("2026-03-05"), "6")
    findings = found(program.assess(AS_OF), "unlicensed_provider")
    assert [(f.clause, f.severity, f.occurred_on) for f in findings] == [
        ("PQ-1", "violation", day("2026-03-03")),
        ("PQ-1", "violation", day("2026-03-04")),
    ]


# TS-k: typical frequency.


def below(program: Program, as_of: date = AS_OF) -> list[date]:
    return [f.occurred_on for f in found(program.assess(as_of), "below_typical_frequency")]


def test_a_completed_week_with_two_days_is_below_typical_frequency(program: Program) -> None:
    admitted(program).sessions(weekdays(ADMITTED_ON, 2), "6")
    # Week 1 ends Sun 8 March.
    assert below(program, day("2026-03-08")) == [day("2026-03-08")]


def test_a_completed_week_with_three_days_is_typical(program: Program) -> None:
    admitted(program).sessions(weekdays(ADMITTED_ON, 3), "6")
    assert below(program, day("2026-03-08")) == []


def test_a_week_still_running_on_as_of_is_not_judged_yet(program: Program) -> None:
    admitted(program).sessions(weekdays(ADMITTED_ON, 2), "6")
    assert below(program, day("2026-03-07")) == []


def test_a_week_cut_short_by_discharge_is_not_judged(program: Program) -> None:
    admitted(program).sessions(weekdays(ADMITTED_ON, 2), "6")
    program.discharged(day("2026-03-05"), "medical_condition_changed")
    assert below(program, day("2026-03-31")) == []


def test_a_day_under_four_hours_is_below_typical_frequency(program: Program) -> None:
    admitted(program)
    program.session(day("2026-03-03"), "3.75")
    program.session(day("2026-03-04"), "4")
    assert below(program, day("2026-03-07")) == [day("2026-03-03")]
