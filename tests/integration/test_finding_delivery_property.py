"""Every finding reaches a subscription once (docs/domain.md R13), on both stores.

A generated program is sent as a clinic would, each event on or after its own date
(some days late), while a fake clock moves day by day: the follower turns receipts
into `finding_added` alerts, and the sweep, on the days the notifier happens to run
it, delivers the findings no event added (a deadline passing). Whatever days are
swept, as long as one is after the last event was sent:

- every finding compliance shows at the end is in the outbox;
- no finding is in it twice (findings compare by code, clause, severity and date);
- none is invented: each was shown by compliance at some moment of the run.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from uuid import UUID, uuid4

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain.errors import MilestonesOutOfOrder, RetractionTargetNotFound
from service.application import Tracker
from service.notify import Subscriptions, open_alert_store
from service.notify.follower import AlertFollower
from service.notify.store import AlertStore
from service.notify.sweep import Sweep
from tests.helpers import send
from tests.histories import histories
from tests.receiver import LOCAL

Key = tuple[str, str, str, str]


def key(finding: dict[str, Any]) -> Key:
    return (finding["code"], finding["clause"], finding["severity"], finding["occurred_on"])


class Clock:
    """The tracker's now, moved by the test (UTC; generated programs are on UTC)."""

    def __init__(self) -> None:
        self.now = datetime(2000, 1, 1, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def at(self, day: date, hour: int, minute: int = 0) -> None:
        moment = datetime.combine(day, time(hour), tzinfo=UTC) + timedelta(minutes=minute)
        self.now = max(self.now, moment)


@pytest.fixture
def clock(tracker: Tracker) -> Iterator[Clock]:
    fake, real = Clock(), tracker.clock
    tracker.clock = fake
    yield fake
    tracker.clock = real


@pytest.fixture
def outbox(tracker: Tracker) -> AlertStore:
    return open_alert_store(tracker)


def shown(tracker: Tracker, program_id: UUID, on: date) -> set[Key]:
    """What GET .../compliance lists as of `on`, known now."""
    return {key(f) for f in tracker.view(program_id).assess(on).figures()["findings"]}


@st.composite
def runs(draw: st.DrawFn) -> tuple[list[dict[str, Any]], list[date], set[date], date]:
    """A program's events, the day each is sent, the days swept, and the last day."""
    nonce = uuid4().hex[:10]
    bodies = draw(histories(provider_id=f"clinic-{nonce}", referral_ids=(f"PR-{nonce}",)))
    sent: list[date] = []
    for b in bodies:  # in record order, each on or after its own date
        earliest = max([date.fromisoformat(b["occurred_on"]), *sent[-1:]])
        sent.append(earliest + timedelta(days=draw(st.sampled_from([0, 0, 0, 1, 3]))))
    first = min(date.fromisoformat(b["occurred_on"]) for b in bodies)
    last = sent[-1] + timedelta(days=draw(st.integers(1, 45)))  # swept after the last send
    days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    swept = {d for d in days if draw(st.integers(0, 2)) == 0}
    return bodies, sent, swept, last


@settings(max_examples=8, deadline=None, suppress_health_check=list(HealthCheck))
@given(run=runs())
def test_every_finding_is_delivered_once_whatever_days_are_swept(
    tracker: Tracker, clock: Clock, outbox: AlertStore, run: Any
) -> None:
    bodies, sent, swept, last = run
    program_id = uuid4()
    first = min(date.fromisoformat(b["occurred_on"]) for b in bodies)
    clock.now = datetime.combine(first - timedelta(days=1), time(9), tzinfo=UTC)
    subscriptions = Subscriptions(tracker, outbox, LOCAL)
    made = subscriptions.create(
        url="http://127.0.0.1:9/alerts",
        kinds=["finding_added"],
        secret="s" * 32,
        provider_id=None,  # a re-posted referral may name another provider
    )
    follower, sweep = AlertFollower(tracker, outbox), Sweep(tracker, outbox)
    seen: set[Key] = set()  # every finding compliance showed during the run
    pending = list(zip(sent, bodies, strict=True))
    day = first
    while day <= last:
        if day in swept or day == last:
            clock.at(day, 0)  # the notifier runs at midnight
            sweep.run()
            if day > sent[0]:
                seen |= shown(tracker, program_id, day)
        for minute, (_, body) in enumerate([p for p in pending if p[0] == day]):
            clock.at(day, 8, minute)  # office hours
            try:
                send(tracker, program_id, body)
            except (MilestonesOutOfOrder, RetractionTargetNotFound):
                # An admission posted again after the discharge (R17), and a retraction
                # of it: refused, nothing stored, as the clinic would be told.
                continue
            follower.catch_up()
            seen |= shown(tracker, program_id, day)
        pending = [p for p in pending if p[0] != day]
        day += timedelta(days=1)
    follower.catch_up()

    delivered = Counter(
        key(json.loads(d["body"])["data"]["finding"])
        for d in outbox.deliveries(made.subscription_id, limit=100_000)
        if d["kind"] == "finding_added" and d["program_id"] == str(program_id)
    )
    final = shown(tracker, program_id, last)
    assert final <= set(delivered), sorted(final - set(delivered))
    assert [k for k, n in delivered.items() if n > 1] == []
    assert set(delivered) <= seen | final, sorted(set(delivered) - seen - final)
    subscriptions.delete(made.subscription_id, None)  # later examples' programs are not its
