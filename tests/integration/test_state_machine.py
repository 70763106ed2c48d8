"""The real tracker on an SQLite file, driven by hypothesis beside a small model.

The model keeps only what a case manager could count by hand: which events
were stored (in order) and which of them still stand. After every step the
tracker's figures must equal the model's, and its version the number of
stored events. Refusals are part of the model too: a second admission, a
retraction of a retraction, a reused event_id, a stale expected_version.
"""

from __future__ import annotations

import shutil
import tempfile
from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)

from api.bootstrap import build_tracker
from domain.errors import (
    AlreadyRetracted,
    DayOverTwentyFourHours,
    EventIdConflict,
    InvalidEvent,
    MilestonesOutOfOrder,
    ProgramAlreadyAdmitted,
    ProgramAlreadyDischarged,
    ProgramAlreadyReferred,
    RetractionTargetNotFound,
    TrackerError,
    VersionConflict,
)
from service.application import Tracker
from tests.helpers import (
    ADMITTED_ON,
    LATER,
    LICENSED,
    UNLICENSED,
    Body,
    absence,
    admitted,
    discharged,
    event,
    opened,
    plus,
    referred,
    retraction,
    send,
    send_all,
    send_batch,
    session,
    tardiness,
)

MID = plus(ADMITTED_ON, 20)  # an as_of that cuts the generated dates in two
DAYS = st.integers(min_value=-3, max_value=45).map(lambda n: plus(ADMITTED_ON, n))
HOURS = st.decimals(min_value=Decimal("0.01"), max_value=Decimal(24), places=2)
REASONS = st.sampled_from(
    ["goals_met", "return_to_work_ready", "plateau", "medical_condition_changed", "non_compliance"]
)
PICK = st.integers(min_value=0, max_value=10_000)


def on(body: Body) -> date:
    return date.fromisoformat(body["occurred_on"])


def expected_figures(standing: list[Body], as_of: date) -> dict[str, Any]:
    """The figures counted by hand from the events that still stand."""
    if not any(b["type"] == "ProgramReferred" for b in standing):
        # Rev 2 (R10): every referral retracted: withdrawn, with no figures.
        return {
            "days_attended": 0,
            "total_hours": Decimal(0),
            "unexcused_absences": 0,
            "tardy_days": 0,
            "absence_equivalents": 0,
            "status": "withdrawn",
        }
    live = [b for b in standing if on(b) <= as_of]
    of = lambda kind: [b for b in live if b["type"] == kind]  # noqa: E731
    sessions = of("SessionLogged")
    # Rev 2 (R2): absences and tardiness count from admission to discharge only.
    first = min((on(b) for b in of("ProgramAdmitted")), default=None)
    last = min((on(b) for b in of("ProgramDischarged")), default=as_of)
    inside = lambda b: first is not None and first <= on(b) <= last  # noqa: E731
    unexcused = {on(b) for b in of("AbsenceRecorded") if not b["data"]["excused"] and inside(b)}
    tardy = {on(b) for b in of("TardinessRecorded") if inside(b)}
    if of("ProgramDischarged"):
        status = "discharged"
    elif of("ProgramAdmitted"):
        status = "admitted"
    else:
        status = "referred"
    return {
        "days_attended": len({on(b) for b in sessions}),
        "total_hours": sum((Decimal(str(b["data"]["hours"])) for b in sessions), Decimal(0)),
        "unexcused_absences": len(unexcused),
        "tardy_days": len(tardy),
        "absence_equivalents": len(unexcused) + len(tardy) // 5,
        "status": status,
    }


