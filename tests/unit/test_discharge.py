"""Discharge reasons (DIS-1..5, coverage_exhausted), status and the report (REP-a..e)."""

from __future__ import annotations

import pytest

from .builders import Program, clauses, day, found, plus, weekdays

ADMITTED_ON = day("2026-03-02")


def admitted(program: Program) -> Program:
    program.referred(day("2026-02-27"))
    program.admitted(ADMITTED_ON)
    return program


# Status and weeks used.


def test_status_follows_referral_admission_and_discharge_as_of_each_date(
    program: Program,
) -> None:
    admitted(program).discharged(day("2026-03-20"), "plateau")
    assert program.assess(day("2026-02-28")).status == "referred"
    assert program.assess(day("2026-03-19")).status == "admitted"
    discharged = program.assess(day("2026-03-20"))
    assert discharged.status == "discharged"
    assert discharged.discharged_on == day("2026-03-20")


def test_weeks_used_counts_up_to_as_of_and_stops_at_discharge(program: Program) -> None:
    admitted(program).discharged(day("2026-03-20"), "plateau")
    assert program.assess(day("2026-03-01")).weeks_used == 0
    assert program.assess(ADMITTED_ON).weeks_used == 1
    assert program.assess(day("2026-03-09")).weeks_used == 2
    assert program.assess(day("2026-06-30")).weeks_used == 3


# Discharge reasons.


def test_the_latest_reevaluation_by_date_gives_the_reasons(program: Program) -> None:
    admitted(program)
    program.reevaluated(day("2026-03-20"), plateau=True, return_to_work_ready=True)
    program.reevaluated(day("2026-03-13"), goals_met=True)  # recorded later, happened earlier
    assessment = program.assess(day("2026-03-25"))
    assert assessment.discharge_reasons == ("return_to_work_ready", "plateau")
    assert assessment.discharge_eligible


def test_a_reevaluation_saying_nothing_clears_earlier_reasons(program: Program) -> None:
    admitted(program)
    program.reevaluated(day("2026-03-13"), goals_met=True)
    program.reevaluated(day("2026-03-20"))
    assessment = program.assess(day("2026-03-25"))
    assert assessment.discharge_reasons == ()
    assert not assessment.discharge_eligible


def test_a_medical_condition_change_makes_the_client_discharge_eligible(
    program: Program,
) -> None:
    admitted(program).medical_change(day("2026-03-10"))
    assert program.assess(day("2026-03-09")).discharge_reasons == ()
    assert program.assess(day("2026-03-10")).discharge_reasons == ("medical_condition_changed",)


def test_coverage_is_exhausted_only_after_the_last_day_of_week_eight(program: Program) -> None:
    admitted(program)
    last_day_of_week_eight = plus(ADMITTED_ON, 55)
    assert "coverage_exhausted" not in program.assess(last_day_of_week_eight).discharge_reasons
    assert program.assess(plus(last_day_of_week_eight, 1)).discharge_reasons == (
        "coverage_exhausted",
    )


def test_coverage_cannot_be_exhausted_without_an_admission(program: Program) -> None:
    program.referred(day("2025-01-06"))
    assert program.assess(day("2026-03-02")).discharge_reasons == ()


# discharge_reason_unsupported.


def unsupported(program: Program) -> list[tuple[str, str]]:
    findings = found(program.assess(day("2026-04-30")), "discharge_reason_unsupported")
    return [(f.clause, f.severity) for f in findings]


@pytest.mark.parametrize(
    ("reason", "clause"),
    [("goals_met", "DIS-1"), ("return_to_work_ready", "DIS-2"), ("plateau", "DIS-3")],
)
def test_a_reevaluation_reason_is_supported_by_a_reevaluation_saying_so(
    program: Program, reason: str, clause: str
) -> None:
    admitted(program).reevaluated(day("2026-03-16"), **{reason: True})
    program.discharged(day("2026-03-20"), reason)
    assert unsupported(program) == []


