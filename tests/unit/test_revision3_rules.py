"""docs/domain.md revision 3, the rules of a program's own facts: R12 (course facts
from admission), R17 (milestones in order, reports each on its own), R18 (the
re-evaluation and the medical record bind), R19 (billing counts what bills), R20
(TS-g activities from the pack). Each at its threshold; the expected values are
the rule's words, not the code's output."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from projections.rules.coding import billing_lines

from .builders import PACK, Program, day, found, plus

REFERRED_ON = day("2026-03-02")
ADMITTED_ON = day("2026-03-09")  # a Monday


def admitted(**referral: object) -> Program:
    program = Program()
    program.referred(REFERRED_ON, **referral)  # type: ignore[arg-type]
    program.admitted(ADMITTED_ON)
    return program


def dated(program: Program, code: str, as_of: date) -> list[tuple[str, str, date]]:
    return [(f.clause, f.severity, f.occurred_on) for f in found(program.assess(as_of), code)]


# ---- R12: course facts count from admission ----


def test_a_reevaluation_before_admission_supports_no_discharge_reason() -> None:
    program = Program()
    program.referred(REFERRED_ON)
    program.reevaluated(plus(ADMITTED_ON, -1), goals_met=True, measures={"lift_kg": 20})
    program.admitted(ADMITTED_ON)
    assert program.assess(plus(ADMITTED_ON, 3)).discharge_reasons == ()
    program.reevaluated(ADMITTED_ON, goals_met=True, measures={"lift_kg": 20})
    assert program.assess(plus(ADMITTED_ON, 3)).discharge_reasons == ("goals_met",)


def test_a_medical_change_before_admission_supports_no_discharge_reason() -> None:
    program = Program()
    program.referred(REFERRED_ON)
    program.medical_change(plus(ADMITTED_ON, -1))
    program.admitted(ADMITTED_ON)
    assert program.assess(plus(ADMITTED_ON, 3)).discharge_reasons == ()
    program.medical_change(ADMITTED_ON)
    assert program.assess(plus(ADMITTED_ON, 3)).discharge_reasons == ("medical_condition_changed",)


# ---- R17: milestones in order ----


def test_an_admission_before_the_referral_is_flagged_on_the_admission() -> None:
    program = Program()
    program.referred(ADMITTED_ON)
    program.admitted(plus(ADMITTED_ON, -1))
    assert dated(program, "admitted_before_referral", plus(ADMITTED_ON, 5)) == [
        ("REF-2", "violation", plus(ADMITTED_ON, -1))
    ]


def test_an_admission_on_the_referral_date_is_in_order() -> None:
    program = Program()
    program.referred(ADMITTED_ON)
    program.admitted(ADMITTED_ON)
    assert dated(program, "admitted_before_referral", plus(ADMITTED_ON, 5)) == []


def test_a_prescription_dated_after_admission_fails_ref_3_on_the_admission() -> None:
    late = admitted(prescribed_on=plus(ADMITTED_ON, 1))
    assert dated(late, "referral_incomplete", plus(ADMITTED_ON, 5)) == [
        ("REF-3", "violation", ADMITTED_ON)
    ]
    on_time = admitted(prescribed_on=ADMITTED_ON)
    assert dated(on_time, "referral_incomplete", plus(ADMITTED_ON, 5)) == []


DISCHARGED_ON = plus(ADMITTED_ON, 20)
DEADLINE = plus(DISCHARGED_ON, PACK.deadlines.report_deadline_days)


def discharged() -> Program:
    program = admitted()
    program.medical_change(plus(DISCHARGED_ON, -1))
    program.discharged(DISCHARGED_ON, "medical_condition_changed")
    return program


def test_a_report_before_the_discharge_is_not_the_discharge_report() -> None:
    program = discharged()
    program.report(plus(DISCHARGED_ON, -1))
    overdue = plus(DEADLINE, 1)
    assert dated(program, "report_incomplete", DEADLINE) == []
    assert {f for f in dated(program, "report_incomplete", overdue)} == {
        (clause, "violation", overdue) for clause in ("REP-a", "REP-b", "REP-c", "REP-d", "REP-e")
    }


def test_an_incomplete_report_stays_flagged_when_a_complete_amendment_follows() -> None:
    program = discharged()
    program.report(plus(DISCHARGED_ON, 2), outcomes="")
    program.report(plus(DISCHARGED_ON, 4))
    assert dated(program, "report_incomplete", plus(DEADLINE, 30)) == [
        ("REP-d", "violation", plus(DISCHARGED_ON, 2))
    ]


def test_the_deadline_is_met_only_by_a_complete_report() -> None:
    program = discharged()
    program.report(plus(DISCHARGED_ON, 2), outcomes="")
    overdue = plus(DEADLINE, 1)
    assert dated(program, "report_incomplete", overdue) == [
        ("REP-d", "violation", plus(DISCHARGED_ON, 2)),
        ("REP-d", "violation", overdue),
    ]
    program.report(plus(DEADLINE, 3))  # a complete one, late: the miss stays (R1)
    assert dated(program, "report_incomplete", plus(DEADLINE, 30)) == [
        ("REP-d", "violation", plus(DISCHARGED_ON, 2)),
        ("REP-d", "violation", overdue),
    ]


# ---- R18: the re-evaluation and the medical record bind ----


def test_a_session_after_a_reevaluation_finding_it_not_appropriate_is_flagged() -> None:
    program = admitted()
    reevaluated_on = plus(ADMITTED_ON, 7)
    program.reevaluated(reevaluated_on, appropriate_to_continue=False, measures={"lift": 9})
    program.session(reevaluated_on, "4")  # the same day: not after it
    program.session(plus(reevaluated_on, 1), "4")
    as_of = plus(reevaluated_on, 2)
    assert dated(program, "continued_when_not_appropriate", as_of) == [
        ("TS-i", "violation", plus(reevaluated_on, 1))
    ]
    assessment = program.assess(as_of)
    assert [b.date for b in assessment.billing] == [reevaluated_on]
    assert assessment.reimbursable_hours == Decimal(4)
    assert "not_appropriate_to_continue" in assessment.discharge_reasons
    assert assessment.discharge_eligible


def test_a_later_reevaluation_finding_it_appropriate_again_lifts_the_bar() -> None:
    program = admitted()
    program.reevaluated(plus(ADMITTED_ON, 7), appropriate_to_continue=False, measures={"x": 1})
    program.reevaluated(plus(ADMITTED_ON, 9), appropriate_to_continue=True, measures={"x": 2})
    program.session(plus(ADMITTED_ON, 10), "4")
    assessment = program.assess(plus(ADMITTED_ON, 11))
    assert found(assessment, "continued_when_not_appropriate") == []
    assert [b.date for b in assessment.billing] == [plus(ADMITTED_ON, 10)]


def test_a_session_while_a_medical_change_prohibits_participation_is_flagged() -> None:
    program = admitted()
    program.medical_change(plus(ADMITTED_ON, 2), prohibits=True)
    program.session(plus(ADMITTED_ON, 3), "4")
    program.medical_change(plus(ADMITTED_ON, 4), prohibits=False)
    program.session(plus(ADMITTED_ON, 5), "4")
    as_of = plus(ADMITTED_ON, 6)
    assert dated(program, "session_while_prohibited", as_of) == [
        ("ADM-7", "violation", plus(ADMITTED_ON, 3))
    ]
    assert [b.date for b in program.assess(as_of).billing] == [plus(ADMITTED_ON, 5)]


def test_a_reevaluation_without_measures_is_incomplete() -> None:
    program = admitted()
    program.reevaluated(plus(ADMITTED_ON, 7), goals_met=True)
    program.reevaluated(plus(ADMITTED_ON, 9), goals_met=True, measures={"lift_kg": 20})
    assert dated(program, "reevaluation_incomplete", plus(ADMITTED_ON, 10)) == [
        ("TS-i", "warning", plus(ADMITTED_ON, 7))
    ]


# ---- R19: billing counts what bills ----


def test_days_under_two_hours_take_no_slot_of_the_week() -> None:
    program = admitted()
    program.session(ADMITTED_ON, "1.5")  # bills nothing
    for offset in range(1, 6):
        program.session(plus(ADMITTED_ON, offset), "3")
    assessment = program.assess(plus(ADMITTED_ON, 6))
    assert [b.date for b in assessment.billing] == [plus(ADMITTED_ON, o) for o in range(1, 6)]
    assert found(assessment, "weekly_days_over_cap") == []
    assert assessment.reimbursable_hours == Decimal(15)


@pytest.mark.parametrize(
    ("hours", "additional_units"),
    [("2.5", 0), ("2.51", 1), ("3.5", 1), ("3.51", 2)],
)
def test_the_midpoint_is_more_than_thirty_minutes_in_exact_minutes(
    hours: str, additional_units: int
) -> None:
    lines = [(line.code, line.units) for line in billing_lines(Decimal(hours), PACK.billing)]
    expected = [("97545", 1)] + ([("97546", additional_units)] if additional_units else [])
    assert lines == expected


@pytest.mark.parametrize(
    ("minutes", "units"),
    [
        ({"97110": 7}, []),
        ({"97110": 8}, [("97110", 1)]),
        ({"97110": 22}, [("97110", 1)]),
        ({"97110": 23}, [("97110", 2)]),
        ({"97110": 20, "97530": 10, "97112": 7}, [("97110", 1), ("97530", 1)]),
        ({"97110": 30, "97530": 29}, [("97110", 2), ("97530", 2)]),
        ({"97110": 30, "97530": 30}, []),  # 60 minutes: none of them bills (COD-2)
    ],
)
def test_ancillary_codes_bill_fifteen_minute_units_beside_97545(
    minutes: dict[str, int], units: list[tuple[str, int]]
) -> None:
    program = admitted()
    program.session(ADMITTED_ON, "2", ancillary=minutes)
    (billed,) = program.assess(ADMITTED_ON).billing
    assert [(line.code, line.units) for line in billed.lines] == [("97545", 1), *units]
    assert billed.hours == Decimal(2)  # the minutes are beside the hours, not in them


def test_ancillary_minutes_bill_nothing_on_a_day_without_97545() -> None:
    program = admitted()
    program.session(ADMITTED_ON, "1.5", ancillary={"97110": 30})
    assert program.assess(ADMITTED_ON).billing == ()


# ---- R20: TS-g activities from the pack ----


@pytest.mark.parametrize(
    ("activities", "flagged"),
    [
        ([], True),
        (["stretching with the group"], True),
        (["work_simulation"], False),
        (["Work Simulation", "lunch"], False),  # named as spoken; free text beside it kept
        (["adl_tolerance"], False),
        ([" "], True),
    ],
)
def test_a_session_naming_none_of_the_listed_activities_gets_a_ts_g_warning(
    activities: list[str], flagged: bool
) -> None:
    program = admitted()
    program.session(ADMITTED_ON, "4", activities=activities)
    expected = [("TS-g", "warning", ADMITTED_ON)] if flagged else []
    assert dated(program, "activities_not_listed", ADMITTED_ON) == expected


def test_the_pack_lists_the_policys_ten_activities_and_work_simulation() -> None:
    assert len(PACK.therapeutic_activities) == 11
    assert "work_simulation" in PACK.therapeutic_activities
    assert {"TS-g", "TS-h"} <= set(PACK.clauses)
