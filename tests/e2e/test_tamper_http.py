"""A damaged stored trail, over HTTP: 409 naming the first bad version to those who may
see the program, 404 to everyone else, never a 500 (issue 16, item 1).

The damage is done to the SQLite file directly, as an intruder with file access
would: a byte cut from a stored event, a value of the wrong type, a value changed
that still parses (served as the truth before issue 23), a foreign
topic, an empty state, a deleted row. Every route of the program answers as
the audit does. A deleted index row or a garbled stored receipt must not let a
resent event be stored twice, nor answer 500.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.auth import install_auth
from api.bootstrap import build_tracker
from tests.helpers import ADMITTED_ON, plus, session
from tests.integration import test_tamper
from tests.integration.test_tamper import Stored

PROBLEM = "application/problem+json"
stored = test_tamper.stored  # the same program of 10 events (and another), in SQLite
DAMAGED_VERSION = 5


def cut_a_byte(stored: Stored) -> None:
    with stored.connect() as db:
        (raw,) = db.execute(
            "SELECT state FROM stored_events WHERE originator_id = ? AND originator_version = ?",
            (stored.program_id.hex, DAMAGED_VERSION),
        ).fetchone()
    stored.write(DAMAGED_VERSION, bytes(raw)[:-1])


def hours_as_text(stored: Stored) -> None:
    stored.edit(DAMAGED_VERSION, lambda s: s["data"].update(hours="six"))


def hours_altered(stored: Stored) -> None:
    """A fact that still parses: 6 hours made 7 (issue 23, item 3)."""
    stored.edit(DAMAGED_VERSION, lambda s: s["data"].update(hours=7))


def foreign_topic(stored: Stored) -> None:
    stored.sql(
        "UPDATE stored_events SET topic = 'os:system' WHERE originator_id = ? AND "
        "originator_version = ?",
        stored.program_id.hex,
        DAMAGED_VERSION,
    )


def empty_state(stored: Stored) -> None:
    stored.write(DAMAGED_VERSION, b"")


def deleted_row(stored: Stored) -> None:
    stored.sql(
        "DELETE FROM stored_events WHERE originator_id = ? AND originator_version = ?",
        stored.program_id.hex,
        DAMAGED_VERSION,
    )


DAMAGES: dict[str, Callable[[Stored], None]] = {
    "cut a byte": cut_a_byte,
    "hours as text": hours_as_text,
    "hours altered": hours_altered,
    "foreign topic": foreign_topic,
    "empty state": empty_state,
    "deleted row": deleted_row,
}


def serve(stored: Stored) -> tuple[Any, TestClient, dict[str, dict[str, str]]]:
    tracker = build_tracker(stored.url)
    app = create_app(tracker, projection=False)
    store = install_auth(app, tracker)
    keys = {}
    for name, role, provider in (
        ("owner", "provider", "clinic-north"),
        ("stranger", "provider", "clinic-elsewhere"),
        ("payer", "payer", None),
        ("auditor", "auditor", None),
    ):
        _, token = store.add_key(role, provider)
        keys[name] = {"Authorization": f"Bearer {token}"}
    return tracker, TestClient(app, raise_server_exceptions=False), keys


READS = ["compliance", "events", "billing", "audit", "integrity"]


@pytest.mark.parametrize("damage", list(DAMAGES))
def test_every_route_of_a_damaged_program_answers_409_or_404(stored: Stored, damage: str) -> None:
    DAMAGES[damage](stored)
    tracker, client, keys = serve(stored)
    base = f"/v1/programs/{stored.program_id}"
    try:
        with client:
            answers: dict[str, list[int]] = {}
            for who in ("owner", "payer", "auditor", "stranger"):
                for read in READS:
                    response = client.get(f"{base}/{read}", headers=keys[who])
                    answers.setdefault(who, []).append(response.status_code)
                    assert response.status_code < 500, (who, read, response.text)
                    if read != "integrity" or response.status_code != 200:
                        assert response.headers["content-type"] == PROBLEM, response.text
                post = client.post(
                    f"{base}/events", json=session(plus(ADMITTED_ON, 20)), headers=keys[who]
                )
                assert post.status_code < 500, (who, post.text)
                answers[who].append(post.status_code)
            page = client.get(f"/ui/programs/{stored.program_id}", headers=keys["owner"])
            assert page.status_code < 500, page.text
            # The program next door is untouched.
            other = client.get(
                f"/v1/programs/{stored.other_program_id}/compliance", headers=keys["payer"]
            )
            assert other.status_code == 200
    finally:
        tracker.close()
    # integrity (4th read) answers 200 with the break to those who may call it
    for who in ("owner", "payer", "auditor"):
        assert {a for i, a in enumerate(answers[who]) if i != 4} <= {409, 403}, answers
        assert 409 in answers[who], answers
    # Another provider: 404 as for an unknown program (403 where its role may not call
    # the route at all, as for any program: that says nothing of this one).
    assert [answers["stranger"][i] for i in (0, 1, 2, 5)] == [404] * 4, answers
    assert set(answers["stranger"]) <= {404, 403}, answers


def test_a_409_names_the_first_bad_version(stored: Stored) -> None:
    hours_as_text(stored)
    tracker, client, keys = serve(stored)
    try:
        with client:
            response = client.get(
                f"/v1/programs/{stored.program_id}/compliance", headers=keys["payer"]
            )
    finally:
        tracker.close()
    assert response.status_code == 409, response.text
    assert f"version {DAMAGED_VERSION}" in response.json()["detail"]


def resend_body(stored: Stored, version: int) -> dict[str, Any]:
    state = stored.state(version)
    return {k: state[k] for k in ("event_id", "type", "occurred_on", "data")}


@pytest.mark.parametrize("index_damage", ["row deleted", "receipt garbled"])
def test_a_resent_event_is_recognised_without_its_index_row(
    stored: Stored, index_damage: str
) -> None:
    body = resend_body(stored, 3)
    if index_damage == "row deleted":
        stored.sql("DELETE FROM wht_event_index WHERE event_id = ?", body["event_id"])
    else:
        stored.sql(
            "UPDATE wht_event_index SET result = '{not json' WHERE event_id = ?", body["event_id"]
        )
    tracker, client, keys = serve(stored)
    base = f"/v1/programs/{stored.program_id}"
    try:
        with client:
            again = client.post(f"{base}/events", json=body, headers=keys["owner"])
            changed = {**body, "occurred_on": plus(ADMITTED_ON, 2).isoformat()}
            conflict = client.post(f"{base}/events", json=changed, headers=keys["owner"])
            events = client.get(f"{base}/events", headers=keys["owner"]).json()
    finally:
        tracker.close()
    assert again.status_code == 200, again.text
    assert again.json()["version"] == 3 and again.json()["event_id"] == body["event_id"]
    assert conflict.status_code == 409, conflict.text
    assert len(events) == stored.events  # nothing stored twice
