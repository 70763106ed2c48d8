"""The background work runs once per app however many clients start it (a second
ASGI client of one app, as schemathesis's `from_asgi` makes): two threads of one
projection runner raced each other's caches and tracking ("Failed to record
tracking", UNIQUE constraint on the read model), on both stores."""

from __future__ import annotations

import threading
from uuid import uuid4

from fastapi.testclient import TestClient

from api.app import create_app
from service.application import Tracker
from tests.helpers import opened


def projection_threads() -> int:
    return sum(1 for t in threading.enumerate() if t.name == "wht-projection" and t.is_alive())


def test_two_clients_of_one_app_run_one_projection_until_the_last_leaves(
    tracker: Tracker,
) -> None:
    before = projection_threads()
    app = create_app(tracker)
    with TestClient(app, base_url="http://127.0.0.1") as first:
        with TestClient(app, base_url="http://127.0.0.1") as second:
            assert projection_threads() == before + 1
            program_id = str(uuid4())
            for body in opened():
                answer = second.post(f"/v1/programs/{program_id}/events", json=body)
                assert answer.status_code == 201, answer.text
        # The second client left; the first still has a projection keeping up.
        assert projection_threads() == before + 1
        listed = first.get("/v1/programs", params={"as_of": opened()[-1]["occurred_on"]})
        assert listed.status_code == 200, listed.text
        assert program_id in {p["program_id"] for p in listed.json()["programs"]}
    assert projection_threads() == before
