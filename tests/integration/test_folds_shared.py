"""Programs' folds are shared between reads (`service.judging.Folds`): the latest
version's, and a few earlier ones' for `known_at` reads, never mixed up."""

from __future__ import annotations

from uuid import uuid4

from service.application import Tracker
from tests.helpers import ADMITTED_ON, LATER, opened, plus, send, send_all, session
from tests.oracles.assess import assess


def test_a_known_at_read_is_folded_once_and_never_replaces_the_latest_fold(
    tracker: Tracker,
) -> None:
    program_id = uuid4()
    send_all(tracker, program_id, opened())
    middle = tracker.program(program_id).modified_on
    send(tracker, program_id, session(plus(ADMITTED_ON, 1), 1.5))
    latest = tracker.view(program_id)
    then = tracker.view(program_id, middle)
    assert then.program.version < latest.program.version

    first, again = then.fold(), tracker.view(program_id, middle).fold()
    assert again is first  # held, not folded again
    assert latest.fold().version == latest.program.version
    assert tracker.view(program_id).fold() is latest.fold()
    pack = latest.pack
    for view in (then, latest):
        assert view.assess(LATER) == assess(view.program.trail, pack, LATER)