class TrackerMachine(RuleBasedStateMachine):
    """One program on a fresh SQLite file; the model is `stored` and `standing`."""

    def __init__(self) -> None:
        super().__init__()
        self.folder = tempfile.mkdtemp(prefix="wht-machine-")
        self.tracker: Tracker | None = None
        self.program_id = uuid4()
        self.stored: list[tuple[Body, dict[str, Any]]] = []  # body, receipt, in version order
        self.standing: dict[str, Body] = {}  # event_id -> body, not retracted
        self.retracted: set[str] = set()

    # ---- plumbing ----

    @property
    def app(self) -> Tracker:
        assert self.tracker is not None
        return self.tracker

    def accept(self, body: Body) -> None:
        receipt = send(self.app, self.program_id, body)
        assert receipt.status == 201
        assert receipt.body["version"] == len(self.stored) + 1
        self.stored.append((body, receipt.body))
        if body["type"] == "EntryRetracted":
            target = body["data"]["target_event_id"]
            self.standing.pop(target)
            self.retracted.add(target)
        else:
            self.standing[body["event_id"]] = body

    def refuse(self, body: Body, error: type[TrackerError]) -> None:
        with pytest.raises(error):
            send(self.app, self.program_id, body)

    def standing_of(self, kind: str) -> bool:
        return any(b["type"] == kind for b in self.standing.values())

    def standing_day(self, kind: str) -> date | None:
        return next((on(b) for b in self.standing.values() if b["type"] == kind), None)

    def teardown(self) -> None:
        if self.tracker is not None:
            self.tracker.close()
        shutil.rmtree(self.folder, ignore_errors=True)

    # ---- rules ----

    @initialize(zone=st.sampled_from(["America/Chicago", "UTC", "Pacific/Kiritimati"]))
    def refer(self, zone: str) -> None:
        self.tracker = build_tracker(f"sqlite:///{self.folder}/wht.sqlite")
        self.accept(referred(time_zone=zone))

    @rule()
    def refer_again(self) -> None:
        body = referred()
        if self.standing_of("ProgramReferred"):
            self.refuse(body, ProgramAlreadyReferred)
        else:
            self.accept(body)

    @rule(day=DAYS)
    def admit(self, day: date) -> None:
        body = admitted(day)
        discharge = self.standing_day("ProgramDischarged")
        if self.standing_of("ProgramAdmitted"):
            self.refuse(body, ProgramAlreadyAdmitted)
        elif discharge is not None and day > discharge:  # Rev 3 (R17)
            self.refuse(body, MilestonesOutOfOrder)
        else:
            self.accept(body)

    @rule(day=DAYS, hours=HOURS, licensed=st.booleans(), documented=st.booleans())
    def log_session(self, day: date, hours: Decimal, licensed: bool, documented: bool) -> None:
        body = session(
            day,
            float(hours),
            provider=LICENSED if licensed else UNLICENSED,
            documented=documented,
        )
        recorded = sum(
            (
                Decimal(str(b["data"]["hours"]))
                for b in self.standing.values()
                if b["type"] == "SessionLogged" and on(b) == day
            ),
            Decimal(0),
        )
        # Rev 2 (R3): no date holds more than 24 hours of standing sessions.
        if recorded + hours > 24:
            self.refuse(body, DayOverTwentyFourHours)
        else:
            self.accept(body)

    @rule(day=DAYS, excused=st.booleans())
    def record_absence(self, day: date, excused: bool) -> None:
        self.accept(absence(day, excused=excused))

    @rule(
        days=st.lists(DAYS, min_size=1, max_size=6), minutes=st.integers(min_value=0, max_value=240)
    )
    def record_tardiness(self, days: list[date], minutes: int) -> None:
        # Several at once, so that runs reach the 5 tardy days that make an absence.
        for day in days:
            if minutes < 1:  # Rev 2 (R3): not late is no tardiness
                self.refuse(tardiness(day, minutes), InvalidEvent)
            else:
                self.accept(tardiness(day, minutes))

    @rule(day=DAYS, reason=REASONS)
    def discharge(self, day: date, reason: str) -> None:
        body = discharged(day, reason)
        admission = self.standing_day("ProgramAdmitted")
        if self.standing_of("ProgramDischarged"):
            self.refuse(body, ProgramAlreadyDischarged)
        elif admission is not None and day < admission:  # Rev 3 (R17)
            self.refuse(body, MilestonesOutOfOrder)
        else:
            self.accept(body)

    @rule(pick=PICK, day=DAYS)
    def retract_an_earlier_event(self, pick: int, day: date) -> None:
        target, _ = self.stored[pick % len(self.stored)]
        body = retraction(day, target)
        if target["type"] == "EntryRetracted":
            self.refuse(body, RetractionTargetNotFound)
        elif target["event_id"] in self.retracted:
            self.refuse(body, AlreadyRetracted)
        else:
            self.accept(body)

    @rule(pick=PICK)
    def resend_an_earlier_event(self, pick: int) -> None:
        body, first = self.stored[pick % len(self.stored)]
        receipt = send(self.app, self.program_id, body)
        assert receipt.status == 200
        assert receipt.body == first

    @rule(pick=PICK)
    def reuse_an_event_id_for_another_body(self, pick: int) -> None:
        body, _ = self.stored[pick % len(self.stored)]
        self.refuse({**body, "occurred_on": plus(on(body), -1).isoformat()}, EventIdConflict)

    @rule(day=DAYS, behind=st.integers(min_value=1, max_value=3))
    def send_with_a_stale_expected_version(self, day: date, behind: int) -> None:
        stale = max(0, len(self.stored) - behind)
        self.refuse(
            event("SessionLogged", day, session(day)["data"], expected_version=stale),
            VersionConflict,
        )

    # ---- invariants ----

    @invariant()
    @precondition(lambda self: self.tracker is not None)
    def figures_equal_the_model(self) -> None:
        view = self.app.view(self.program_id)
        assert view.program.version == len(self.stored)
        for as_of in (MID, LATER):
            assessment = view.assess(as_of)
            actual = {
                name: getattr(assessment, name)
                for name in (
                    "days_attended",
                    "total_hours",
                    "unexcused_absences",
                    "tardy_days",
                    "absence_equivalents",
                    "status",
                )
            }
            assert actual == expected_figures(list(self.standing.values()), as_of), as_of

    @invariant()
    @precondition(lambda self: self.tracker is not None)
    def the_trail_is_the_stored_events_in_order(self) -> None:
        trail = self.app.view(self.program_id).program.trail
        assert [f.event_id for f in trail] == [b["event_id"] for b, _ in self.stored]
        stamps = [f.recorded_at for f in trail]
        assert all(a < b for a, b in zip(stamps, stamps[1:], strict=False))


