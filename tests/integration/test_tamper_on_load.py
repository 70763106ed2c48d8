"""A fact altered in the store that still parses is never served as the truth (issue 23,
item 3), on both stores.

Before, `"hours": 6` changed to `"hours": 7` in a stored event was answered by
compliance, events, billing and the pages as if recorded so, and a new event was
appended to the broken chain; only the integrity report noticed. Now every event read
back from the store must continue the hash chain as it loads: a program whose chain
breaks is refused (TrailDamaged, 409 over HTTP) naming the first bad version, and
nothing more is appended to it. The store is altered behind a closed tracker, as an
intruder with database access would, and read by a new one."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from typing import Any
from uuid import UUID, uuid4

import psycopg
import pytest

from api.bootstrap import build_tracker
from domain.errors import TrailGap
from domain.facts import Fact
from domain.program import event_hash
from service.application import Tracker
from service.integrity import TrailDamaged
from tests.audit_builders import standard_program
from tests.helpers import ADMITTED_ON, admitted, plus, referred, send, session

ALTERED = 5  # the program's second session (referral, admission, evaluation, sessions)


def alter(store_url: str, program_id: UUID, change: Callable[[dict[str, Any]], None]) -> None:
    """Rewrite one stored event's JSON in place, in the store's own table."""
    if store_url.startswith("sqlite:///"):
        where = "WHERE originator_id = ? AND originator_version = ?"
        with sqlite3.connect(store_url[len("sqlite:///") :]) as db:
            (raw,) = db.execute(
                f"SELECT state FROM stored_events {where}", (program_id.hex, ALTERED)
            ).fetchone()
            state = json.loads(raw)
            change(state)
            db.execute(
                f"UPDATE stored_events SET state = ? {where}",  # noqa: S608 (fixed text)
                (json.dumps(state).encode(), program_id.hex, ALTERED),
            )
        return
    where = "WHERE originator_id = %s AND originator_version = %s"
    with psycopg.connect(store_url, autocommit=True) as db:
        row = db.execute(f"SELECT state FROM wht_events {where}", (program_id, ALTERED)).fetchone()
        assert row is not None
        state = json.loads(bytes(row[0]))
        change(state)
        db.execute(
            f"UPDATE wht_events SET state = %s {where}",  # noqa: S608 (fixed text)
            (json.dumps(state).encode(), program_id, ALTERED),
        )


def six_hours_become_seven(state: dict[str, Any]) -> None:
    assert state["data"]["hours"] == 6, state["data"]
    state["data"]["hours"] = 7


def recorded(store_url: str) -> tuple[UUID, list[Fact]]:
    tracker = build_tracker(store_url)
    try:
        clinic = standard_program(tracker, sessions=7)
        return clinic.program_id, list(tracker.view(clinic.program_id).program.trail)
    finally:
        tracker.close()


def stored_versions(tracker: Tracker, program_id: UUID) -> list[int]:
    return [e.originator_version for e in tracker.recorder.select_events(program_id)]


def test_a_fact_altered_in_the_store_is_refused_not_served(store_url: str) -> None:
    program_id, trail = recorded(store_url)
    alter(store_url, program_id, six_hours_become_seven)

    tracker = build_tracker(store_url)
    try:
        with pytest.raises(TrailDamaged, match=f"broken at version {ALTERED}") as refused:
            tracker.view(program_id)
        assert refused.value.extra["first_bad_version"] == ALTERED
        with pytest.raises(TrailDamaged):
            send(tracker, program_id, session(plus(ADMITTED_ON, 30)))
        assert stored_versions(tracker, program_id) == [f.version for f in trail], (
            "nothing is appended to a broken chain"
        )
    finally:
        tracker.close()


def test_an_altered_fact_with_its_own_hash_recomputed_breaks_the_next_link(
    store_url: str,
) -> None:
    program_id, trail = recorded(store_url)
    fact = trail[ALTERED - 1]

    def seven_hours_and_a_matching_hash(state: dict[str, Any]) -> None:
        six_hours_become_seven(state)
        state["hash"] = event_hash(
            program_id,
            ALTERED,
            fact.type,
            fact.event_id,
            fact.occurred_on.isoformat(),
            fact.recorded_at,
            state["data"],
            fact.prev_hash,
        )

    alter(store_url, program_id, seven_hours_and_a_matching_hash)
    tracker = build_tracker(store_url)
    try:
        with pytest.raises(TrailDamaged) as refused:
            tracker.view(program_id)
        # Loading stops at the event after (its prev_hash no longer names its
        # predecessor's hash); the refusal names the first bad version the integrity
        # report finds, the altered one (its body no longer matches the event index).
        assert refused.value.extra["first_bad_version"] == ALTERED
    finally:
        tracker.close()


def delete_last_row(store_url: str, program_id: UUID, version: int) -> None:
    if store_url.startswith("sqlite:///"):
        with sqlite3.connect(store_url[len("sqlite:///") :]) as db:
            db.execute(
                "DELETE FROM stored_events WHERE originator_id = ? AND originator_version = ?",
                (program_id.hex, version),
            )
        return
    with psycopg.connect(store_url, autocommit=True) as db:
        db.execute(
            "DELETE FROM wht_events WHERE originator_id = %s AND originator_version = %s",
            (program_id, version),
        )


def test_a_resent_event_whose_row_was_deleted_is_never_acknowledged(store_url: str) -> None:
    """Issue 23, item 5: with a trail's last row deleted, a resend of that event answered
    200 with its original receipt, although the event was no longer stored. The index
    still names it; the trail does not hold it: the resend is refused (409)."""
    tracker = build_tracker(store_url)
    program_id = uuid4()
    try:
        bodies = [referred(), admitted(), session(plus(ADMITTED_ON, 1))]
        for body in bodies:
            send(tracker, program_id, body)
    finally:
        tracker.close()
    delete_last_row(store_url, program_id, len(bodies))

    tracker = build_tracker(store_url)
    try:
        with pytest.raises(TrailDamaged, match="no longer holds it"):
            send(tracker, program_id, bodies[-1])
        assert stored_versions(tracker, program_id) == [1, 2]
        assert send(tracker, program_id, bodies[1]).status == 200  # still there: a repeat
    finally:
        tracker.close()


def test_no_event_is_appended_past_versions_the_store_lost(store_url: str) -> None:
    """Issue 23, item 5: with the store's WAL cut under a running writer, events got 201
    and were stored after missing versions. Here the trail's last row is deleted behind
    a tracker that has read it: its next event would leave a gap, and is refused (409,
    nothing stored); the program is then read afresh, and goes on from what is stored."""
    tracker = build_tracker(store_url)
    program_id = uuid4()
    try:
        for body in (referred(), admitted(), session(plus(ADMITTED_ON, 1))):
            send(tracker, program_id, body)
        assert tracker.program(program_id).version == 3  # cached at version 3
        delete_last_row(store_url, program_id, 3)

        with pytest.raises(TrailGap, match="ends at version 2"):
            send(tracker, program_id, session(plus(ADMITTED_ON, 2)))
        assert stored_versions(tracker, program_id) == [1, 2]
        receipt = send(tracker, program_id, session(plus(ADMITTED_ON, 3)))
        assert (receipt.status, receipt.body["version"]) == (201, 3)
        assert stored_versions(tracker, program_id) == [1, 2, 3]
    finally:
        tracker.close()
