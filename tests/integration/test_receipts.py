"""What a receipt's `findings` are judged against (DOMAIN.md R11).

A receipt lists the findings the event added, judged as of the later of the
event's `occurred_on` and the latest `occurred_on` already in the program:
the program's own dates, never the day the clinic happens to send it.
"""

from __future__ import annotations

from datetime import date
from uuid import uuid4

from service.application import Tracker
from tests.helpers import ADMITTED_ON, admitted, discharged, plus, referred, send, session


def finding_dates(receipt: object) -> list[date]:
    return [date.fromisoformat(f["occurred_on"]) for f in receipt.body["findings"]]  # type: ignore[attr-defined]


def test_a_backfilled_admission_gets_no_finding_dated_after_it(tracker: Tracker) -> None:
    # March, sent months later: deadlines that later facts may still meet
    # (evaluation documentation, re-evaluation, weekly frequency) are not due yet.
    program_id = uuid4()
    send(tracker, program_id, referred())
    receipt = send(tracker, program_id, admitted())
    assert receipt.status == 201
    assert all(on <= ADMITTED_ON for on in finding_dates(receipt)), receipt.body["findings"]
    assert "evaluation_documentation_late" not in {f["code"] for f in receipt.body["findings"]}


def test_a_backfilled_session_is_judged_at_its_own_date(tracker: Tracker) -> None:
    program_id = uuid4()
    for body in (referred(), admitted()):
        send(tracker, program_id, body)
    day = plus(ADMITTED_ON, 1)
    receipt = send(tracker, program_id, session(day, 9))
    codes = {f["code"] for f in receipt.body["findings"]}
    assert "daily_hours_over_cap" in codes
    assert all(on <= day for on in finding_dates(receipt)), receipt.body["findings"]


def test_an_event_dated_before_the_latest_is_judged_at_the_latest(tracker: Tracker) -> None:
    # The later of the event's date and the latest date already in the program:
    # a session on day 30, then a discharge sent late, dated day 3. Judged at
    # day 30, the discharge makes the day-30 session one outside the program.
    program_id = uuid4()
    for body in (referred(), admitted()):
        send(tracker, program_id, body)
    latest = plus(ADMITTED_ON, 30)
    send(tracker, program_id, session(latest, 6))
    receipt = send(tracker, program_id, discharged(plus(ADMITTED_ON, 3)))
    added = {(f["code"], f["occurred_on"]) for f in receipt.body["findings"]}
    assert ("session_outside_program", latest.isoformat()) in added
    assert all(on <= latest for on in finding_dates(receipt))
