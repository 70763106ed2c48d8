"""Coverage (COV-1, COV-2): weeks, program window, repeat programs; and the
record itself: retractions, as_of, figures."""

from __future__ import annotations

import json
from decimal import Decimal
from uuid import uuid4

from .builders import LICENSED, PACK, Program, day, found, plus

ADMITTED_ON = day("2026-03-02")
LAST_DAY_OF_WEEK_EIGHT = plus(ADMITTED_ON, 7 * 8 - 1)


def admitted(program: Program) -> Program:
    program.referred(day("2026-02-27"))
    program.admitted(ADMITTED_ON)
    return program


# COV-2: eight weeks.


def test_the_last_day_of_week_eight_is_reimbursed(program: Program) -> None:
    admitted(program).session(LAST_DAY_OF_WEEK_EIGHT, "6")
    assessment = program.assess(LAST_DAY_OF_WEEK_EIGHT)
    assert found(assessment, "beyond_max_weeks") == []
    assert assessment.reimbursable_hours == Decimal("6")
    assert assessment.weeks_used == 8


def test_the_first_day_of_week_nine_is_beyond_max_weeks_and_not_reimbursed(
    program: Program,
) -> None:
    first_day_of_week_nine = plus(LAST_DAY_OF_WEEK_EIGHT, 1)
    admitted(program).session(first_day_of_week_nine, "6")
    assessment = program.assess(first_day_of_week_nine)
    findings = found(assessment, "beyond_max_weeks")
    assert [(f.clause, f.severity, f.occurred_on) for f in findings] == [
        ("COV-2", "violation", first_day_of_week_nine)
    ]
    assert "week 8" in findings[0].message
    assert assessment.reimbursable_hours == 0
    assert assessment.total_hours == Decimal("6")
    assert assessment.billing == ()
    assert assessment.weeks_used == 9


# COV-2: the program window.


def test_a_session_before_admission_is_outside_the_program(program: Program) -> None:
    admitted(program).session(day("2026-02-28"), "6")
    assessment = program.assess(day("2026-03-31"))
    findings = found(assessment, "session_outside_program")
    assert [(f.clause, f.severity, f.occurred_on) for f in findings] == [
        ("COV-2", "violation", day("2026-02-28"))
    ]
    assert assessment.total_hours == Decimal("6")
    assert assessment.days_attended == 1
    assert assessment.reimbursable_hours == 0


def test_a_session_with_no_admission_is_outside_the_program(program: Program) -> None:
    program.referred(day("2026-02-27"))
    program.session(day("2026-03-02"), "6")
    findings = found(program.assess(day("2026-03-31")), "session_outside_program")
    assert [f.occurred_on for f in findings] == [day("2026-03-02")]
    assert "not been admitted" in findings[0].message


def test_a_session_on_the_discharge_day_counts_and_the_day_after_does_not(
    program: Program,
) -> None:
    admitted(program).medical_change(day("2026-03-05"))
    program.discharged(day("2026-03-06"), "medical_condition_changed")
    program.session(day("2026-03-06"), "6")
    program.session(day("2026-03-09"), "6")
    assessment = program.assess(day("2026-03-31"))
    assert [f.occurred_on for f in found(assessment, "session_outside_program")] == [
        day("2026-03-09")
    ]
    assert found(assessment, "beyond_max_weeks") == []
    assert assessment.reimbursable_hours == Decimal("6")


# COV-1: one program per physician referral.


def test_a_repeat_program_without_review_breaks_cov_1(program: Program) -> None:
    admitted(program)
    findings = found(
        program.assess(ADMITTED_ON, earlier_programs_same_referral=["prog-1"]),
        "repeat_program_without_review",
    )
    # Rev 2 (R1): dated the repeat program's admission, not its referral.
    assert [(f.clause, f.severity, f.occurred_on) for f in findings] == [
        ("COV-1", "violation", ADMITTED_ON)
    ]
    assert "prog-1" in findings[0].message


def test_a_repeat_program_with_an_individual_review_is_covered(program: Program) -> None:
    admitted(program).repeat_approved(ADMITTED_ON)
    assessment = program.assess(ADMITTED_ON, earlier_programs_same_referral=["prog-1"])
    assert found(assessment, "repeat_program_without_review") == []


