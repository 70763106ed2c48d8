"""Absences, tardiness and non-compliance (DIS-5, DIS-5a)."""

from __future__ import annotations

from .builders import Program, day, found, plus, weekdays

ADMITTED_ON = day("2026-03-02")
AS_OF = day("2026-05-29")


def admitted(program: Program) -> Program:
    program.referred(day("2026-02-27"))
    program.admitted(ADMITTED_ON)
    return program


def test_two_tardiness_entries_on_one_date_count_as_one_tardy_day(program: Program) -> None:
    admitted(program)
    program.tardy(day("2026-03-03"), 10)
    program.tardy(day("2026-03-03"), 25)
    program.tardy(day("2026-03-04"), 5)
    assert program.assess(AS_OF).tardy_days == 2


def test_absences_are_counted_by_distinct_date_and_excused_apart(program: Program) -> None:
    admitted(program)
    program.absence(day("2026-03-03"))
    program.absence(day("2026-03-03"))
    program.absence(day("2026-03-04"), excused=True)
    assessment = program.assess(AS_OF)
    assert assessment.unexcused_absences == 1
    assert assessment.excused_absences == 1
    assert assessment.absence_equivalents == 1


def test_fourteen_tardy_days_and_one_absence_are_three_equivalents_and_compliant(
    program: Program,
) -> None:
    admitted(program)
    program.absence(day("2026-03-02"))
    for d in weekdays(day("2026-03-03"), 14):
        program.tardy(d)
    assessment = program.assess(AS_OF)
    assert assessment.tardy_days == 14
    assert assessment.absence_equivalents == 3
    assert found(assessment, "non_compliance") == []
    assert "non_compliance" not in assessment.discharge_reasons


def test_fifteen_tardy_days_and_one_absence_are_four_equivalents_and_non_compliant(
    program: Program,
) -> None:
    admitted(program)
    program.absence(day("2026-03-02"))
    tardy_days = weekdays(day("2026-03-03"), 15)
    for d in tardy_days:
        program.tardy(d)
    assessment = program.assess(AS_OF)
    assert assessment.absence_equivalents == 4
    findings = found(assessment, "non_compliance")
    assert [(f.clause, f.severity, f.occurred_on) for f in findings] == [
        ("DIS-5a", "violation", tardy_days[-1])
    ]
    assert "4 absence equivalents" in findings[0].message
    assert "non_compliance" in assessment.discharge_reasons
    assert assessment.discharge_eligible


def test_three_unexcused_absences_are_allowed_and_the_fourth_is_not(program: Program) -> None:
    admitted(program)
    absent_on = weekdays(day("2026-03-03"), 4)
    for d in absent_on:
        program.absence(d)
    assert found(program.assess(absent_on[2]), "non_compliance") == []
    assert [f.occurred_on for f in found(program.assess(AS_OF), "non_compliance")] == [absent_on[3]]


def test_excused_absences_never_make_a_client_non_compliant(program: Program) -> None:
    admitted(program)
    for d in weekdays(day("2026-03-03"), 6):
        program.absence(d, excused=True)
    assessment = program.assess(AS_OF)
    assert assessment.excused_absences == 6
    assert assessment.absence_equivalents == 0
    assert found(assessment, "non_compliance") == []


def test_non_compliance_is_dated_when_the_limit_was_first_passed_not_as_of(
    program: Program,
) -> None:
    admitted(program)
    for offset in (1, 2, 3, 4, 5, 6):
        program.absence(plus(ADMITTED_ON, offset))
    findings = found(program.assess(AS_OF), "non_compliance")
    assert [f.occurred_on for f in findings] == [plus(ADMITTED_ON, 4)]


# R2: attendance counts inside the program only (admission to discharge).


def test_fourth_unexcused_absence_before_admission_counts_for_nothing(program: Program) -> None:
    admitted(program)
    for d in weekdays(day("2026-03-03"), 3):
        program.absence(d)
    program.absence(plus(ADMITTED_ON, -1))
    assessment = program.assess(AS_OF)
    assert assessment.unexcused_absences == 3
    assert assessment.absence_equivalents == 3
    assert found(assessment, "non_compliance") == []
    assert "non_compliance" not in assessment.discharge_reasons


def test_an_absence_on_the_admission_day_counts(program: Program) -> None:
    admitted(program)
    for d in weekdays(day("2026-03-03"), 3):
        program.absence(d)
    program.absence(ADMITTED_ON)
    assert [f.occurred_on for f in found(program.assess(AS_OF), "non_compliance")] == [
        day("2026-03-05")
    ]


def test_fourth_unexcused_absence_the_day_after_discharge_counts_for_nothing(
    program: Program,
) -> None:
    admitted(program)
    discharged_on = day("2026-03-20")
    program.discharged(discharged_on, "plateau")
    for d in weekdays(day("2026-03-03"), 3):
        program.absence(d)
    program.absence(plus(discharged_on, 1))
    assessment = program.assess(AS_OF)
    assert assessment.unexcused_absences == 3
    assert found(assessment, "non_compliance") == []


def test_fourth_unexcused_absence_on_the_discharge_day_counts(program: Program) -> None:
    admitted(program)
    discharged_on = day("2026-03-20")
    program.discharged(discharged_on, "non_compliance")
    for d in weekdays(day("2026-03-03"), 3):
        program.absence(d)
    program.absence(discharged_on)
    assessment = program.assess(AS_OF)
    assert assessment.unexcused_absences == 4
    assert [f.occurred_on for f in found(assessment, "non_compliance")] == [discharged_on]


def test_tardiness_before_admission_is_no_tardy_day(program: Program) -> None:
    admitted(program)
    program.tardy(plus(ADMITTED_ON, -2))
    program.tardy(ADMITTED_ON)
    assert program.assess(AS_OF).tardy_days == 1


def test_absences_without_an_admission_count_for_nothing(program: Program) -> None:
    program.referred(day("2026-02-27"))
    for d in weekdays(day("2026-03-03"), 5):
        program.absence(d)
    program.tardy(day("2026-03-03"))
    assessment = program.assess(AS_OF)
    assert (assessment.unexcused_absences, assessment.tardy_days) == (0, 0)
    assert found(assessment, "non_compliance") == []
