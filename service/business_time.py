"""Each program's own business dates: from its referral on, and today in its time zone.

A program exists in business time from its standing referral's `occurred_on`
(docs/domain.md R12): at an `as_of` before it, its reads answer 404 and the
lists across programs leave it out. A program with no standing referral (every
referral retracted, R10) keeps its answers: it is listed `withdrawn`.

Any default `as_of` is today in the program's time zone (R21, the referral's
`time_zone`, UTC when it names none), per program: a list with no `as_of`
judges each program at its own today, and each item says its `as_of`.

`service.listing` reads the lists across programs with these dates.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError

from domain.errors import ProgramNotFound, TrackerError
from domain.facts import Fact
from domain.intake import stored_zone
from domain.program import Program
from service.judging import Judging, View

# The UTC offsets of the tz database's zones run from -12:00 to +14:00: at any
# instant, "today" somewhere is one of the dates of [now - 12 h, now + 14 h].
EARLIEST_OFFSET = timedelta(hours=-12)
LATEST_OFFSET = timedelta(hours=14)


def referral_at(program: Program, known_at: datetime | None = None) -> Fact | None:
    """The standing referral (`Program.referral`) as known at `known_at` (default: the
    program's whole trail): the latest referral recorded by then that no retraction
    recorded by then retracted."""
    if known_at is None or program.modified_on <= known_at:
        return program.referral
    retracted = {
        str(getattr(fact.data, "target_event_id", ""))
        for fact in program.retractions
        if fact.recorded_at <= known_at
    }
    for fact in reversed(program.referrals):
        if fact.recorded_at <= known_at and fact.event_id not in retracted:
            return fact
    return None


def referred_on(program: Program) -> date | None:
    """The standing referral's `occurred_on`; None when every referral is retracted."""
    referral = program.referral
    return referral.occurred_on if referral is not None else None


def today_in(referral: Fact | None, now: datetime) -> date:
    """`now` as a date in the time zone of the program of `referral` (as `View.today`
    reads it: the referral's `time_zone`, UTC when it names none or there is none)."""
    zone = getattr(referral.data, "time_zone", None) if referral is not None else None
    return now.astimezone(stored_zone(zone)).date()


def no_referral(program_id: UUID | str, as_of: date, on: date) -> ProgramNotFound:
    """The refusal of a read at an `as_of` before the program's referral (R12)."""
    return ProgramNotFound(
        f"Program {program_id} had no referral on or before {as_of.isoformat()}: "
        f"it was referred on {on.isoformat()}."
    )


def as_of_for(view: View, as_of: date | None) -> date:
    """The business date a read of one program answers at: `as_of`, or today in the
    program's time zone (R21). ProgramNotFound when the program was not referred yet
    on that date (R12), as a `known_at` before its first event is."""
    day = as_of if as_of is not None else view.today()
    on = referred_on(view.program)
    if on is not None and day < on:
        raise no_referral(view.program.id, day, on)
    return day


def todays(now: datetime) -> list[date]:
    """Every date that is today somewhere at `now`, ascending (two or three)."""
    first = (now.astimezone(UTC) + EARLIEST_OFFSET).date()
    last = (now.astimezone(UTC) + LATEST_OFFSET).date()
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


@dataclass(frozen=True)
class Dates:
    """One program's dates as known at an instant: its referral date (None: withdrawn,
    or its trail cannot be read) and its today."""

    referred_on: date | None
    today: date

    def exists_on(self, as_of: date) -> bool:
        return self.referred_on is None or self.referred_on <= as_of


class ProgramDates:
    """Each program's `Dates` as known at `known_at`, for one request: every program
    is read once (from the tracker's cache of programs), however often it is asked."""

    def __init__(self, tracker: Judging, known_at: datetime, now: datetime) -> None:
        self.tracker = tracker
        self.known_at = known_at
        self.now = now
        self._found: dict[str, Dates] = {}

    def __call__(self, program_id: str) -> Dates:
        found = self._found.get(program_id)
        if found is None:
            found = self._found[program_id] = self._read(program_id)
        return found

    def _read(self, program_id: str) -> Dates:
        try:
            program = self.tracker.program(UUID(program_id))
        except (AggregateNotFoundError, TrackerError, ValueError):
            # A trail that no longer replays (its own reads say so): listed as the
            # read model holds it, at today in UTC.
            return Dates(None, self.now.astimezone(UTC).date())
        referral = referral_at(program, self.known_at)
        return Dates(
            referral.occurred_on if referral is not None else None,
            today_in(referral, self.now),
        )
