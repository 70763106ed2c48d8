"""Program weeks (COV-2, TS-k) and working days (TS-e)."""

from __future__ import annotations

from projections.calendar import (
    is_working_day,
    nth_working_day_after,
    week_first_day,
    week_last_day,
    week_number,
    working_days_between,
)

from .builders import PACK, day

US = PACK.deadlines.holiday_calendar


def test_admission_day_is_the_first_day_of_week_one() -> None:
    start = day("2026-03-04")  # a Wednesday: program weeks do not start on Mondays
    assert week_number(start, start) == 1
    assert week_number(start, day("2026-03-10")) == 1
    assert week_number(start, day("2026-03-11")) == 2


def test_a_day_before_admission_is_in_no_program_week() -> None:
    assert week_number(day("2026-03-04"), day("2026-03-03")) == 0


def test_week_eight_ends_on_day_fifty_six_and_week_nine_starts_the_day_after() -> None:
    start = day("2026-03-02")
    assert week_last_day(start, 8) == day("2026-04-26")
    assert week_first_day(start, 9) == day("2026-04-27")
    assert week_number(start, day("2026-04-26")) == 8
    assert week_number(start, day("2026-04-27")) == 9


def test_weekends_are_not_working_days() -> None:
    assert is_working_day(day("2026-03-06"), US)  # Friday
    assert not is_working_day(day("2026-03-07"), US)
    assert not is_working_day(day("2026-03-08"), US)


def test_thanksgiving_is_not_a_working_day_but_the_friday_after_is() -> None:
    assert not is_working_day(day("2026-11-26"), US)
    assert is_working_day(day("2026-11-27"), US)


def test_a_saturday_independence_day_is_observed_on_the_friday_before() -> None:
    assert not is_working_day(day("2026-07-03"), US)


def test_a_saturday_new_years_day_is_observed_on_the_last_day_of_the_year_before() -> None:
    assert not is_working_day(day("2021-12-31"), US)


def test_good_friday_is_a_working_day_because_it_is_no_federal_holiday() -> None:
    assert is_working_day(day("2026-04-03"), US)


def test_working_days_count_after_the_start_up_to_and_including_the_end() -> None:
    assert working_days_between(day("2026-03-02"), day("2026-03-02"), US) == 0
    assert working_days_between(day("2026-03-02"), day("2026-03-03"), US) == 1
    assert working_days_between(day("2026-03-06"), day("2026-03-09"), US) == 1  # Fri -> Mon
    assert working_days_between(day("2026-03-09"), day("2026-03-02"), US) == 0


def test_working_days_over_thanksgiving_week_skip_the_holiday() -> None:
    # Fri 20 Nov -> Mon 30 Nov 2026: 23, 24, 25, 27, 30 (26 is Thanksgiving).
    assert working_days_between(day("2026-11-20"), day("2026-11-30"), US) == 5


def test_the_nth_working_day_skips_an_observed_holiday() -> None:
    # After Fri 26 Jun 2026: 29, 30, 1, 2, (3 observed July 4th), 6, 7, 8.
    assert nth_working_day_after(day("2026-06-26"), 5, US) == day("2026-07-06")
    assert nth_working_day_after(day("2026-06-26"), 8, US) == day("2026-07-09")
