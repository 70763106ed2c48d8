"""The lists across programs, each program at its own business date.

The read model (`service.readmodel`) answers a list at one `as_of` for every
program. Two rules make a program's date its own (docs/domain.md):

- R12: a program exists from its standing referral's `occurred_on`; at an
  `as_of` before it, it is left out (the read model's rows cover every date,
  from the beginning of time, so the list asks `service.business_time`);
- R21: with no `as_of`, each program is judged at today in its own time zone.

With no `as_of`, the list is read at each date that is today somewhere (two
or three), each such page keeping the programs whose today it is, and the
pages are merged in the list's order: a program is listed once, at its today,
and each item carries that `as_of`. Page cursors are those of a list at one
date (the last item's sort key), so a page follows from any cursor handed out.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import Any, Generic, TypeVar

from service.business_time import ProgramDates, todays
from service.readmodel.view import (
    ListedProgram,
    ProgramQuery,
    ReadModelRecorder,
    WorkItem,
    WorklistQuery,
)

T = TypeVar("T")


@dataclass
class _Stream(Generic[T]):
    """The list at one date: rows fetched and not merged yet, and where to go on."""

    day: date
    after: Any
    rows: deque[T] = field(default_factory=deque)
    more: bool = True


def merged(
    days: Sequence[date],
    fetch: Callable[[date, Any], tuple[Sequence[T], bool]],
    key: Callable[[T], Any],
    keep: Callable[[T, date], bool],
    limit: int,
    after: Any = None,
) -> tuple[list[tuple[T, date]], bool]:
    """At most `limit` rows kept, each with its date, in `key` order after `after`, and
    whether more follow. `fetch(day, after)` gives the next rows of the list at `day`
    (in `key` order) and whether more follow; `keep(row, day)` whether to list it."""
    streams = [_Stream[T](day, after) for day in days]
    found: list[tuple[T, date]] = []
    while len(found) <= limit:
        for stream in streams:
            if not stream.rows and stream.more:
                rows, more = fetch(stream.day, stream.after)
                stream.rows.extend(rows)
                stream.more = more and bool(rows)
                if rows:
                    stream.after = key(rows[-1])
        live = [s for s in streams if s.rows]
        if not live:
            break
        stream = min(live, key=lambda s: key(s.rows[0]))
        row = stream.rows.popleft()
        if keep(row, stream.day):
            found.append((row, stream.day))
    return found[:limit], len(found) > limit


def _keep(dates: ProgramDates, given: date | None) -> Callable[[str, date], bool]:
    def keep(program_id: str, day: date) -> bool:
        of = dates(program_id)
        return of.exists_on(day) and (given is not None or of.today == day)

    return keep


def _days(dates: ProgramDates, given: date | None) -> list[date]:
    return [given] if given is not None else todays(dates.now)


def programs(
    view: ReadModelRecorder, dates: ProgramDates, query: ProgramQuery, as_of: date | None
) -> tuple[list[tuple[ListedProgram, date]], bool]:
    """The regulator's list (`query`'s filters, page and known_at) at `as_of`, or, with
    none, each program at its own today; only programs referred by their date."""
    keep = _keep(dates, as_of)

    def fetch(day: date, after: Any) -> tuple[Sequence[ListedProgram], bool]:
        page = view.programs(replace(query, as_of=day, after=after))
        return page.programs, page.more

    return merged(
        _days(dates, as_of),
        fetch,
        lambda p: p.program_id,
        lambda p, day: keep(p.program_id, day),
        query.limit,
        query.after,
    )


def worklist(
    view: ReadModelRecorder,
    dates: ProgramDates,
    query: WorklistQuery,
    as_of: date | None,
    due_by: Callable[[date], date],
) -> tuple[list[tuple[WorkItem, date]], bool]:
    """The worklist (`query`'s provider, page and known_at) at `as_of`, or, with none,
    each program's obligations at its own today; `due_by(day)` is the last due date
    listed at `day`. Only programs referred by their date."""
    keep = _keep(dates, as_of)

    def fetch(day: date, after: Any) -> tuple[Sequence[WorkItem], bool]:
        page = view.worklist(replace(query, as_of=day, due_by=due_by(day), after=after))
        return page.items, page.more

    return merged(
        _days(dates, as_of),
        fetch,
        WorkItem.cursor,
        lambda item, day: keep(item.program_id, day),
        query.limit,
        query.after,
    )


def plus_days(day: date, days: int) -> date:
    """`day` moved by `days`, or the last date there is."""
    try:
        return day + timedelta(days=days)
    except OverflowError:  # past 9999-12-31: every due date is before it
        return date.max
