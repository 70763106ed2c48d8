"""The program aggregate: one event-sourced trail per work hardening program.

The aggregate decides only what can be recorded (docs/domain.md, principle 1): a
second referral, admission or discharge, and retractions of nothing. Whether
a fact complies with the policy is derived later, from the trail, in
`projections/`. Every event carries the SHA-256 of its canonical form chained
to its predecessor's, so that any change to the stored trail shows.
"""

from __future__ import annotations

import copy
import hashlib
import json
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate

from domain.errors import (
    AlreadyRetracted,
    DayOverTwentyFourHours,
    MilestonesOutOfOrder,
    ProgramAlreadyAdmitted,
    ProgramAlreadyDischarged,
    ProgramAlreadyReferred,
    RetractionTargetNotFound,
)
from domain.events import EVENT_MODELS
from domain.facts import Fact

GENESIS_HASH = "0" * 64
HOURS_IN_A_DAY = 24  # a calendar fact, not a policy number
SINGLETONS = {
    "ProgramReferred": ProgramAlreadyReferred,
    "ProgramAdmitted": ProgramAlreadyAdmitted,
    "ProgramDischarged": ProgramAlreadyDischarged,
}


class StandingDates:
    """The business dates of a trail's standing facts, counted, and the latest of them
    (docs/domain.md R14: a receipt's date counts standing facts only; retracted facts
    and retractions do not count)."""

    def __init__(self) -> None:
        self._count: dict[date, int] = {}
        self.latest: date | None = None

    def add(self, on: date) -> None:
        self._count[on] = self._count.get(on, 0) + 1
        if self.latest is None or on > self.latest:
            self.latest = on

    def copy(self) -> StandingDates:
        twin = StandingDates()
        twin._count = dict(self._count)
        twin.latest = self.latest
        return twin

    def remove(self, on: date) -> None:
        left = self._count[on] - 1
        if left:
            self._count[on] = left
            return
        del self._count[on]
        if on == self.latest:
            self.latest = max(self._count, default=None)


def format_instant(instant: datetime) -> str:
    """RFC 3339 in UTC with microseconds: one spelling, so it hashes and sorts."""
    return instant.astimezone(UTC).isoformat(timespec="microseconds")


