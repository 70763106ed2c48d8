"""One program's facts filed as they arrive: the only filing of facts into records.

docs/domain.md: the facts are the events recorded by T, less those retracted by T,
that occurred on or before D. The caller has already cut the trail at T; a
`Filing` drops what was retracted, keeps each type's entries sorted by
(occurred_on, version) with session hours and ancillary minutes summed per
date, and `record(as_of)` cuts it at D into a typed `ProgramRecord`, so that
each rule reads typed bodies, never raw facts. It takes one fact at a time, so
that the fold (`projections.fold`) pays for a new fact about what it changed.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable
from datetime import date
from decimal import Decimal
from typing import Any, Generic

from domain.events import (
    AbsenceRecorded,
    DischargeReportFiled,
    EntryRetracted,
    InitialEvaluationDocumented,
    MedicalConditionChanged,
    ProgramAdmitted,
    ProgramDischarged,
    ProgramReferred,
    ProgressReEvaluated,
    RepeatProgramApproved,
    SessionLogged,
    StaffConferenceHeld,
    TardinessRecorded,
)
from domain.facts import Fact
from projections.record import B, Entry, ProgramRecord, SessionDay, _normalised_id

# The facts a record holds at most one of (referral, admission, discharge,
# evaluation, report). Rules read them whatever their date, so a step that
# files or retracts one may change the record on every date.
SINGLETONS: tuple[type, ...] = (
    ProgramReferred,
    ProgramAdmitted,
    ProgramDischarged,
    InitialEvaluationDocumented,
    DischargeReportFiled,
)
_SORTED: tuple[type, ...] = (
    ProgramAdmitted,
    ProgramDischarged,
    InitialEvaluationDocumented,
    DischargeReportFiled,
    SessionLogged,
    AbsenceRecorded,
    TardinessRecorded,
    ProgressReEvaluated,
    MedicalConditionChanged,
    RepeatProgramApproved,
    StaffConferenceHeld,
)


RECORDS_KEPT = 4  # records a filing keeps cut (`Filing.record`)


class Changed:
    """What one filed fact changed: nothing, the record from a date on, or every
    date; and the types of the entries it filed or removed."""

    __slots__ = ("kinds", "since")

    def __init__(self, since: date | None, kinds: frozenset[type] = frozenset()) -> None:
        self.since = since  # None: every date may have changed
        self.kinds = kinds


NOTHING = Changed(date.max)
EVERY_DATE = Changed(None)


class _Sorted(Generic[B]):
    """One type's entries sorted by (occurred_on, version), with their dates for bisection."""

    def __init__(self) -> None:
        self.entries: list[Entry[B]] = []
        self.keys: list[tuple[date, int]] = []
        self.days: list[date] = []

    def add(self, entry: Entry[B]) -> None:
        key = (entry.occurred_on, entry.version)
        at = bisect_right(self.keys, key)
        self.entries.insert(at, entry)
        self.keys.insert(at, key)
        self.days.insert(at, entry.occurred_on)

    def remove(self, entry: Entry[B]) -> None:
        at = bisect_left(self.keys, (entry.occurred_on, entry.version))
        while self.entries[at] is not entry:
            at += 1
        del self.entries[at], self.keys[at], self.days[at]

    def until(self, as_of: date, since: date | None = None) -> tuple[Entry[B], ...]:
        """The entries that occurred on or before `as_of` (and on or after `since`)."""
        low = 0 if since is None else bisect_left(self.days, since)
        return tuple(self.entries[low : bisect_right(self.days, as_of)])

    def first_until(self, as_of: date) -> Entry[B] | None:
        return self.entries[0] if self.days and self.days[0] <= as_of else None

    def any_between(self, after: date, upto: date) -> bool:
        """Whether an entry occurred after `after` and on or before `upto`."""
        return bisect_right(self.days, after) < bisect_right(self.days, upto)

    def copy(self) -> _Sorted[B]:
        other: _Sorted[B] = _Sorted()
        other.entries, other.keys, other.days = list(self.entries), list(self.keys), list(self.days)
        return other


