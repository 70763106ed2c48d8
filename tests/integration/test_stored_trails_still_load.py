"""Rules tightened at intake do not make stored trails unreadable.

A tardiness of 0 minutes, a work history sent as a list and a time zone such as
`localtime` were accepted before revision 2 and the hardening of intake; trails
holding them are facts that were recorded and are never changed, so they must
still load, answer and be judged (a 409 "damaged" or a 500 would be wrong).
"""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import uuid4

from domain.program import Program
from service.application import Tracker
from tests.helpers import ADMITTED_ON, LATER, admitted, plus, referred, send, with_data


def test_a_trail_recorded_under_older_intake_rules_still_loads(tracker: Tracker) -> None:
    program_id = uuid4()
    old_referral = with_data(referred(), time_zone="localtime")
    old_referral["data"]["worker"]["work_history"] = ["warehouse", ["2010", "2020"]]
    program = Program.refer(
        program_id,
        old_referral["event_id"],
        plus(ADMITTED_ON, -7),
        old_referral["data"],
        datetime.now(UTC),
    )
    program.record(
        "TardinessRecorded", str(uuid4()), ADMITTED_ON, {"minutes_late": 0}, datetime.now(UTC)
    )
    tracker.save(program)

    send(tracker, program_id, admitted())  # a new event on the old trail is accepted
    view = tracker.view(program_id)
    assert view.program.version == 3
    assert view.today()  # read in UTC, the stored zone being no region
    assessment = view.assess(LATER)
    assert assessment.status == "admitted"
    assert [Tracker.describe(f)["data"] for f in view.program.trail][1] == {"minutes_late": 0}
