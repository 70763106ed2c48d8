"""Billing (COD-1, COD-2): 97545, 97546 and the CPT midpoint rule."""

from __future__ import annotations

from decimal import Decimal

import pytest

from projections.compliance import BillingDay, BillingLine
from projections.rules.coding import billing_lines

from .builders import PACK, Program, day, found

ADMITTED_ON = day("2026-03-02")
BILLED_ON = day("2026-03-03")
INITIAL = PACK.billing.initial_code
ADDITIONAL = PACK.billing.additional_code


def units(hours: str) -> list[tuple[str, int]]:
    return [(line.code, line.units) for line in billing_lines(Decimal(hours), PACK.billing)]


def billed(hours: str) -> tuple[BillingDay, ...]:
    program = Program()
    program.referred(day("2026-02-27"))
    program.admitted(ADMITTED_ON)
    program.session(BILLED_ON, hours)
    return program.assess(BILLED_ON).billing


@pytest.mark.parametrize(
    ("hours", "expected"),
    [
        ("2", [("97545", 1)]),
        ("2.5", [("97545", 1)]),  # 30 minutes past the initial block: under the midpoint
        ("2.52", [("97545", 1), ("97546", 1)]),  # 31.2 minutes: the midpoint reached
        ("3", [("97545", 1), ("97546", 1)]),
        ("5.5", [("97545", 1), ("97546", 3)]),
        ("5.52", [("97545", 1), ("97546", 4)]),
        ("8", [("97545", 1), ("97546", 6)]),
    ],
)
def test_hours_become_units_by_whole_hours_and_the_31_minute_midpoint(
    hours: str, expected: list[tuple[str, int]]
) -> None:
    assert units(hours) == expected
    assert (INITIAL, ADDITIONAL) == ("97545", "97546")


def test_under_the_initial_two_hours_nothing_is_billed() -> None:
    assert units("1.99") == []


def test_nine_hours_are_billed_as_eight() -> None:
    assert billed("9") == (
        BillingDay(BILLED_ON, Decimal("8"), (BillingLine("97545", 1), BillingLine("97546", 6))),
    )


def test_a_day_under_two_hours_is_not_listed_and_gets_a_cod_1_warning() -> None:
    program = Program()
    program.referred(day("2026-02-27"))
    program.admitted(ADMITTED_ON)
    program.session(BILLED_ON, "1.75")
    assessment = program.assess(BILLED_ON)
    assert assessment.billing == ()
    findings = found(assessment, "session_under_two_hours")
    assert [(f.clause, f.severity, f.occurred_on) for f in findings] == [
        ("COD-1", "warning", BILLED_ON)
    ]
    # It bills nothing, so none of its hours are reimbursable (docs/domain.md R19).
    assert assessment.reimbursable_hours == Decimal(0)


def test_a_two_hour_day_is_billed_without_a_cod_1_warning() -> None:
    assert [d.date for d in billed("2")] == [BILLED_ON]


def test_a_billing_day_serialises_hours_as_a_number() -> None:
    (billing_day,) = billed("2.52")
    assert billing_day.as_dict() == {
        "date": "2026-03-03",
        "hours": 2.52,
        "lines": [{"code": "97545", "units": 1}, {"code": "97546", "units": 1}],
    }
    (whole_day,) = billed("6")
    assert whole_day.as_dict()["hours"] == 6
    assert isinstance(whole_day.as_dict()["hours"], int)


def ancillary_findings(minutes: list[dict[str, int]]) -> list[tuple[str, str]]:
    program = Program()
    program.referred(day("2026-02-27"))
    program.admitted(ADMITTED_ON)
    for ancillary in minutes:
        program.session(BILLED_ON, "3", ancillary=ancillary)
    findings = found(program.assess(BILLED_ON), "ancillary_time_over_limit")
    return [(f.clause, f.severity) for f in findings]


def test_fifty_nine_ancillary_minutes_in_a_day_are_within_the_limit() -> None:
    assert ancillary_findings([{"97110": 30, "97530": 29}]) == []


def test_sixty_ancillary_minutes_across_a_days_sessions_break_cod_2() -> None:
    assert ancillary_findings([{"97110": 30}, {"97112": 20, "97530": 10}]) == [
        ("COD-2", "violation")
    ]