TrackerMachine.TestCase.settings = settings(
    max_examples=25,
    stateful_step_count=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestTrackerAgainstItsModel = TrackerMachine.TestCase


# ---- replay and resend ----

# Rev 2 (R3): ten sessions of at most 2.4 hours never pass 24 hours on a date,
# and tardiness is at least a minute.
ENTRY_HOURS = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("2.4"), places=2)
ENTRIES = st.lists(
    st.one_of(
        st.builds(lambda d, h: session(d, float(h)), DAYS, ENTRY_HOURS),
        st.builds(lambda d, x: absence(d, excused=x), DAYS, st.booleans()),
        st.builds(tardiness, DAYS, st.integers(min_value=1, max_value=90)),
    ),
    min_size=1,
    max_size=10,
)


def _snapshot(tracker: Tracker, program_id: UUID) -> dict[str, Any]:
    view = tracker.view(program_id)
    return {
        "version": view.program.version,
        "trail": [tracker.describe(f) for f in view.program.trail],
        "figures": [view.assess(d).figures() for d in (MID, LATER)],
        "billing": [view.assess(d).billing for d in (MID, LATER)],
    }


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(entries=ENTRIES, retracted=st.sets(PICK, max_size=3), data=st.data())
def test_a_fresh_replay_gives_the_live_figures_and_resending_sent_events_changes_nothing(
    entries: list[Body], retracted: set[int], data: st.DataObject
) -> None:
    folder = tempfile.mkdtemp(prefix="wht-replay-")
    url = f"sqlite:///{folder}/wht.sqlite"
    program_id = uuid4()
    live = build_tracker(url)
    fresh: Tracker | None = None
    try:
        bodies = [*opened(), *entries]
        targets = {entries[i % len(entries)]["event_id"] for i in retracted}
        bodies += [retraction(plus(ADMITTED_ON, 50), target) for target in sorted(targets)]
        sent = send_all(live, program_id, bodies)
        receipts = {b["event_id"]: r.body for b, r in zip(bodies, sent, strict=True)}
        before = _snapshot(live, program_id)

        fresh = build_tracker(url)
        assert _snapshot(fresh, program_id) == before

        again = data.draw(st.lists(st.sampled_from(bodies), max_size=len(bodies)), "resent")
        for body in again[: len(again) // 2]:
            receipt = send(live, program_id, body)
            assert (receipt.status, receipt.body) == (200, receipts[body["event_id"]])
        if again:
            batch = send_batch(fresh, [(program_id, b) for b in again])
            assert [(r.status, r.body) for r in batch] == [
                (200, receipts[b["event_id"]]) for b in again
            ]
        assert _snapshot(live, program_id) == before
        assert _snapshot(fresh, program_id) == before
    finally:
        live.close()
        if fresh is not None:
            fresh.close()
        shutil.rmtree(folder, ignore_errors=True)