@pytest.mark.parametrize(
    ("reason", "clause"),
    [("goals_met", "DIS-1"), ("return_to_work_ready", "DIS-2"), ("plateau", "DIS-3")],
)
def test_a_reevaluation_reason_without_such_a_reevaluation_is_unsupported(
    program: Program, reason: str, clause: str
) -> None:
    admitted(program).reevaluated(day("2026-03-16"))
    program.discharged(day("2026-03-20"), reason)
    assert unsupported(program) == [(clause, "warning")]


def test_a_reevaluation_after_discharge_does_not_support_it(program: Program) -> None:
    admitted(program).discharged(day("2026-03-20"), "goals_met")
    program.reevaluated(day("2026-03-23"), goals_met=True)
    findings = found(program.assess(day("2026-04-30")), "discharge_reason_unsupported")
    assert [(f.clause, f.occurred_on) for f in findings] == [("DIS-1", day("2026-03-20"))]


def test_a_medical_condition_discharge_needs_a_recorded_change(program: Program) -> None:
    admitted(program).discharged(day("2026-03-20"), "medical_condition_changed")
    assert unsupported(program) == [("DIS-4", "warning")]
    supported = Program()
    admitted(supported).medical_change(day("2026-03-19"))
    supported.discharged(day("2026-03-20"), "medical_condition_changed")
    assert unsupported(supported) == []


def test_a_non_compliance_discharge_needs_absences_over_the_limit_by_then(
    program: Program,
) -> None:
    admitted(program)
    absent_on = weekdays(day("2026-03-03"), 4)
    for d in absent_on[:3]:
        program.absence(d)
    program.discharged(day("2026-03-20"), "non_compliance")
    program.absence(day("2026-03-23"))  # the fourth comes after discharge: too late
    assert unsupported(program) == [("DIS-5", "warning")]
    supported = Program()
    admitted(supported)
    for d in absent_on:
        supported.absence(d)
    supported.discharged(day("2026-03-20"), "non_compliance")
    assert unsupported(supported) == []


# REP-a..e: the written report.

DISCHARGED_ON = day("2026-03-20")


def discharged(program: Program) -> Program:
    admitted(program).medical_change(day("2026-03-19"))
    program.discharged(DISCHARGED_ON, "medical_condition_changed")
    return program


def test_a_complete_report_has_no_report_findings(program: Program) -> None:
    discharged(program).report(plus(DISCHARGED_ON, 3))
    assert found(program.assess(plus(DISCHARGED_ON, 60)), "report_incomplete") == []


def test_a_report_without_work_history_breaks_rep_a(program: Program) -> None:
    discharged(program).report(plus(DISCHARGED_ON, 3), work_history=" ")
    findings = found(program.assess(plus(DISCHARGED_ON, 60)), "report_incomplete")
    # The report, and the deadline that passed with no complete report (R17).
    assert [(f.clause, f.severity, f.occurred_on) for f in findings] == [
        ("REP-a", "violation", plus(DISCHARGED_ON, 3)),
        ("REP-a", "violation", plus(DISCHARGED_ON, 15)),
    ]


def test_each_empty_report_section_is_its_own_finding(program: Program) -> None:
    discharged(program).report(
        plus(DISCHARGED_ON, 3), demographics="", indications="", outcomes="", recommendations=""
    )
    # Each on the report's date, then again when the deadline passed without a
    # complete report (R17).
    assert clauses(program.assess(plus(DISCHARGED_ON, 14)), "report_incomplete") == [
        "REP-a",
        "REP-b",
        "REP-d",
        "REP-e",
    ]
    assert clauses(program.assess(plus(DISCHARGED_ON, 60)), "report_incomplete") == 2 * [
        "REP-a",
        "REP-b",
        "REP-d",
        "REP-e",
    ]


def test_no_report_is_due_until_fourteen_days_after_discharge(program: Program) -> None:
    discharged(program)
    assert found(program.assess(plus(DISCHARGED_ON, 14)), "report_incomplete") == []


def test_no_report_fifteen_days_after_discharge_misses_every_section(program: Program) -> None:
    discharged(program)
    findings = found(program.assess(plus(DISCHARGED_ON, 15)), "report_incomplete")
    assert [f.clause for f in findings] == ["REP-a", "REP-b", "REP-c", "REP-d", "REP-e"]
    assert {f.occurred_on for f in findings} == {plus(DISCHARGED_ON, 15)}
