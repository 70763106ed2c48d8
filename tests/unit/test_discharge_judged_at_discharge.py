"""DOMAIN.md R9: once discharged, the reasons explain the discharge.

discharge_eligible and discharge_reasons are judged as of the discharge
date whatever the as_of; coverage_exhausted only when the discharge itself
came after week 8.
"""

from __future__ import annotations

from .builders import Program, day, plus

ADMITTED_ON = day("2026-03-02")
LAST_DAY_OF_WEEK_EIGHT = plus(ADMITTED_ON, 55)


def admitted(program: Program) -> Program:
    program.referred(day("2026-02-27"))
    program.admitted(ADMITTED_ON)
    return program


def test_a_program_discharged_in_week_three_read_months_later_has_no_coverage_exhausted(
    program: Program,
) -> None:
    admitted(program).discharged(plus(ADMITTED_ON, 16), "plateau")
    assessment = program.assess(day("2026-09-30"))
    assert assessment.discharge_reasons == ()
    assert not assessment.discharge_eligible


def test_a_discharge_on_the_last_day_of_week_eight_has_no_coverage_exhausted(
    program: Program,
) -> None:
    admitted(program).discharged(LAST_DAY_OF_WEEK_EIGHT, "plateau")
    assert program.assess(day("2026-09-30")).discharge_reasons == ()


def test_a_discharge_on_the_first_day_of_week_nine_is_coverage_exhausted(
    program: Program,
) -> None:
    admitted(program).discharged(plus(LAST_DAY_OF_WEEK_EIGHT, 1), "plateau")
    assert program.assess(day("2026-09-30")).discharge_reasons == ("coverage_exhausted",)


def test_a_reevaluation_the_day_after_discharge_does_not_change_the_reasons(
    program: Program,
) -> None:
    admitted(program).reevaluated(plus(ADMITTED_ON, 10), goals_met=True)
    program.discharged(plus(ADMITTED_ON, 12), "goals_met")
    program.reevaluated(plus(ADMITTED_ON, 13), plateau=True)
    assert program.assess(plus(ADMITTED_ON, 20)).discharge_reasons == ("goals_met",)


def test_a_medical_change_the_day_after_discharge_adds_no_reason(program: Program) -> None:
    admitted(program).discharged(plus(ADMITTED_ON, 12), "plateau")
    program.medical_change(plus(ADMITTED_ON, 13))
    assessment = program.assess(plus(ADMITTED_ON, 20))
    assert assessment.discharge_reasons == ()
    assert not assessment.discharge_eligible


def test_a_medical_change_on_the_discharge_day_is_a_reason(program: Program) -> None:
    admitted(program).discharged(plus(ADMITTED_ON, 12), "medical_condition_changed")
    program.medical_change(plus(ADMITTED_ON, 12))
    assert program.assess(plus(ADMITTED_ON, 20)).discharge_reasons == ("medical_condition_changed",)