def build_record(facts: Iterable[Fact], as_of: date) -> ProgramRecord:
    """File the facts that count as of `as_of` into a `ProgramRecord`.

    The referral is the first remaining `ProgramReferred` in record order;
    for admission, discharge, evaluation and report the earliest by
    (occurred_on, version) wins (the application refuses a second one).
    """
    return Filing.of(facts).record(as_of)


class Filing:
    """A trail's facts filed one at a time, in record order (see the module docstring)."""

    @classmethod
    def of(cls, facts: Iterable[Fact]) -> Filing:
        """A trail's facts filed, in record order."""
        filing = cls()
        for fact in facts:
            filing.add(fact)
        return filing

    def __init__(self) -> None:
        self._referred = False
        self._referrals: list[Entry[ProgramReferred]] = []  # remaining ones, in record order
        self._sorted: dict[type, _Sorted[Any]] = {kind: _Sorted() for kind in _SORTED}
        self._filed: dict[str, list[tuple[type, Entry[Any]]]] = {}
        self._retracted: set[str] = set()
        self._session_days: list[SessionDay] = []
        self._session_dates: list[date] = []
        # The last few records cut, by (as_of, sessions_since): a fold asks for the
        # same cut more than once a fact. Emptied by every change.
        self._records: dict[tuple[date, date | None], ProgramRecord] = {}

    def add(self, fact: Fact) -> Changed:
        """File the next fact of the trail; what it changed in the record."""
        self._records = {}
        data = fact.data
        if isinstance(data, EntryRetracted):
            return self._retract(_normalised_id(str(data.target_event_id)))
        kind = next((k for k in (ProgramReferred, *_SORTED) if isinstance(data, k)), None)
        if kind is None:
            return EVERY_DATE  # a type this filing does not know: assume the worst
        if kind is ProgramReferred:
            self._referred = True  # even when retracted already: the program was referred
        event_id = _normalised_id(fact.event_id)
        if event_id in self._retracted:
            return EVERY_DATE if kind is ProgramReferred else NOTHING
        entry: Entry[Any] = Entry(fact.occurred_on, fact.version, data)
        # A new list, never appended to: a copy of this filing shares the old one.
        self._filed[event_id] = [*self._filed.get(event_id, ()), (kind, entry)]
        if kind is ProgramReferred:
            self._referrals.append(entry)
        else:
            self._sorted[kind].add(entry)
            if kind is SessionLogged:
                self._sum_day(fact.occurred_on)
        return EVERY_DATE if kind in SINGLETONS else Changed(fact.occurred_on, frozenset([kind]))

    def _retract(self, target: str) -> Changed:
        if target in self._retracted:
            return NOTHING
        self._retracted.add(target)
        filed = self._filed.pop(target, [])
        for kind, entry in filed:
            if kind is ProgramReferred:
                self._referrals.remove(entry)
            else:
                self._sorted[kind].remove(entry)
                if kind is SessionLogged:
                    self._sum_day(entry.occurred_on)
        if not filed:
            return NOTHING
        if any(kind in SINGLETONS for kind, _ in filed):
            return EVERY_DATE
        return Changed(
            min(entry.occurred_on for _, entry in filed), frozenset(kind for kind, _ in filed)
        )

    def _sum_day(self, day: date) -> None:
        # The date's sums again, over its sessions in (occurred_on, version) order:
        # the same additions, in the same order, whatever order the facts came in.
        sessions = self._sorted[SessionLogged]
        on_day = sessions.entries[
            bisect_left(sessions.days, day) : bisect_right(sessions.days, day)
        ]
        hours, minutes = Decimal(0), 0
        for entry in on_day:
            hours += entry.body.hours
            minutes += entry.body.ancillary_minutes.total
        at = bisect_left(self._session_dates, day)
        present = at < len(self._session_dates) and self._session_dates[at] == day
        if not on_day:
            if present:
                del self._session_dates[at], self._session_days[at]
        elif present:
            self._session_days[at] = SessionDay(day, hours, minutes)
        else:
            self._session_dates.insert(at, day)
            self._session_days.insert(at, SessionDay(day, hours, minutes))

    def copy(self) -> Filing:
        """The same filing, to be changed without changing this one."""
        other = Filing.__new__(Filing)
        other._referred = self._referred
        other._referrals = list(self._referrals)
        other._sorted = {kind: filed.copy() for kind, filed in self._sorted.items()}
        other._filed = dict(self._filed)
        other._retracted = set(self._retracted)
        other._session_days = list(self._session_days)
        other._session_dates = list(self._session_dates)
        other._records = {}
        return other

    def singleton_dates(self) -> tuple[date, ...]:
        """The dates of every remaining referral, admission, discharge, evaluation and
        report: between two of them the singletons a record holds stay the same (see
        `projections.fold`). Sorted, without repeats; none for a withdrawn program."""
        if self.withdrawn:
            return ()
        found = {entry.occurred_on for entry in self._referrals}
        for kind in SINGLETONS[1:]:
            found.update(self._sorted[kind].days)
        return tuple(sorted(found))

    def any_between(self, after: date, upto: date) -> bool:
        """Whether a remaining fact occurred after `after` and on or before `upto`
        (never, for a withdrawn program: its record holds no facts)."""
        if self.withdrawn:
            return False
        if any(after < entry.occurred_on <= upto for entry in self._referrals):
            return True
        return any(filed.any_between(after, upto) for filed in self._sorted.values())

    @property
    def withdrawn(self) -> bool:
        """Every referral of the program is retracted (docs/domain.md R10)."""
        return self._referred and not self._referrals

    def record(self, as_of: date, sessions_since: date | None = None) -> ProgramRecord:
        """The record as of `as_of`; with `sessions_since`, holding only the sessions
        (and session days) from that date on, everything else whole."""
        if self.withdrawn:
            return _empty(as_of)
        made = self._records.get((as_of, sessions_since))
        if made is not None:
            return made
        if len(self._records) >= RECORDS_KEPT:
            self._records = {}
        made = self._records[(as_of, sessions_since)] = self._cut(as_of, sessions_since)
        return made

    def _cut(self, as_of: date, sessions_since: date | None) -> ProgramRecord:
        of = self._sorted
        sessions = self._session_days
        low = 0 if sessions_since is None else bisect_left(self._session_dates, sessions_since)
        return ProgramRecord(
            as_of=as_of,
            referral=next((e for e in self._referrals if e.occurred_on <= as_of), None),
            admission=of[ProgramAdmitted].first_until(as_of),
            discharge=of[ProgramDischarged].first_until(as_of),
            evaluation=of[InitialEvaluationDocumented].first_until(as_of),
            reports=of[DischargeReportFiled].until(as_of),
            sessions=of[SessionLogged].until(as_of, sessions_since),
            absences=of[AbsenceRecorded].until(as_of),
            tardies=of[TardinessRecorded].until(as_of),
            reevaluations=of[ProgressReEvaluated].until(as_of),
            medical_changes=of[MedicalConditionChanged].until(as_of),
            repeat_approvals=of[RepeatProgramApproved].until(as_of),
            conferences=of[StaffConferenceHeld].until(as_of),
            session_days=tuple(sessions[low : bisect_right(self._session_dates, as_of)]),
        )


def _empty(as_of: date) -> ProgramRecord:
    # A withdrawn program's record holds no facts at all (docs/domain.md R10).
    return ProgramRecord(
        as_of, None, None, None, None, (), (), (), (), (), (), (), (), (), withdrawn=True
    )
