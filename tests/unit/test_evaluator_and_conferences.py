"""DOMAIN.md R6 (TS-b qualified evaluator) and R7 (TS-j routine staff conferencing)."""

from __future__ import annotations

from datetime import date

import pytest

from .builders import PACK, Program, day, found, plus

ADMITTED_ON = day("2026-03-02")
INTERVAL = PACK.deadlines.conference_interval_days


def admitted(program: Program) -> Program:
    program.referred(day("2026-02-27"))
    program.admitted(ADMITTED_ON)
    return program


def evaluator(discipline: str) -> dict[str, str]:
    return {"name": "Lee Park", "discipline": discipline, "license_number": "L-1"}


# R6: the initial evaluation is by a physician, physical or occupational therapist.


@pytest.mark.parametrize(
    "discipline", ["physician", "physical_therapist", "occupational_therapist"]
)
def test_an_evaluation_by_a_physician_or_therapist_is_qualified(
    program: Program, discipline: str
) -> None:
    admitted(program).evaluated(ADMITTED_ON, evaluator=evaluator(discipline))
    assert found(program.assess(ADMITTED_ON), "evaluator_not_qualified") == []


@pytest.mark.parametrize(
    "discipline",
    ["Physical Therapist", "OCCUPATIONAL  therapist", "Physical_Therapist"],
)
def test_a_discipline_compares_case_insensitively_with_spaces_as_underscores(
    program: Program, discipline: str
) -> None:
    # docs/domain.md R15: "Physical Therapist" is physical_therapist.
    admitted(program).evaluated(ADMITTED_ON, evaluator=evaluator(discipline))
    assert found(program.assess(ADMITTED_ON), "evaluator_not_qualified") == []


@pytest.mark.parametrize("discipline", ["physical_therapist_assistant", "psychologist", "", "aide"])
def test_an_evaluation_by_anyone_else_is_not_qualified_under_ts_b(
    program: Program, discipline: str
) -> None:
    admitted(program).evaluated(plus(ADMITTED_ON, 1), evaluator=evaluator(discipline))
    findings = found(program.assess(plus(ADMITTED_ON, 30)), "evaluator_not_qualified")
    assert [(f.clause, f.severity, f.occurred_on) for f in findings] == [
        ("TS-b", "violation", plus(ADMITTED_ON, 1))
    ]


def test_the_pack_lists_the_qualified_evaluator_disciplines() -> None:
    assert set(PACK.qualified_evaluator_disciplines) == {
        "physician",
        "physical_therapist",
        "occupational_therapist",
    }


# R7: a staff conference within the interval of admission and of each conference.


def overdue(program: Program, as_of: date) -> list[tuple[str, str, date]]:
    return [
        (f.clause, f.severity, f.occurred_on)
        for f in found(program.assess(as_of), "staff_conference_overdue")
    ]


def conference(program: Program, on: date) -> None:
    program.add("StaffConferenceHeld", on, {"attendees": ["PT", "psychologist"]})


def test_the_pack_states_the_conference_interval_as_an_assumption() -> None:
    assert INTERVAL == 14
    assert any("conference_interval_days" in a for a in PACK.assumptions)


def test_no_conference_is_due_within_the_interval_of_admission(program: Program) -> None:
    admitted(program)
    assert overdue(program, plus(ADMITTED_ON, INTERVAL)) == []


def test_no_conference_by_the_day_after_the_interval_is_overdue_that_day(
    program: Program,
) -> None:
    admitted(program)
    assert overdue(program, plus(ADMITTED_ON, INTERVAL + 1)) == [
        ("TS-j", "warning", plus(ADMITTED_ON, INTERVAL + 1))
    ]


def test_a_conference_on_the_last_day_of_the_interval_restarts_it(program: Program) -> None:
    admitted(program)
    conference(program, plus(ADMITTED_ON, INTERVAL))
    assert overdue(program, plus(ADMITTED_ON, 2 * INTERVAL)) == []
    assert overdue(program, plus(ADMITTED_ON, 2 * INTERVAL + 1)) == [
        ("TS-j", "warning", plus(ADMITTED_ON, 2 * INTERVAL + 1))
    ]


def test_a_late_conference_leaves_the_overdue_finding(program: Program) -> None:
    admitted(program)
    conference(program, plus(ADMITTED_ON, INTERVAL + 3))
    assert overdue(program, plus(ADMITTED_ON, INTERVAL + 10)) == [
        ("TS-j", "warning", plus(ADMITTED_ON, INTERVAL + 1))
    ]


def test_discharge_within_the_interval_stops_the_conference_clock(program: Program) -> None:
    admitted(program).discharged(plus(ADMITTED_ON, INTERVAL), "plateau")
    assert overdue(program, plus(ADMITTED_ON, 90)) == []
