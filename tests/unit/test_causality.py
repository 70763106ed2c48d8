"""DOMAIN.md R1: the past is settled by the facts of the past.

A finding is dated the day its breach happened and judged only from facts
on or before that day: a deadline that passed stays missed when the late
document finally arrives, and a later as_of never takes a finding away.
"""

from __future__ import annotations

from datetime import date

from projections.compliance import Finding

from .builders import Program, day, found, plus

ADMITTED_ON = day("2026-03-02")  # a Monday: the 6th working day is Tue 10 Mar
SIXTH_WORKING_DAY = day("2026-03-10")
EIGHTH_WORKING_DAY = day("2026-03-12")


def admitted(program: Program, on: date = ADMITTED_ON) -> Program:
    program.referred(plus(on, -3))
    program.admitted(on)
    return program


def keys(findings: list[Finding]) -> list[tuple[str, str, date]]:
    return [(f.clause, f.severity, f.occurred_on) for f in findings]


# TS-e: the deadline that passed stays missed.


def test_documentation_on_the_eighth_working_day_leaves_the_warning_and_the_violation(
    program: Program,
) -> None:
    admitted(program).evaluated(ADMITTED_ON, documented_on=day("2026-03-16"))
    late = found(program.assess(day("2026-03-31")), "evaluation_documentation_late")
    assert keys(late) == [
        ("TS-e", "warning", SIXTH_WORKING_DAY),
        ("TS-e", "violation", EIGHTH_WORKING_DAY),
    ]
    assert "2026-03-16" in late[1].message


def test_an_initial_evaluation_posted_weeks_after_admission_keeps_the_ts_e_breach(
    program: Program,
) -> None:
    admitted(program).evaluated(plus(ADMITTED_ON, 21), documented_on=plus(ADMITTED_ON, 21))
    late = found(program.assess(plus(ADMITTED_ON, 40)), "evaluation_documentation_late")
    assert keys(late) == [
        ("TS-e", "warning", SIXTH_WORKING_DAY),
        ("TS-e", "violation", EIGHTH_WORKING_DAY),
    ]


def test_an_evaluation_held_before_admission_starts_the_ts_e_clock(program: Program) -> None:
    admitted(program).evaluated(plus(ADMITTED_ON, -3), documented_on=plus(ADMITTED_ON, 5))
    # Fri 27 Feb -> the 6th working day after it is Mon 9 Mar; documented Sat 7 Mar: on time.
    assert found(program.assess(plus(ADMITTED_ON, 40)), "evaluation_documentation_late") == []


def test_documentation_completed_the_day_before_the_sixth_working_day_is_on_time(
    program: Program,
) -> None:
    admitted(program).evaluated(ADMITTED_ON, documented_on=plus(SIXTH_WORKING_DAY, -1))
    assert found(program.assess(plus(ADMITTED_ON, 40)), "evaluation_documentation_late") == []


# TS-i: a late re-evaluation leaves the overdue finding.


def test_a_reevaluation_on_day_sixteen_leaves_the_overdue_finding_of_day_fifteen(
    program: Program,
) -> None:
    admitted(program).reevaluated(plus(ADMITTED_ON, 16))
    overdue = found(program.assess(plus(ADMITTED_ON, 20)), "reevaluation_overdue")
    assert keys(overdue) == [("TS-i", "violation", plus(ADMITTED_ON, 15))]
    assert str(plus(ADMITTED_ON, 16)) in overdue[0].message


# REP: a report filed after the deadline leaves the missed deadline.

DISCHARGED_ON = day("2026-04-10")


def test_a_report_filed_on_day_fifteen_after_discharge_leaves_the_missed_deadline(
    program: Program,
) -> None:
    admitted(program).discharged(DISCHARGED_ON, "plateau")
    program.report(plus(DISCHARGED_ON, 15))
    findings = found(program.assess(plus(DISCHARGED_ON, 30)), "report_incomplete")
    assert {f.occurred_on for f in findings} == {plus(DISCHARGED_ON, 15)}
    assert sorted(f.clause for f in findings) == ["REP-a", "REP-b", "REP-c", "REP-d", "REP-e"]
    assert all("filed" in f.message for f in findings)


def test_a_report_filed_on_day_fourteen_after_discharge_is_on_time(program: Program) -> None:
    admitted(program).discharged(DISCHARGED_ON, "plateau")
    program.report(plus(DISCHARGED_ON, 14))
    assert found(program.assess(plus(DISCHARGED_ON, 30)), "report_incomplete") == []


# COV-1: dated the repeat program's admission; a review on or before it clears it.


def test_a_repeat_program_is_flagged_on_its_admission_date(program: Program) -> None:
    admitted(program)
    findings = found(
        program.assess(ADMITTED_ON, earlier_programs_same_referral=["prog-1"]),
        "repeat_program_without_review",
    )
    assert keys(findings) == [("COV-1", "violation", ADMITTED_ON)]


def test_a_review_approved_the_day_after_admission_does_not_clear_the_repeat(
    program: Program,
) -> None:
    admitted(program).repeat_approved(plus(ADMITTED_ON, 1))
    findings = found(
        program.assess(plus(ADMITTED_ON, 5), earlier_programs_same_referral=["prog-1"]),
        "repeat_program_without_review",
    )
    assert keys(findings) == [("COV-1", "violation", ADMITTED_ON)]


def test_a_review_approved_on_the_admission_date_clears_the_repeat(program: Program) -> None:
    admitted(program).repeat_approved(ADMITTED_ON)
    assessment = program.assess(plus(ADMITTED_ON, 5), earlier_programs_same_referral=["prog-1"])
    assert found(assessment, "repeat_program_without_review") == []


def test_a_repeat_program_not_yet_admitted_has_no_cov_1_finding(program: Program) -> None:
    program.referred(ADMITTED_ON)
    assessment = program.assess(plus(ADMITTED_ON, 5), earlier_programs_same_referral=["prog-1"])
    assert found(assessment, "repeat_program_without_review") == []
