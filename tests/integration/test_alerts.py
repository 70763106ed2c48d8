"""Alerts by webhook, in process, on both stores: the follower, the outbox, the sender
and the sweep against a real HTTP receiver on 127.0.0.1."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from uuid import UUID, uuid4

import pytest

from service.application import Tracker
from service.notify import Notifier, RetryPolicy, Subscriptions, open_alert_store
from service.notify.sender import signature
from tests.alert_script import SECRET, expected_alerts, said, scripted_events
from tests.helpers import REFERRED_ON, admitted, plus, referred, send, send_all, with_data
from tests.receiver import LOCAL, Receiver, signed_correctly

FAST = RetryPolicy(base=0.05, cap=0.2, retry_for=60.0, timeout=2.0)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver(SECRET).start()
    yield r
    r.stop()


def notifier_on(tracker: Tracker, **kwargs: object) -> Notifier:
    return Notifier(
        tracker,
        open_alert_store(tracker),
        policy=FAST,
        poll=0.05,
        destinations=LOCAL,
        **kwargs,  # type: ignore[arg-type]
    )


def run_until(notifier: Notifier, receiver: Receiver, count: int, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while len(receiver.alerts()) < count and time.monotonic() < deadline:
        if notifier.step() == 0:
            time.sleep(0.05)


def test_a_scripted_program_alerts_its_receipts_findings_and_its_eligibility_signed(
    tracker: Tracker, receiver: Receiver
) -> None:
    subscriptions = Subscriptions(tracker, open_alert_store(tracker), LOCAL)
    made = subscriptions.create(
        url=receiver.url,
        kinds=["finding_added", "discharge_eligible"],
        secret=SECRET,
        provider_id=None,
    )
    program_id = uuid4()
    receipts = [r.body for r in send_all(tracker, program_id, scripted_events())]
    expected = expected_alerts(receipts)
    assert sum(expected.values()) >= 5

    run_until(notifier_on(tracker), receiver, sum(expected.values()))

    got = receiver.alerts()
    assert all(r.valid for r in got)
    assert Counter(said(r.alert) for r in got) == expected
    assert {r.alert["program_id"] for r in got} == {str(program_id)}
    assert len({r.alert["delivery_id"] for r in got}) == len(got)
    eligible = next(r.alert for r in got if r.alert["kind"] == "discharge_eligible")
    assert "non_compliance" in eligible["data"]["discharge_reasons"]
    deliveries = subscriptions.deliveries(made.subscription_id, None)
    assert {d["status"] for d in deliveries} == {"delivered"}
    assert all(len(d["attempts"]) == 1 for d in deliveries)


def test_a_refused_alert_is_retried_with_the_same_delivery_id_until_acknowledged(
    tracker: Tracker, receiver: Receiver
) -> None:
    subscriptions = Subscriptions(tracker, open_alert_store(tracker), LOCAL)
    made = subscriptions.create(
        url=receiver.url, kinds=["finding_added"], secret=SECRET, provider_id="clinic-north"
    )
    notifier = notifier_on(tracker)
    receiver.status = 503
    program_id = uuid4()
    first = send(tracker, program_id, scripted_events()[0]).body
    assert len(first["findings"]) == 1
    for _ in range(3):
        notifier.step()
        time.sleep(0.25)
    receiver.status = 204
    run_until(notifier, receiver, 1)

    (got,) = receiver.alerts()
    (delivery,) = subscriptions.deliveries(made.subscription_id, None)
    assert got.valid and got.alert["delivery_id"] == delivery["delivery_id"]
    assert delivery["status"] == "delivered"
    codes = [a["status_code"] for a in delivery["attempts"]]
    assert len(codes) >= 3 and set(codes[:-1]) == {503} and codes[-1] == 204


def test_subscriptions_hear_only_their_provider_and_only_events_after_them(
    tracker: Tracker, receiver: Receiver
) -> None:
    subscriptions = Subscriptions(tracker, open_alert_store(tracker), LOCAL)
    before = uuid4()
    send(tracker, before, scripted_events()[0])  # stored before the subscription
    subscriptions.create(
        url=receiver.url, kinds=["finding_added"], secret=SECRET, provider_id="clinic-north"
    )
    theirs, ours = uuid4(), uuid4()
    send(tracker, theirs, scripted_events(provider_id="clinic-south")[0])
    send(tracker, ours, scripted_events()[0])
    notifier = notifier_on(tracker)
    run_until(notifier, receiver, 1)
    for _ in range(3):
        notifier.step()

    assert [r.alert["program_id"] for r in receiver.alerts()] == [str(ours)]


def test_a_deleted_subscription_gets_nothing_more(tracker: Tracker, receiver: Receiver) -> None:
    subscriptions = Subscriptions(tracker, open_alert_store(tracker), LOCAL)
    made = subscriptions.create(
        url=receiver.url, kinds=["finding_added"], secret=SECRET, provider_id=None
    )
    send(tracker, uuid4(), scripted_events()[0])
    subscriptions.delete(made.subscription_id, None)
    notifier = notifier_on(tracker)
    for _ in range(3):
        notifier.step()

    assert receiver.alerts() == []
    assert [s.subscription_id for s in subscriptions.visible(None)] == []


def test_the_sweep_alerts_each_obligation_once_per_subscription(
    tracker: Tracker, receiver: Receiver
) -> None:
    program_id = uuid4()
    send(tracker, program_id, scripted_events()[0])
    Subscriptions(tracker, open_alert_store(tracker), LOCAL).create(
        url=receiver.url,
        kinds=["due_soon", "obligation_missed"],
        secret=SECRET,
        provider_id=None,
        lead_days=5,
    )

    def obligations(t: Tracker, pid: UUID, as_of: date) -> list[dict[str, object]]:
        assert pid == program_id
        return [
            {
                "kind": "staff_conference",
                "clause": "TS-j",
                "due_on": "2000-01-01",
                "status": "missed",
            },
            {
                "kind": "reevaluation",
                "clause": "TS-i",
                "due_on": as_of.isoformat(),
                "status": "open",
            },
            {"kind": "coverage_end", "clause": "COV-2", "due_on": "2999-01-01", "status": "open"},
        ]

    notifier = notifier_on(tracker, obligations=obligations, sweep_every=0.0)
    run_until(notifier, receiver, 2)
    notifier.sweep.store.record_sweep([], str(program_id), "2000-01-01", "x", 0.0)  # a new day
    for _ in range(3):
        notifier.step()

    kinds = sorted(
        (r.alert["kind"], r.alert["data"]["obligation"]["clause"]) for r in receiver.alerts()
    )
    assert kinds == [("due_soon", "TS-i"), ("obligation_missed", "TS-j")]


def test_the_signature_is_the_hmac_of_the_timestamp_and_the_body() -> None:
    body = b'{"delivery_id":"d","kind":"finding_added"}'
    header = signature(SECRET, int(time.time()), body)
    assert signed_correctly(SECRET, header, body)
    assert not signed_correctly(SECRET, header, body + b" ")
    assert not signed_correctly("another-secret-0123456789", header, body)


def test_backoff_doubles_from_one_second_up_to_a_minute() -> None:
    policy = RetryPolicy()
    assert [policy.delay(n) for n in range(1, 9)] == [1, 2, 4, 8, 16, 32, 60, 60]
    assert policy.retry_for >= 24 * 60 * 60


def test_the_sweep_alerts_the_obligations_the_due_list_calls_missed(
    tracker: Tracker, receiver: Receiver
) -> None:
    # The real due dates (GET .../due), not a stand-in: a program admitted in March
    # with nothing since has missed its documentation, re-evaluation and conference.
    program_id = uuid4()
    for body in scripted_events()[:2]:
        send(tracker, program_id, body)
    Subscriptions(tracker, open_alert_store(tracker), LOCAL).create(
        url=receiver.url, kinds=["obligation_missed"], secret=SECRET, provider_id=None
    )
    view = tracker.view(program_id)
    missed = {
        (o["kind"], o["clause"])
        for o in view.due(view.today()).as_dict()["obligations"]
        if o["status"] == "missed"
    }
    assert len(missed) >= 3

    notifier = notifier_on(tracker, sweep_every=0.0)
    run_until(notifier, receiver, len(missed))
    for _ in range(3):
        notifier.step()

    got = [
        (r.alert["data"]["obligation"]["kind"], r.alert["data"]["obligation"]["clause"])
        for r in receiver.alerts()
    ]
    assert sorted(set(got)) == sorted(missed)
    assert len(got) == len(set(got))  # one alert per obligation, however often swept


def test_a_finding_added_to_another_program_is_alerted_about_that_program(
    tracker: Tracker, receiver: Receiver
) -> None:
    # R13: a referral dated first makes the program already on its physician
    # referral id a repeat; that program's subscriber hears it, about that program,
    # and the subscriber of the referring provider does not.
    subscriptions = Subscriptions(tracker, open_alert_store(tracker), LOCAL)
    subscriptions.create(
        url=receiver.url, kinds=["finding_added"], secret=SECRET, provider_id="clinic-north"
    )
    first, earlier = uuid4(), uuid4()
    send(tracker, first, referred(plus(REFERRED_ON, 3), referral_id="PR-ALERT"))
    send(tracker, first, admitted(plus(REFERRED_ON, 10)))
    receipt = send(
        tracker,
        earlier,
        with_data(referred(REFERRED_ON, referral_id="PR-ALERT"), provider_id="clinic-south"),
    ).body
    (other,) = receipt["others"]
    expected = Counter((str(first), f["code"], f["occurred_on"]) for f in other["findings"])
    assert expected and not receipt["findings"]
    notifier = notifier_on(tracker)
    run_until(notifier, receiver, sum(expected.values()))
    for _ in range(3):
        notifier.step()
    got = Counter(
        (
            r.alert["program_id"],
            r.alert["data"]["finding"]["code"],
            r.alert["data"]["finding"]["occurred_on"],
        )
        for r in receiver.alerts()
        if r.alert["kind"] == "finding_added"
    )
    assert got == expected


def test_a_finding_no_event_added_is_delivered_once_by_the_sweep(
    tracker: Tracker, receiver: Receiver
) -> None:
    # R13: every finding compliance shows is delivered once as finding_added, those a
    # deadline passing added too (no receipt lists them). A program admitted 15 days
    # ago, on UTC, with nothing since: its re-evaluation fell due yesterday.
    today = datetime.now(UTC).date()
    admitted_on = today - timedelta(days=15)
    subscriptions = Subscriptions(tracker, open_alert_store(tracker), LOCAL)
    subscriptions.create(url=receiver.url, kinds=["finding_added"], secret=SECRET, provider_id=None)
    program_id = uuid4()
    receipts = [
        send(tracker, program_id, body).body
        for body in (referred(admitted_on, time_zone="UTC"), admitted(admitted_on))
    ]
    made_on = today.isoformat()  # the subscription's day: findings dated from it on
    shown = tracker.view(program_id).assess(today).figures()["findings"]
    expected = {
        (f["code"], f["clause"], f["severity"], f["occurred_on"])
        for f in shown
        if f["occurred_on"] >= made_on
    }
    received = {
        (f["code"], f["clause"], f["severity"], f["occurred_on"])
        for r in receipts
        for f in r["findings"]
    }
    deadline = {k for k in expected if k[0] == "reevaluation_overdue"}
    assert deadline and not deadline & received, "a finding no receipt listed"

    notifier = notifier_on(tracker, sweep_every=0.0)
    run_until(notifier, receiver, len(expected))
    notifier.sweep.store.record_sweep([], str(program_id), "2000-01-01", "x", 0.0)  # a new day
    for _ in range(3):
        notifier.step()

    got = [
        (
            r.alert["data"]["finding"]["code"],
            r.alert["data"]["finding"]["clause"],
            r.alert["data"]["finding"]["severity"],
            r.alert["data"]["finding"]["occurred_on"],
        )
        for r in receiver.alerts()
        if r.alert["kind"] == "finding_added" and r.alert["program_id"] == str(program_id)
    ]
    assert set(got) >= expected
    assert len(got) == len(set(got))  # once each, however often swept