def event_hash(
    program_id: UUID,
    version: int,
    event_type: str,
    event_id: str,
    occurred_on: str,
    recorded_at: datetime,
    data: dict[str, Any],
    prev_hash: str,
) -> str:
    """SHA-256 of an event's canonical JSON form, including its predecessor's hash."""
    canonical = json.dumps(
        {
            "program_id": str(program_id),
            "version": version,
            "type": event_type,
            "event_id": event_id,
            "occurred_on": occurred_on,
            "recorded_at": format_instant(recorded_at),
            "data": data,
            "prev_hash": prev_hash,
        },
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


class Program(Aggregate):
    """A work hardening program, from referral to discharge report."""

    class Recorded(Aggregate.Event):
        """Base of every program event: the fact as the provider sent it."""

        type: str
        event_id: str
        occurred_on: str
        data: dict[str, Any]
        prev_hash: str
        hash: str

        def apply(self, aggregate: Any) -> None:
            aggregate.take(self)

    class Referred(Aggregate.Created):
        """ProgramReferred: the event that opens a program's trail."""

        type: str
        event_id: str
        occurred_on: str
        data: dict[str, Any]
        prev_hash: str
        hash: str

        def apply(self, aggregate: Any) -> None:
            aggregate.take(self)

    def __init__(self) -> None:
        self.trail: list[Fact] = []
        self._index()
        self.last_hash = GENESIS_HASH

    def _index(self) -> None:
        # What commands and reads ask of the trail, kept as each fact is taken so
        # that none of them reads the whole trail again (`_file`).
        self.active: dict[str, str] = {}  # event_id -> type, not retracted
        self.retracted: set[str] = set()
        self.by_id: dict[str, Fact] = {}  # every fact, retractions too, by event_id
        self.referrals: list[Fact] = []  # every ProgramReferred, in record order
        self.retractions: list[Fact] = []  # every EntryRetracted, in record order
        self.day_hours: dict[date, Decimal] = {}  # standing sessions' hours per date
        self.dates = StandingDates()  # the standing facts' dates (R14: `latest_on`)

    # -- state changes (they run again on every replay: no checks here) --

    def take(self, event: Any) -> None:
        model = EVENT_MODELS[event.type].model_validate(event.data)
        self.trail.append(
            Fact(
                version=event.originator_version,
                event_id=event.event_id,
                type=event.type,
                occurred_on=date.fromisoformat(event.occurred_on),
                recorded_at=event.timestamp,
                data=model,
                hash=event.hash,
                prev_hash=event.prev_hash,
            )
        )
        self._file(self.trail[-1])
        self.last_hash = event.hash

    def _file(self, fact: Fact) -> None:
        """Keep the indexes of `_index` up to date with one more fact."""
        self.by_id[fact.event_id] = fact
        if fact.type == "EntryRetracted":
            target = str(getattr(fact.data, "target_event_id", ""))
            self.retractions.append(fact)
            kind = self.active.pop(target, None)
            if kind is not None:
                self.dates.remove(self.by_id[target].occurred_on)
            if kind == "SessionLogged":
                self._add_hours(self.by_id[target], -1)
            self.retracted.add(target)
            return
        self.active[fact.event_id] = fact.type
        self.dates.add(fact.occurred_on)
        if fact.type == "ProgramReferred":
            self.referrals.append(fact)
        elif fact.type == "SessionLogged":
            self._add_hours(fact, 1)

    @property
    def latest_on(self) -> date | None:
        """The latest `occurred_on` of a standing fact (docs/domain.md R14)."""
        return self.dates.latest

    def _add_hours(self, fact: Fact, sign: int) -> None:
        on, hours = fact.occurred_on, getattr(fact.data, "hours", Decimal(0))
        total = self.day_hours.get(on, Decimal(0)) + sign * hours
        if total:
            self.day_hours[on] = total
        else:
            self.day_hours.pop(on, None)

    # -- commands --

    @classmethod
    def refer(
        cls,
        program_id: UUID,
        event_id: str,
        occurred_on: date,
        data: dict[str, Any],
        recorded_at: datetime,
    ) -> Program:
        """Open a program with its referral."""
        digest = event_hash(
            program_id,
            1,
            "ProgramReferred",
            event_id,
            occurred_on.isoformat(),
            recorded_at,
            data,
            GENESIS_HASH,
        )
        return cls._create(
            cls.Referred,
            id=program_id,
            timestamp=recorded_at,
            type="ProgramReferred",
            event_id=event_id,
            occurred_on=occurred_on.isoformat(),
            data=data,
            prev_hash=GENESIS_HASH,
            hash=digest,
        )

    def record(
        self,
        event_type: str,
        event_id: str,
        occurred_on: date,
        data: dict[str, Any],
        recorded_at: datetime,
    ) -> None:
        """Append a fact, refusing only what cannot be a fact (docs/domain.md, principle 1)."""
        self.check(event_type, data, occurred_on)
        version = self.version + 1
        digest = event_hash(
            self.id,
            version,
            event_type,
            event_id,
            occurred_on.isoformat(),
            recorded_at,
            data,
            self.last_hash,
        )
        self.trigger_event(
            self.Recorded,
            timestamp=recorded_at,
            type=event_type,
            event_id=event_id,
            occurred_on=occurred_on.isoformat(),
            data=data,
            prev_hash=self.last_hash,
            hash=digest,
        )

    def check(self, event_type: str, data: dict[str, Any], occurred_on: date | None = None) -> None:
        """Raise the domain error for an event this program cannot take."""
        if event_type == "SessionLogged" and occurred_on is not None:
            self._check_day_hours(occurred_on, Decimal(str(data["hours"])))
        refusal = SINGLETONS.get(event_type)
        if refusal is not None and event_type in self.active.values():
            existing = next(k for k, v in self.active.items() if v == event_type)
            raise refusal(
                f"Program {self.id} already has a {event_type} (event {existing}). "
                "To correct it, retract that entry with EntryRetracted, then post the right one.",
                existing_event_id=existing,
            )
        if event_type in ("ProgramAdmitted", "ProgramDischarged") and occurred_on is not None:
            self._check_order(event_type, occurred_on)
        if event_type == "EntryRetracted":
            target = str(data["target_event_id"])
            if target in self.retracted:
                raise AlreadyRetracted(f"Event {target} is already retracted.")
            if target not in self.active:
                if any(f.event_id == target for f in self.trail):
                    raise RetractionTargetNotFound(
                        f"Event {target} is a retraction; a retraction cannot be retracted. "
                        "Post the entry again instead."
                    )
                raise RetractionTargetNotFound(
                    f"Program {self.id} has no event {target} to retract."
                )

    def _standing(self, event_type: str) -> Fact | None:
        # The standing (not retracted) fact of a singleton type, if any.
        found = next((k for k, v in self.active.items() if v == event_type), None)
        return self.by_id[found] if found is not None else None

    def _check_order(self, event_type: str, on: date) -> None:
        # docs/domain.md R17: a discharge never precedes the standing admission, nor
        # an admission the standing discharge.
        if event_type == "ProgramDischarged":
            admission = self._standing("ProgramAdmitted")
            if admission is not None and on < admission.occurred_on:
                raise MilestonesOutOfOrder(
                    f"The discharge is dated {on}, before the admission on "
                    f"{admission.occurred_on} (event {admission.event_id}). Retract the wrong "
                    "one with EntryRetracted first.",
                    [{"loc": ["body", "occurred_on"], "msg": "before the admission"}],
                )
        else:
            discharge = self._standing("ProgramDischarged")
            if discharge is not None and on > discharge.occurred_on:
                raise MilestonesOutOfOrder(
                    f"The admission is dated {on}, after the discharge on "
                    f"{discharge.occurred_on} (event {discharge.event_id}). Retract the wrong "
                    "one with EntryRetracted first.",
                    [{"loc": ["body", "occurred_on"], "msg": "after the discharge"}],
                )

    def _check_day_hours(self, on: date, hours: Decimal) -> None:
        # docs/domain.md R3: a date has 24 hours; the standing (not retracted)
        # sessions of one date cannot add up to more.
        recorded = self.day_hours.get(on, Decimal(0))
        if recorded + hours > HOURS_IN_A_DAY:
            raise DayOverTwentyFourHours(
                f"Sessions of {format(recorded.normalize(), 'f')} hours are already recorded "
                f"on {on}; {format(hours.normalize(), 'f')} more would make more than "
                f"{HOURS_IN_A_DAY} hours in one day. Retract the wrong session first.",
                [{"loc": ["body", "data", "hours"], "msg": f"{on} already has {recorded} hours"}],
            )

    def fork(self) -> Program:
        """A copy to run commands on: its own trail and sets, no pending events."""
        twin = copy.copy(self)
        twin.trail = list(self.trail)
        twin.active = dict(self.active)
        twin.retracted = set(self.retracted)
        twin.by_id = dict(self.by_id)
        twin.referrals = list(self.referrals)
        twin.retractions = list(self.retractions)
        twin.day_hours = dict(self.day_hours)
        twin.dates = self.dates.copy()
        twin._pending_events = []
        return twin

    def at_version(self, version: int) -> Program:
        """This program as it was at `version` (1 to its own), without reading the store.

        The trail holds every fact in order, so a past version is a prefix of
        it; `known_at` reads cut the cached program here instead of replaying
        the first `version` events from the store (about 85 % of such a read
        of a 2,000-event program).
        """
        if not 1 <= version <= self.version:
            raise ValueError(f"Program {self.id} has no version {version} (at {self.version}).")
        twin = copy.copy(self)
        twin.trail = self.trail[:version]
        twin._index()
        for fact in twin.trail:
            twin._file(fact)
        last = twin.trail[-1]
        twin.last_hash = last.hash
        twin._version = version
        twin._modified_on = last.recorded_at
        twin._pending_events = []
        return twin

    @property
    def referral(self) -> Fact | None:
        """The referral in force: the latest ProgramReferred not retracted."""
        for fact in reversed(self.referrals):
            if fact.event_id in self.active:
                return fact
        return None
