"""A program handed out by the tracker is never changed after (issue 16, item 2).

Two servers on one store: one thread reads or copies a cached program while
another fast-forwards it with events the other server stored. The library's
fast-forward changes the cached aggregate in place ("dictionary changed size
during iteration" in the copying thread); the tracker applies them to a fork.
"""

from __future__ import annotations

from uuid import uuid4

from api.bootstrap import build_tracker
from service.application import Tracker
from tests.helpers import ADMITTED_ON, admitted, plus, referred, send, session


def test_events_stored_elsewhere_do_not_change_a_program_already_handed_out(
    tracker: Tracker, store_url: str
) -> None:
    program_id = uuid4()
    for body in (referred(), admitted()):
        send(tracker, program_id, body)
    handed_out = tracker.program(program_id)
    trail_before, active_before = list(handed_out.trail), dict(handed_out.active)

    other_server = build_tracker(store_url)
    try:
        send(other_server, program_id, session(plus(ADMITTED_ON, 1)))
    finally:
        other_server.close()

    fresh = tracker.program(program_id)
    assert fresh.version == 3 and len(fresh.trail) == 3
    assert handed_out.trail == trail_before and handed_out.active == active_before
    assert handed_out.version == 2
    assert tracker.program(program_id) is fresh  # the fork is cached for the next read
