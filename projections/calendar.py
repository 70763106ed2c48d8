"""Program weeks and working days: the two calendars the policy counts in.

Program weeks (COV-2, TS-k) start on the admission date, not on a Monday:
week k runs from `start + 7(k-1)` to `start + 7k - 1`. Working days (TS-e)
skip Saturdays, Sundays and the observed public holidays of the pack's
holiday calendar (for "US": the federal holidays, with a Saturday holiday
observed on the Friday before and a Sunday one on the Monday after).
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache

import holidays

# Calendar facts, not policy numbers: a week has seven days, Saturday is 5.
DAYS_PER_WEEK = 7
SATURDAY = 5
ONE_DAY = timedelta(days=1)


def week_number(start: date, day: date) -> int:
    """The program week `day` falls in, counting the admission week as 1.

    Days before `start` give 0 or less: they belong to no program week.
    """
    return (day - start).days // DAYS_PER_WEEK + 1


def week_first_day(start: date, week: int) -> date:
    """The first day of program week `week` of a program admitted on `start`."""
    return start + timedelta(days=DAYS_PER_WEEK * (week - 1))


def week_last_day(start: date, week: int) -> date:
    """The last day of program week `week` of a program admitted on `start`."""
    return start + timedelta(days=DAYS_PER_WEEK * week - 1)


@lru_cache(maxsize=512)
def _holidays_in(calendar: str, year: int) -> frozenset[date]:
    # country_holidays includes observed days by default; an observed New
    # Year's Day on 31 December is listed under the year it falls in.
    return frozenset(holidays.country_holidays(calendar, years=year).keys())


def is_working_day(day: date, calendar: str) -> bool:
    """Whether `day` is a working day: a weekday that is no observed holiday."""
    return day.weekday() < SATURDAY and day not in _holidays_in(calendar, day.year)


def working_days_between(start: date, end: date, calendar: str) -> int:
    """Working days after `start`, up to and including `end` (0 if end <= start)."""
    count = 0
    day = start + ONE_DAY
    while day <= end:
        if is_working_day(day, calendar):
            count += 1
        day += ONE_DAY
    return count


def nth_working_day_after(start: date, n: int, calendar: str) -> date:
    """The `n`-th working day after `start` (n >= 1); `start` itself never counts."""
    if n < 1:
        raise ValueError("n must be at least 1")
    day = start
    found = 0
    while found < n:
        day += ONE_DAY
        if is_working_day(day, calendar):
            found += 1
    return day


def interval_deadline(anchor: date, interval: int) -> date:
    """The last day within `interval` days of `anchor` (TS-i, TS-j): due by then."""
    return anchor + timedelta(days=interval)


def last_anchor(start: date, anchors: list[date], end: date) -> date:
    """The clock's latest start (TS-i, TS-j): `start` or the last anchor from `start`
    to `end`, the one the next deadline runs from."""
    return max([start, *(a for a in anchors if start <= a <= end)])


def overdue_gaps(
    start: date, anchors: list[date], interval: int, end: date
) -> list[tuple[date, date | None, date]]:
    """Where a thing expected every `interval` days (TS-i, TS-j) was overdue.

    The clock starts at `start` and restarts at each anchor (a re-evaluation,
    a conference) from `start` to `end`; a gap longer than `interval` days
    gives `(anchor, next anchor or None, first day past the interval)`, the
    last dated at most `end`. Each gap is settled by the anchors up to its
    due day, so an anchor that comes late leaves it (docs/domain.md R1).
    """
    points = sorted({start} | {a for a in anchors if start <= a <= end})
    gaps: list[tuple[date, date | None, date]] = []
    for anchor, following in zip(points, [*points[1:], None], strict=True):
        until = following if following is not None else end
        due = interval_deadline(anchor, interval) + ONE_DAY
        if (until - anchor).days > interval and due <= end:
            gaps.append((anchor, following, due))
    return gaps
