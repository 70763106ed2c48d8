"""The projection thread survives a store that fails, and resumes when it answers.

After a failure the runner backs off ("failing") and tries again ("active"); the
log line of that transition reads the tracked position, which may fail too while
the store is down. That read must never end the thread. Real SQLite store: its
tracking table is dropped (every read of the position fails), then put back.
"""

from __future__ import annotations

import random
import sqlite3
import time
from datetime import date
from uuid import uuid4

from api.bootstrap import build_tracker
from service.application import Tracker
from service.readmodel.runner import ReadModelRunner, open_read_model
from tests.histories import sample_program, send_in_batches

WAIT = 60.0


def wait_until(check, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + WAIT
    while not check():
        assert time.monotonic() < deadline, what
        time.sleep(0.05)


def test_the_thread_outlives_a_store_that_fails_and_catches_up_after(sqlite_url: str) -> None:
    tracker: Tracker = build_tracker(sqlite_url)
    path = sqlite_url.removeprefix("sqlite:///")
    view = open_read_model(tracker)
    runner = ReadModelRunner(tracker, view, idle_poll=0.05, standby_poll=0.05)
    events = sample_program(random.Random(3), "clinic-down", date(2026, 2, 2))
    pid = uuid4()
    direct = sqlite3.connect(path, isolation_level=None)
    try:
        (schema,) = direct.execute(
            "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'tracking'"
        ).fetchone()
        runner.start()
        wait_until(lambda: runner.state == "active", "the runner never became active")
        direct.execute("DROP TABLE tracking")  # every read of the position now fails
        send_in_batches(tracker, [(pid, e) for e in events], 50)
        wait_until(lambda: runner.errors >= 3, "the runner did not keep retrying")
        assert runner._thread is not None and runner._thread.is_alive()
        direct.execute(schema)  # the store answers again
        latest = tracker.recorder.max_notification_id() or 0
        wait_until(lambda: runner.position() == latest, "the runner did not catch up")
    finally:
        runner.stop()
        direct.close()
        tracker.close()
