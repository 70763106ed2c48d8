"""DOMAIN.md R8: TS-k duration, 2 to 8 weeks.

A program discharged before the end of program week 2 for a reason other
than a change in medical condition (DIS-4) or non-compliance (DIS-5) gets
`below_typical_frequency` (TS-k, warning, dated the discharge).
"""

from __future__ import annotations

from datetime import date

import pytest

from .builders import PACK, Program, day, found, plus

ADMITTED_ON = day("2026-03-02")
END_OF_WEEK_TWO = plus(ADMITTED_ON, 7 * PACK.typical.min_weeks - 1)


def discharged(program: Program, on: date, reason: str) -> list[tuple[str, str, date]]:
    program.referred(day("2026-02-27"))
    program.admitted(ADMITTED_ON)
    # Three 6-hour days a week: the weeks themselves are typical.
    program.sessions(
        [plus(ADMITTED_ON, n) for n in (0, 1, 2, 7, 8, 9) if plus(ADMITTED_ON, n) <= on]
    )
    program.discharged(on, reason)
    return [
        (f.clause, f.severity, f.occurred_on)
        for f in found(program.assess(plus(on, 30)), "below_typical_frequency")
        if f.occurred_on == on
    ]


@pytest.mark.parametrize("reason", ["goals_met", "return_to_work_ready", "plateau"])
def test_a_discharge_the_day_before_week_two_ends_is_below_the_typical_duration(
    program: Program, reason: str
) -> None:
    on = plus(END_OF_WEEK_TWO, -1)
    assert discharged(program, on, reason) == [("TS-k", "warning", on)]


def test_a_discharge_on_the_last_day_of_week_two_is_within_the_typical_duration(
    program: Program,
) -> None:
    assert discharged(program, END_OF_WEEK_TWO, "goals_met") == []


@pytest.mark.parametrize("reason", ["medical_condition_changed", "non_compliance"])
def test_an_early_discharge_for_a_medical_change_or_non_compliance_is_not_flagged(
    program: Program, reason: str
) -> None:
    assert discharged(program, plus(ADMITTED_ON, 3), reason) == []
