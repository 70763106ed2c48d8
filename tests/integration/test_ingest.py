"""Ingest on a real store (SQLite file and a fresh PostgreSQL database, via `tracker`).

What is recorded, what is refused (and that a refusal stores nothing),
idempotency by event_id (also across a restart), optimistic concurrency,
retractions, batches and the server's record time.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4
from zoneinfo import ZoneInfo

import pytest

from api.bootstrap import build_tracker
from domain.errors import (
    AlreadyRetracted,
    BatchRejected,
    EventIdConflict,
    InvalidEvent,
    ProgramAlreadyAdmitted,
    ProgramAlreadyDischarged,
    ProgramAlreadyReferred,
    ProgramNotFound,
    RetractionTargetNotFound,
    VersionConflict,
)
from domain.program import format_instant
from service.application import Tracker
from tests.helpers import (
    ADMITTED_ON,
    LATER,
    REFERRED_ON,
    Body,
    absence,
    admitted,
    condition_changed,
    conference,
    discharged,
    evaluated,
    event,
    new_event,
    opened,
    plus,
    reevaluated,
    referred,
    repeat_approved,
    report,
    retraction,
    send,
    send_all,
    send_batch,
    session,
    tardiness,
    with_data,
)

RECEIPT_KEYS = {"program_id", "event_id", "version", "recorded_at", "findings"}
DAY2 = plus(ADMITTED_ON, 1)
DAY3 = plus(ADMITTED_ON, 2)


def started(tracker: Tracker, bodies: list[Body] | None = None) -> UUID:
    """A new program with the given events (default: referred, admitted, evaluated)."""
    program_id = uuid4()
    send_all(tracker, program_id, opened() if bodies is None else bodies)
    return program_id


def version_of(tracker: Tracker, program_id: UUID) -> int:
    return tracker.view(program_id).program.version


def assert_not_stored(tracker: Tracker, program_id: UUID, body: Body, version: int) -> None:
    """A refused event leaves no trace: no index row, no new version."""
    assert tracker.index.find_event(body["event_id"]) is None
    if version == 0:
        with pytest.raises(ProgramNotFound):
            tracker.view(program_id)
    else:
        assert version_of(tracker, program_id) == version


def figures(tracker: Tracker, program_id: UUID, as_of: date = LATER) -> dict[str, Any]:
    return tracker.view(program_id).assess(as_of).figures()


# ---- recording ----

EVERY_TYPE: dict[str, tuple[Callable[[], list[Body]], Callable[[list[Body]], Body]]] = {
    "ProgramReferred": (lambda: [], lambda _: referred()),
    "ProgramAdmitted": (lambda: [referred()], lambda _: admitted()),
    "InitialEvaluationDocumented": (lambda: [referred(), admitted()], lambda _: evaluated()),
    "SessionLogged": (opened, lambda _: session(ADMITTED_ON, 6)),
    "AbsenceRecorded": (opened, lambda _: absence(DAY2)),
    "TardinessRecorded": (opened, lambda _: tardiness(DAY2, 15)),
    "ProgressReEvaluated": (opened, lambda _: reevaluated(plus(ADMITTED_ON, 13))),
    "StaffConferenceHeld": (opened, lambda _: conference(DAY2)),
    "MedicalConditionChanged": (opened, lambda _: condition_changed(DAY2, prohibits=True)),
    "ProgramDischarged": (opened, lambda _: discharged(DAY3, "medical_condition_changed")),
    "DischargeReportFiled": (lambda: [*opened(), discharged(DAY3)], lambda _: report(DAY3)),
    "RepeatProgramApproved": (opened, lambda _: repeat_approved(DAY2)),
    "EntryRetracted": (
        lambda: [*opened(), session(DAY2)],
        lambda setup: retraction(DAY3, setup[-1]),
    ),
}


@pytest.mark.parametrize("event_type", list(EVERY_TYPE))
def test_each_event_type_is_recorded_and_read_back_from_the_store(
    tracker: Tracker, event_type: str
) -> None:
    make_setup, make_body = EVERY_TYPE[event_type]
    setup = make_setup()
    program_id = uuid4()
    send_all(tracker, program_id, setup)
    body = make_body(setup)

    receipt = send(tracker, program_id, body)

    assert receipt.status == 201
    assert set(receipt.body) == RECEIPT_KEYS
    assert receipt.body["program_id"] == str(program_id)
    assert receipt.body["event_id"] == body["event_id"]
    assert receipt.body["version"] == len(setup) + 1
    fact = tracker.view(program_id).program.trail[-1]
    assert (fact.version, fact.event_id, fact.type) == (
        len(setup) + 1,
        body["event_id"],
        event_type,
    )
    assert fact.occurred_on.isoformat() == body["occurred_on"]
    assert tracker.describe(fact)["data"] == new_event(body).payload
    row = tracker.index.find_event(body["event_id"])
    assert row is not None and row.version == len(setup) + 1 and row.type == event_type


def test_a_policy_breach_is_recorded_and_becomes_a_finding_not_a_refusal(
    tracker: Tracker,
) -> None:
    program_id = started(tracker)

    receipt = send(tracker, program_id, session(ADMITTED_ON, 9.5))

    assert receipt.status == 201
    codes = {f["code"] for f in receipt.body["findings"]}
    assert "daily_hours_over_cap" in codes
    assert figures(tracker, program_id)["total_hours"] == 9.5


# ---- refusals ----


def test_an_event_for_an_unknown_program_is_refused_as_not_found(tracker: Tracker) -> None:
    program_id = uuid4()
    body = session(ADMITTED_ON)

    with pytest.raises(ProgramNotFound):
        send(tracker, program_id, body)

    assert_not_stored(tracker, program_id, body, 0)


@pytest.mark.parametrize(
    ("second", "refusal"),
    [
        (lambda: referred(), ProgramAlreadyReferred),
        (lambda: admitted(DAY2), ProgramAlreadyAdmitted),
        (lambda: discharged(DAY3, "plateau"), ProgramAlreadyDischarged),
    ],
    ids=["referral", "admission", "discharge"],
)
def test_a_second_referral_admission_or_discharge_is_a_conflict(
    tracker: Tracker, second: Callable[[], Body], refusal: type[Exception]
) -> None:
    program_id = started(tracker, [*opened(), discharged(DAY2)])
    body = second()

    with pytest.raises(refusal) as raised:
        send(tracker, program_id, body)

    assert raised.value.extra["existing_event_id"]  # type: ignore[attr-defined]
    assert_not_stored(tracker, program_id, body, 4)


def test_a_retracted_admission_can_be_posted_again(tracker: Tracker) -> None:
    first = admitted()
    program_id = started(tracker, [referred(), first])
    send(tracker, program_id, retraction(ADMITTED_ON, first))

    receipt = send(tracker, program_id, admitted(DAY2))

    assert receipt.status == 201
    assert figures(tracker, program_id)["admitted_on"] == DAY2.isoformat()


def test_retracting_an_event_the_program_does_not_have_is_refused(tracker: Tracker) -> None:
    program_id = started(tracker)
    body = retraction(DAY2, str(uuid4()))

    with pytest.raises(RetractionTargetNotFound):
        send(tracker, program_id, body)

    assert_not_stored(tracker, program_id, body, 3)


def test_retracting_an_event_of_another_program_is_refused(tracker: Tracker) -> None:
    elsewhere = session(ADMITTED_ON)
    started(tracker, [*opened(), elsewhere])
    program_id = started(tracker)
    body = retraction(DAY2, elsewhere)

    with pytest.raises(RetractionTargetNotFound):
        send(tracker, program_id, body)

    assert_not_stored(tracker, program_id, body, 3)


def test_retracting_an_already_retracted_event_is_refused(tracker: Tracker) -> None:
    wrong = session(ADMITTED_ON, 9)
    program_id = started(tracker, [*opened(), wrong, retraction(DAY2, wrong)])
    body = retraction(DAY3, wrong, "again")

    with pytest.raises(AlreadyRetracted):
        send(tracker, program_id, body)

    assert_not_stored(tracker, program_id, body, 5)


def test_retracting_a_retraction_is_refused(tracker: Tracker) -> None:
    wrong = session(ADMITTED_ON, 9)
    undo = retraction(DAY2, wrong)
    program_id = started(tracker, [*opened(), wrong, undo])
    body = retraction(DAY3, undo)

    with pytest.raises(RetractionTargetNotFound):
        send(tracker, program_id, body)

    assert_not_stored(tracker, program_id, body, 5)


def _in_two_days() -> date:
    return datetime.now(UTC).date() + timedelta(days=2)


FUTURE_FIELDS: dict[str, tuple[Callable[[], Body], list[str | int]]] = {
    "occurred_on": (
        lambda: event("ProgramReferred", _in_two_days(), referred()["data"]),
        ["body", "occurred_on"],
    ),
    "injury_date": (
        lambda: with_data(
            referred(),
            claim={
                "claim_number": "WC-1",
                "body_region": "low_back",
                "compensable_injury_reported": True,
                "injury_date": _in_two_days().isoformat(),
            },
        ),
        ["body", "data", "claim", "injury_date"],
    ),
    "prescribed_on": (
        lambda: with_data(
            referred(),
            referral={
                "source": "physician",
                "physician_referral_id": "PR-9",
                "prescription": {
                    "prescriber": "Dr. Patel",
                    "prescribed_on": _in_two_days().isoformat(),
                },
            },
        ),
        ["body", "data", "referral", "prescription", "prescribed_on"],
    ),
}


@pytest.mark.parametrize("field", list(FUTURE_FIELDS))
def test_a_referral_carrying_a_future_date_is_invalid(tracker: Tracker, field: str) -> None:
    make, loc = FUTURE_FIELDS[field]
    program_id = uuid4()
    body = make()

    with pytest.raises(InvalidEvent) as raised:
        send(tracker, program_id, body)

    assert [e["loc"] for e in raised.value.errors] == [loc]
    assert_not_stored(tracker, program_id, body, 0)


@pytest.mark.parametrize("field", ["occurred_on", "documented_on"])
def test_a_future_session_or_evaluation_documentation_is_invalid(
    tracker: Tracker, field: str
) -> None:
    program_id = started(tracker, [referred(), admitted()])
    future = _in_two_days()
    body = session(future) if field == "occurred_on" else evaluated(documented_on=future)

    with pytest.raises(InvalidEvent):
        send(tracker, program_id, body)

    assert_not_stored(tracker, program_id, body, 2)


def test_today_in_the_programs_own_time_zone_is_not_the_future(tracker: Tracker) -> None:
    # Kiritimati is UTC+14: its today is often UTC's tomorrow, and still a fact.
    zone = "Pacific/Kiritimati"
    today_there = datetime.now(ZoneInfo(zone)).date()
    program_id = uuid4()

    receipt = send(tracker, program_id, referred(today_there, time_zone=zone))

    assert receipt.status == 201
    assert send(tracker, program_id, admitted(today_there)).status == 201


def test_a_referral_to_an_unknown_policy_pack_is_invalid(tracker: Tracker) -> None:
    program_id = uuid4()
    body = referred(policy="acme-999")

    with pytest.raises(InvalidEvent) as raised:
        send(tracker, program_id, body)

    assert raised.value.errors[0]["loc"] == ["body", "data", "policy"]
    assert_not_stored(tracker, program_id, body, 0)


def test_a_referral_naming_a_known_policy_pack_is_judged_by_it(tracker: Tracker) -> None:
    program_id = started(tracker, [referred(policy="optum-481")])

    assert figures(tracker, program_id)["policy"] == "optum-481"


@pytest.mark.parametrize("zone", ["Mars/Olympus_Mons", "../../etc/passwd", "UTC+5"])
def test_a_referral_with_an_unknown_time_zone_is_invalid(tracker: Tracker, zone: str) -> None:
    program_id = uuid4()
    body = referred(time_zone=zone)

    with pytest.raises(InvalidEvent) as raised:
        send(tracker, program_id, body)

    assert raised.value.errors[0]["loc"] == ["body", "data", "time_zone"]
    assert_not_stored(tracker, program_id, body, 0)


# ---- idempotency ----


def test_the_same_event_id_with_the_same_body_returns_the_original_result(
    tracker: Tracker,
) -> None:
    program_id = started(tracker)
    body = session(ADMITTED_ON, 6)
    first = send(tracker, program_id, body)
    trail_before = [tracker.describe(f) for f in tracker.view(program_id).program.trail]

    again = send(tracker, program_id, body)

    assert (first.status, again.status) == (201, 200)
    assert again.body == first.body
    assert [tracker.describe(f) for f in tracker.view(program_id).program.trail] == trail_before


def test_a_repeat_that_spells_the_same_body_differently_is_the_same_event(
    tracker: Tracker,
) -> None:
    program_id = started(tracker)
    body = session(ADMITTED_ON, 6)
    first = send(tracker, program_id, body)
    respelled = {
        "data": {**dict(reversed(list(body["data"].items()))), "hours": 6.00},
        "occurred_on": body["occurred_on"],
        "type": body["type"],
        "event_id": body["event_id"].upper(),
    }

    again = send(tracker, program_id, respelled)

    assert again.status == 200 and again.body == first.body
    assert version_of(tracker, program_id) == 4


def test_the_same_event_id_with_a_different_body_is_a_conflict(tracker: Tracker) -> None:
    program_id = started(tracker)
    body = session(ADMITTED_ON, 6)
    send(tracker, program_id, body)

    with pytest.raises(EventIdConflict):
        send(tracker, program_id, with_data(body, hours=7))

    assert version_of(tracker, program_id) == 4
    assert figures(tracker, program_id)["total_hours"] == 6


def test_the_same_event_id_sent_to_another_program_is_a_conflict(tracker: Tracker) -> None:
    body = session(ADMITTED_ON, 6)
    first_program = started(tracker, [*opened(), body])
    other_program = started(tracker)

    with pytest.raises(EventIdConflict):
        send(tracker, other_program, body)

    assert version_of(tracker, other_program) == 3
    assert version_of(tracker, first_program) == 4


def test_a_retried_request_with_its_old_expected_version_answers_200_not_409(
    tracker: Tracker,
) -> None:
    program_id = started(tracker)
    body = event("SessionLogged", ADMITTED_ON, session(ADMITTED_ON)["data"], expected_version=3)
    first = send(tracker, program_id, body)

    again = send(tracker, program_id, body)  # the program is at 4 now

    assert again.status == 200 and again.body == first.body


def test_idempotency_survives_a_restart_of_the_tracker(store_url: str) -> None:
    body = session(ADMITTED_ON, 6)
    program_id = uuid4()
    before = build_tracker(store_url)
    try:
        send_all(before, program_id, [*opened(), body])
        first = before.index.find_event(body["event_id"])
        figures_before = figures(before, program_id)
    finally:
        before.close()

    after = build_tracker(store_url)
    try:
        again = send(after, program_id, body)
        assert first is not None
        assert again.status == 200 and again.body["version"] == 4
        assert again.body["recorded_at"] == format_instant(first.recorded_at)
        with pytest.raises(EventIdConflict):
            send(after, program_id, with_data(body, hours=7))
        assert version_of(after, program_id) == 4
        assert figures(after, program_id) == figures_before
    finally:
        after.close()


# ---- optimistic concurrency ----


def test_a_stale_expected_version_is_a_conflict_and_stores_nothing(tracker: Tracker) -> None:
    program_id = started(tracker)
    body = event("SessionLogged", ADMITTED_ON, session(ADMITTED_ON)["data"], expected_version=2)

    with pytest.raises(VersionConflict) as raised:
        send(tracker, program_id, body)

    assert raised.value.extra["current_version"] == 3
    assert_not_stored(tracker, program_id, body, 3)


def test_the_current_expected_version_is_accepted(tracker: Tracker) -> None:
    program_id = uuid4()
    first = event("ProgramReferred", REFERRED_ON, referred()["data"], expected_version=0)
    second = event("ProgramAdmitted", ADMITTED_ON, admitted()["data"], expected_version=1)

    receipts = send_all(tracker, program_id, [first, second])

    assert [r.body["version"] for r in receipts] == [1, 2]


# ---- retractions ----


@pytest.mark.parametrize("first_hours", [6, 9.5], ids=["same-entry", "wrong-entry"])
def test_retracting_an_entry_and_posting_the_right_one_equals_never_retracting(
    tracker: Tracker, first_hours: str
) -> None:
    common = [session(ADMITTED_ON, 6), tardiness(DAY2), absence(DAY3)]
    right = lambda: session(DAY2, 6)  # noqa: E731 - one body per program, fresh ids
    wrong = session(DAY2, first_hours)
    corrected = started(tracker, [*opened(), *common, wrong])
    send_all(tracker, corrected, [retraction(DAY3, wrong), right()])
    clean = started(
        tracker,
        [*opened(), *[event(b["type"], b["occurred_on"], b["data"]) for b in common], right()],
    )

    for as_of in (DAY2, LATER):
        corrected_view = tracker.view(corrected).assess(as_of)
        clean_view = tracker.view(clean).assess(as_of)
        assert corrected_view.figures() == clean_view.figures()
        assert corrected_view.billing == clean_view.billing
    assert figures(tracker, corrected)["total_hours"] == 12


def test_a_retraction_removes_the_entry_from_every_figure(tracker: Tracker) -> None:
    late = tardiness(DAY2)
    no_show = absence(DAY3)
    long_day = session(ADMITTED_ON, 9)
    program_id = started(tracker, [*opened(), long_day, late, no_show])
    before = figures(tracker, program_id)

    send_all(tracker, program_id, [retraction(DAY3, e) for e in (long_day, late, no_show)])

    after = figures(tracker, program_id)
    assert (
        before["days_attended"],
        before["total_hours"],
        before["tardy_days"],
        before["unexcused_absences"],
    ) == (1, 9, 1, 1)
    assert (
        after["days_attended"],
        after["total_hours"],
        after["tardy_days"],
        after["unexcused_absences"],
    ) == (0, 0, 0, 0)
    assert "daily_hours_over_cap" not in {f["code"] for f in after["findings"]}


# ---- batches ----


def test_a_batch_is_recorded_in_order_across_programs(tracker: Tracker) -> None:
    first, second = uuid4(), uuid4()
    items = [(first, b) for b in opened()] + [(second, b) for b in opened()]
    items.append((first, session(ADMITTED_ON, 6)))

    receipts = send_batch(tracker, items)

    assert [r.status for r in receipts] == [201] * 7
    assert [(r.body["program_id"], r.body["version"]) for r in receipts] == [
        (str(first), 1),
        (str(first), 2),
        (str(first), 3),
        (str(second), 1),
        (str(second), 2),
        (str(second), 3),
        (str(first), 4),
    ]
    assert [r.body["event_id"] for r in receipts] == [b["event_id"] for _, b in items]


@pytest.mark.parametrize(
    ("bad", "family", "refusal"),
    [
        (lambda existing: (uuid4(), session(ADMITTED_ON)), "invalid", ProgramNotFound),
        (lambda existing: (existing, admitted(DAY2)), "conflict", ProgramAlreadyAdmitted),
        (lambda existing: (uuid4(), referred(_in_two_days())), "invalid", InvalidEvent),
    ],
    ids=["unknown-program", "second-admission", "future-date"],
)
def test_a_batch_with_one_bad_item_stores_nothing(
    tracker: Tracker,
    bad: Callable[[UUID], tuple[UUID, Body]],
    family: str,
    refusal: type[Exception],
) -> None:
    existing = started(tracker)
    fresh = uuid4()
    items = [(fresh, b) for b in opened()] + [(existing, session(ADMITTED_ON, 6))]
    items.insert(2, bad(existing))

    with pytest.raises(BatchRejected) as raised:
        send_batch(tracker, items)

    assert raised.value.status_family == family
    assert [f["index"] for f in raised.value.items] == [2]
    assert isinstance(raised.value.items[0]["error"], refusal)
    assert all(tracker.index.find_event(b["event_id"]) is None for _, b in items)
    with pytest.raises(ProgramNotFound):
        tracker.view(fresh)
    assert version_of(tracker, existing) == 3


def test_a_batch_names_every_failing_item_by_index(tracker: Tracker) -> None:
    existing = started(tracker)
    items = [
        (existing, session(ADMITTED_ON)),
        (uuid4(), session(ADMITTED_ON)),
        (existing, session(DAY2)),
        (existing, retraction(DAY2, str(uuid4()))),
    ]

    with pytest.raises(BatchRejected) as raised:
        send_batch(tracker, items)

    assert [f["index"] for f in raised.value.items] == [1, 3]
    assert version_of(tracker, existing) == 3


def test_a_batch_repeating_stored_events_answers_200_for_them(tracker: Tracker) -> None:
    program_id = uuid4()
    stored = opened()
    originals = send_all(tracker, program_id, stored)
    new = session(ADMITTED_ON, 6)

    receipts = send_batch(tracker, [(program_id, b) for b in [*stored, new]])

    assert [r.status for r in receipts] == [200, 200, 200, 201]
    assert [r.body for r in receipts[:3]] == [r.body for r in originals]
    assert receipts[3].body["version"] == 4


def test_the_index_finds_many_event_ids_in_one_lookup(tracker: Tracker) -> None:
    program_id = uuid4()
    stored = opened()
    send_all(tracker, program_id, stored)
    ids = [b["event_id"] for b in stored]
    unknown = [str(uuid4()) for _ in range(1200)]  # more than one query's worth of ids

    found = tracker.index.find_events([*unknown[:700], ids[2], ids[0], *unknown[700:], ids[0]])

    assert sorted(found) == sorted([ids[0], ids[2]])
    assert [found[i].version for i in (ids[0], ids[2])] == [1, 3]
    assert found[ids[0]] == tracker.index.find_event(ids[0])


def cov1_codes(receipt: Any) -> list[str]:
    return [f["code"] for f in receipt.body["findings"] if f["clause"] == "COV-1"]


def test_a_second_program_on_one_physician_referral_is_flagged_when_recorded(
    tracker: Tracker,
) -> None:
    first, second, third = uuid4(), uuid4(), uuid4()
    first_receipts = send_all(tracker, first, opened(referral_id="PR-SHARED"))
    # In one batch: a program on the shared referral (the first one is stored,
    # so it is flagged once admitted: rev 2 R1 dates COV-1 on the repeat's
    # admission) and one on a referral nobody else has.
    receipts = send_batch(
        tracker,
        [
            (second, referred(referral_id="PR-SHARED")),
            (second, admitted()),
            (third, referred()),
            (third, admitted()),
        ],
    )

    assert all(cov1_codes(r) == [] for r in first_receipts)
    assert cov1_codes(receipts[0]) == []
    assert cov1_codes(receipts[1]) == ["repeat_program_without_review"]
    assert cov1_codes(receipts[3]) == []
    assert not [f for f in tracker.view(first).assess(DAY2).findings if f.clause == "COV-1"]
    assert [f.code for f in tracker.view(second).assess(DAY2).findings if f.clause == "COV-1"] == [
        "repeat_program_without_review"
    ]


def test_one_event_id_twice_in_a_batch_with_different_bodies_is_refused(
    tracker: Tracker,
) -> None:
    program_id = started(tracker)
    body = session(ADMITTED_ON, 6)

    with pytest.raises(BatchRejected) as raised:
        send_batch(tracker, [(program_id, body), (program_id, with_data(body, hours=5))])

    assert isinstance(raised.value.items[0]["error"], EventIdConflict)
    assert_not_stored(tracker, program_id, body, 3)


# ---- record time ----


def test_recorded_at_is_set_by_the_server_and_strictly_increases(tracker: Tracker) -> None:
    before = datetime.now(UTC)
    program_id = started(tracker, [*opened(), session(ADMITTED_ON), session(DAY2)])
    after = datetime.now(UTC)

    trail = tracker.view(program_id).program.trail
    stamps = [f.recorded_at for f in trail]
    assert all(before <= s <= after for s in stamps)
    assert all(a < b for a, b in zip(stamps, stamps[1:], strict=False))


def test_recorded_at_still_increases_when_the_server_clock_stands_still_or_goes_back(
    tracker: Tracker,
) -> None:
    noon = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
    readings = iter([noon, noon, noon, noon - timedelta(hours=1), noon - timedelta(days=1)])
    tracker.clock = lambda: next(readings)
    program_id = uuid4()

    receipts = send_all(tracker, program_id, [*opened(), session(ADMITTED_ON), session(DAY2)])

    stamps = [r.body["recorded_at"] for r in receipts]
    assert stamps[0] == format_instant(noon)
    assert all(a < b for a, b in zip(stamps, stamps[1:], strict=False))
    trail = tracker.view(program_id, known_at=noon + timedelta(minutes=1)).program.trail
    assert [format_instant(f.recorded_at) for f in trail] == stamps
