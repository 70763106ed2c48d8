"""An ingest answers once the projection in its own process has kept pace.

`wht serve` projects the regulator's read model in a thread that shares the
process (and its interpreter lock) with every request thread; under a fast
client it fell behind by thousands of events. With WHT_INGEST_MAX_LAG = N an
ingest answers only once the projection is at most N events behind the store
(or WHT_INGEST_LAG_WAIT has passed). The app runs as `wht serve` runs it, on
both stores.
"""

from __future__ import annotations

import random
import time
from datetime import date, timedelta
from uuid import uuid4

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.settings import Settings
from service.application import Tracker
from service.readmodel import partitions
from service.readmodel.runner import open_read_model
from tests.histories import sample_program

LAG_WAIT = 60.0  # generous: a loaded machine is slow, never wrong


def behind(client: TestClient, tracker: Tracker) -> int:
    """Events stored minus events the read model has applied (every partition), now."""
    latest = tracker.recorder.max_notification_id() or 0
    view = client.app.state.read_model  # type: ignore[attr-defined]
    return latest - partitions.position(view, tracker.name)


def wait_until_active(client: TestClient) -> None:
    # The projection thread takes its lock after the app starts; only an active
    # projector is waited for.
    runner = client.app.state.projection  # type: ignore[attr-defined]
    deadline = time.monotonic() + LAG_WAIT
    while runner.state != "active":
        assert time.monotonic() < deadline, runner.state
        time.sleep(0.05)


@pytest.mark.parametrize(("max_lag", "count"), [(0, 1), (20, 1), (0, 2)])
def test_each_answer_comes_once_the_projection_is_within_the_limit(
    tracker: Tracker, max_lag: int, count: int
) -> None:
    # With two partitions the server's thread holds both (`PartitionsRunner`).
    if count > 1:
        partitions.record_partitions(open_read_model(tracker), count)
    rnd = random.Random(5)
    settings = Settings(ingest_max_lag=max_lag, ingest_lag_wait=LAG_WAIT)
    events = []
    for n in range(6):
        pid = uuid4()
        start = date(2026, 1, 5) + timedelta(days=7 * n)
        events += [(pid, e) for e in sample_program(rnd, "clinic-pace", start)]
    with TestClient(create_app(tracker, settings=settings)) as client:
        wait_until_active(client)
        seen = []
        for at in range(0, len(events), 25):  # batches, then the rest one by one
            chunk = events[at : at + 25]
            if at < len(events) // 2:
                answer = client.post(
                    "/v1/events", json={"events": [{"program_id": str(p), **e} for p, e in chunk]}
                )
                assert answer.status_code == 201, answer.text
                seen.append(behind(client, tracker))
            else:
                for pid, event in chunk:
                    answer = client.post(f"/v1/programs/{pid}/events", json=event)
                    assert answer.status_code == 201, answer.text
                    seen.append(behind(client, tracker))
    assert len(seen) > 10
    assert max(seen) <= max_lag, seen


def test_no_wait_when_told_not_to(tracker: Tracker) -> None:
    # WHT_INGEST_LAG_WAIT=0: answers at once, whatever the projection's position.
    settings = Settings(ingest_max_lag=0, ingest_lag_wait=0)
    app = create_app(tracker, settings=settings, projection=False)
    pid = uuid4()
    event = sample_program(random.Random(1), "clinic-pace", date(2026, 1, 5))[0]
    with TestClient(app) as client:
        answer = client.post(f"/v1/programs/{pid}/events", json=event)
        assert answer.status_code == 201, answer.text
        assert behind(client, tracker) == 1  # nothing projects here: one event behind
