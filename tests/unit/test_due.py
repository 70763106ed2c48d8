"""Due dates (API.md revision 2): each obligation's date from the policy's own numbers.

Expected dates are counted here from the calendar and the pack (March 2026
has no US federal holiday), not taken from the code under test.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from projections.due import due

from .builders import PACK, Program, day, plus

ADMITTED_ON = day("2026-03-02")  # a Monday


def listed(program: Program, as_of: date) -> list[dict[str, Any]]:
    return due(program.facts, PACK, as_of).as_dict()["obligations"]


def budgets(program: Program, as_of: date) -> dict[str, Any]:
    budget: dict[str, Any] = due(program.facts, PACK, as_of).as_dict()["budgets"]
    return budget


def admitted(program: Program) -> Program:
    program.referred(day("2026-02-27"))
    program.admitted(ADMITTED_ON)
    return program


def test_nothing_is_due_before_admission(program: Program) -> None:
    program.referred(day("2026-02-27"))
    assert listed(program, day("2026-03-01")) == []
    assert budgets(program, day("2026-03-01")) == {
        "absence_equivalents_left": 3,
        "days_left_this_week": 0,
        "weeks_left": 8,
        "reimbursable_hours_used": 0,
    }


def test_an_admitted_program_owes_documentation_reevaluation_conference_and_has_coverage_end(
    program: Program,
) -> None:
    admitted(program)
    # TS-e: 5 working days after Mon 2 March is Mon 9 March (the last day without a
    # warning), 7 is Wed 11 March. TS-i and TS-j: 14 days. COV-2: 8 weeks = 56 days.
    assert listed(program, ADMITTED_ON) == [
        {
            "kind": "evaluation_documentation",
            "clause": "TS-e",
            "due_on": "2026-03-09",
            "status": "open",
            "violation_on": "2026-03-11",
        },
        {"kind": "reevaluation", "clause": "TS-i", "due_on": "2026-03-16", "status": "open"},
        {"kind": "staff_conference", "clause": "TS-j", "due_on": "2026-03-16", "status": "open"},
        {"kind": "coverage_end", "clause": "COV-2", "due_on": "2026-04-26", "status": "open"},
    ]


def test_an_obligation_past_its_date_is_missed_until_fulfilled(program: Program) -> None:
    admitted(program)
    kinds = {o["kind"]: o["status"] for o in listed(program, day("2026-03-10"))}
    assert kinds["evaluation_documentation"] == "missed"
    assert kinds["reevaluation"] == "open"
    program.evaluated(ADMITTED_ON, documented_on=day("2026-03-12"))
    assert "evaluation_documentation" in {o["kind"] for o in listed(program, day("2026-03-11"))}
    assert "evaluation_documentation" not in {o["kind"] for o in listed(program, day("2026-03-12"))}


def test_a_reevaluation_or_conference_restarts_its_clock(program: Program) -> None:
    admitted(program)
    program.reevaluated(day("2026-03-10"))
    program.add("StaffConferenceHeld", day("2026-03-20"), {"attendees": ["PT"]})
    dates = {o["kind"]: (o["due_on"], o["status"]) for o in listed(program, day("2026-03-20"))}
    assert dates["reevaluation"] == ("2026-03-24", "open")
    # Held late: the conference due on 16 March was missed, the next is due 3 April.
    assert dates["staff_conference"] == ("2026-04-03", "open")


def test_after_discharge_only_the_report_and_undone_documentation_are_due(
    program: Program,
) -> None:
    admitted(program)
    program.discharged(day("2026-03-04"))
    assert listed(program, day("2026-03-04")) == [
        {
            "kind": "evaluation_documentation",
            "clause": "TS-e",
            "due_on": "2026-03-09",
            "status": "open",
            "violation_on": "2026-03-11",
        },
        {"kind": "discharge_report", "clause": "REP", "due_on": "2026-03-18", "status": "open"},
    ]
    program.evaluated(ADMITTED_ON, documented_on=ADMITTED_ON)
    program.report(day("2026-03-19"))
    assert [o["status"] for o in listed(program, day("2026-03-18"))] == ["open"]
    assert listed(program, day("2026-03-19")) == []


def test_a_withdrawn_program_owes_nothing(program: Program) -> None:
    referral = program.referred(day("2026-02-27"))
    program.admitted(ADMITTED_ON)
    program.retract(referral, day("2026-02-27"))
    assert listed(program, day("2026-03-20")) == []


def test_budgets_count_what_is_left_of_the_week_the_program_and_absences(
    program: Program,
) -> None:
    admitted(program)
    # Week 2 runs Mon 9 to Sun 15 March: three attended days by Wednesday 11th.
    program.sessions([day("2026-03-09"), day("2026-03-10"), day("2026-03-11")], "9")
    program.absence(day("2026-03-05"))
    for n in range(5):
        program.tardy(plus(ADMITTED_ON, n))
    assert budgets(program, day("2026-03-11")) == {
        "absence_equivalents_left": 1,  # 1 absence + 5 tardy days // 5
        "days_left_this_week": 2,  # 5 a week, 3 used
        "weeks_left": 6,  # week 2 of 8 in progress
        "reimbursable_hours_used": 24,  # 3 days at the 8-hour cap
    }
    # Saturday 14th: two days of the week remain (14th and 15th), two allowed.
    assert budgets(program, day("2026-03-14"))["days_left_this_week"] == 2
    # Sunday 15th: one calendar day left.
    assert budgets(program, day("2026-03-15"))["days_left_this_week"] == 1


def test_absence_budget_never_goes_below_zero(program: Program) -> None:
    admitted(program)
    for n in range(5):
        program.absence(plus(ADMITTED_ON, n))
    assert budgets(program, plus(ADMITTED_ON, 5))["absence_equivalents_left"] == 0


def test_past_the_last_covered_week_no_days_or_weeks_are_left(program: Program) -> None:
    admitted(program)
    after = plus(ADMITTED_ON, 7 * PACK.limits.max_weeks)
    assert budgets(program, after)["days_left_this_week"] == 0
    assert budgets(program, after)["weeks_left"] == 0
    coverage = [o for o in listed(program, after) if o["kind"] == "coverage_end"]
    assert coverage == [
        {"kind": "coverage_end", "clause": "COV-2", "due_on": "2026-04-26", "status": "missed"}
    ]
