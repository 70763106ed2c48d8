"""Two writers of one SQLite read model (`wht rebuild --workers N` runs several).

A transaction that reads first and then writes cannot take SQLite's write lock
while another connection holds it: SQLite answers "database is locked" at once,
whatever the busy timeout (it would otherwise risk a deadlock). A rebuild worker
failed so on a 500,000-event store. The read model's transaction now writes
first, so it waits for the other writer instead.
"""

from __future__ import annotations

import sqlite3
import threading
from datetime import UTC, datetime
from uuid import uuid4

from eventsourcing.persistence import Tracking

from projections.timeline import BEGINNING, State, Timeline
from service.application import Tracker
from service.readmodel.runner import open_read_model
from service.readmodel.view import ProgramChange

HOLD = 1.0  # seconds the other writer keeps the lock: well inside the busy timeout


def test_a_change_waits_for_another_writer_instead_of_failing(sqlite_url: str) -> None:
    from api.bootstrap import build_tracker

    tracker: Tracker = build_tracker(sqlite_url, cipher_key="")
    try:
        view = open_read_model(tracker)
        # A change that writes no state or finding row but has due rows to diff: its
        # first statement would be the due rows' SELECT (a read).
        change = ProgramChange(
            uuid4(),
            1,
            datetime(2026, 3, 2, 18, tzinfo=UTC),
            "clinic-lock",
            "[]",
            Timeline(((BEGINNING, State("referred", False, frozenset())),)),
            (),
            (),
            (),
            (),
            due=(),
        )
        path = sqlite_url.removeprefix("sqlite:///")
        other = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        other.execute("BEGIN IMMEDIATE")  # the other writer holds the write lock
        release = threading.Timer(HOLD, other.commit)
        release.start()
        try:
            view.record_many([change], Tracking(tracker.name, 1))
        finally:
            release.join()
            other.close()
        current = view.current(change.program_id)
        assert current is not None and current.provider_id == "clinic-lock"
        assert view.max_tracking_id(tracker.name) == 1
    finally:
        tracker.close()