def test_a_first_program_on_a_referral_needs_no_review(program: Program) -> None:
    admitted(program)
    assert found(program.assess(ADMITTED_ON), "repeat_program_without_review") == []


# The record: retractions and as_of.


def test_a_retracted_session_no_longer_counts(program: Program) -> None:
    admitted(program)
    wrong = program.session(day("2026-03-03"), "8.25")
    program.retract(wrong, day("2026-03-04"))
    program.session(day("2026-03-03"), "7.5")
    assessment = program.assess(day("2026-03-31"))
    assert assessment.total_hours == Decimal("7.5")
    assert found(assessment, "daily_hours_over_cap") == []


def test_a_retraction_finds_its_target_whatever_the_uuid_spelling(program: Program) -> None:
    admitted(program)
    event_id = str(uuid4()).upper()  # as a client might have sent it
    program.add(
        "SessionLogged",
        day("2026-03-03"),
        {"hours": Decimal("8.25"), "provider": LICENSED},
        event_id=event_id,
    )
    program.add(
        "EntryRetracted", day("2026-03-04"), {"target_event_id": event_id.lower(), "reason": "x"}
    )
    assert program.assess(day("2026-03-31")).total_hours == 0


def test_a_retraction_dated_after_as_of_still_removes_its_target(program: Program) -> None:
    admitted(program)
    wrong = program.session(day("2026-03-03"), "6")
    program.retract(wrong, day("2026-03-20"))
    assert program.assess(day("2026-03-05")).total_hours == 0


def test_facts_that_occurred_after_as_of_do_not_count(program: Program) -> None:
    admitted(program)
    program.session(day("2026-03-03"), "6")
    program.session(day("2026-03-04"), "9")
    assessment = program.assess(day("2026-03-03"))
    assert assessment.total_hours == Decimal("6")
    assert assessment.days_attended == 1
    assert found(assessment, "daily_hours_over_cap") == []


def test_figures_are_json_ready_with_whole_hours_as_integers(program: Program) -> None:
    admitted(program)
    program.session(day("2026-03-03"), "6")
    program.session(day("2026-03-04"), "2.25")
    figures = program.assess(day("2026-03-04")).figures()
    assert json.loads(json.dumps(figures)) == figures
    assert figures["policy"] == PACK.id
    assert figures["admitted_on"] == "2026-03-02"
    assert figures["discharged_on"] is None
    assert figures["total_hours"] == 8.25
    assert figures["reimbursable_hours"] == 8.25
    assert isinstance(program.assess(day("2026-03-03")).figures()["total_hours"], int)
    assert "billing" not in figures
    assert figures["findings"], "the 2.25-hour day is below typical frequency (TS-k)"
    assert all(
        set(f) == {"code", "clause", "severity", "occurred_on", "message"}
        for f in figures["findings"]
    )


def test_a_compliant_program_has_no_findings(program: Program) -> None:
    admitted(program)
    program.evaluated(ADMITTED_ON, documented_on=day("2026-03-04"))
    for week in range(4):
        for weekday in range(5):
            program.session(plus(ADMITTED_ON, 7 * week + weekday), "6")
    # Rev 3 (R18): a re-evaluation documents progress by measures.
    program.reevaluated(plus(ADMITTED_ON, 14), measures={"lift_kg": 18})
    program.reevaluated(plus(ADMITTED_ON, 26), goals_met=True, measures={"lift_kg": 25})
    # Rev 2 (R7): routine staff conferencing (TS-j) is part of compliance.
    program.add("StaffConferenceHeld", plus(ADMITTED_ON, 13), {"attendees": ["PT"]})
    program.add("StaffConferenceHeld", plus(ADMITTED_ON, 26), {"attendees": ["PT"]})
    program.discharged(plus(ADMITTED_ON, 27), "goals_met")
    program.report(plus(ADMITTED_ON, 30))
    assessment = program.assess(plus(ADMITTED_ON, 40))
    assert assessment.findings == ()
    assert assessment.reimbursable_hours == Decimal("120")
    assert assessment.status == "discharged"
