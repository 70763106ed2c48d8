"""A reused event_id is refused without naming the program it went to (it may be
another provider's): the conflict says only that the id is taken."""

from __future__ import annotations

from uuid import uuid4

import pytest

from domain.errors import BatchRejected, EventIdConflict
from service.application import Tracker
from tests.helpers import referred, send, send_batch, with_data


def test_a_reused_event_id_names_no_other_program(tracker: Tracker) -> None:
    theirs, ours = uuid4(), uuid4()
    body = referred()
    send(tracker, theirs, body)
    reused = with_data(referred(), provider_id="clinic-south")
    reused["event_id"] = body["event_id"]

    with pytest.raises(EventIdConflict) as single:
        send(tracker, ours, reused)
    with pytest.raises(BatchRejected) as batch:
        send_batch(tracker, [(ours, reused)])

    messages = [str(single.value), *(str(item["error"]) for item in batch.value.items)]
    for message in messages:
        assert body["event_id"] in message
        assert str(theirs) not in message and str(theirs.hex) not in message
        assert "version" not in message
