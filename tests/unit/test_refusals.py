"""DOMAIN.md R3: what cannot be a fact is refused (422, nothing stored).

A TardinessRecorded under 1 minute late, and a SessionLogged that would
bring the standing sessions of one date over 24 hours.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import uuid4

import pytest

from domain.errors import DayOverTwentyFourHours, InvalidEvent, MilestonesOutOfOrder
from domain.intake import parse_event
from domain.program import Program
from service.receipts import receipt_date

ON = date(2026, 3, 2)
CLOCK = datetime(2026, 3, 3, 9, 0, tzinfo=UTC)


def tardiness(minutes: int) -> Any:
    return parse_event(uuid4(), "TardinessRecorded", ON, {"minutes_late": minutes})


def test_tardiness_of_zero_minutes_is_refused() -> None:
    with pytest.raises(InvalidEvent) as refused:
        tardiness(0)
    assert refused.value.errors[0]["loc"] == ["body", "data", "minutes_late"]


def test_tardiness_of_one_minute_is_a_fact() -> None:
    assert tardiness(1).payload == {"minutes_late": 1}


class Trail:
    """A program aggregate and the payloads sent to it."""

    def __init__(self) -> None:
        referral = parse_event(
            uuid4(),
            "ProgramReferred",
            ON,
            {
                "worker": {"worker_id": "W"},
                "claim": {
                    "claim_number": "C",
                    "body_region": "low_back",
                    "compensable_injury_reported": True,
                },
                "referral": {"source": "physician"},
                "provider_id": "p",
            },
        )
        self.program = Program.refer(
            uuid4(), referral.event_id, ON, referral.payload, CLOCK - timedelta(hours=1)
        )
        self.ticks = 0

    def send(self, event_type: str, on: date, data: dict[str, Any]) -> str:
        event = parse_event(uuid4(), event_type, on, data)
        self.ticks += 1
        self.program.record(
            event.type,
            event.event_id,
            event.occurred_on,
            event.payload,
            CLOCK + timedelta(minutes=self.ticks),
        )
        return event.event_id

    def session(self, hours: float, on: date = ON) -> str:
        return self.send("SessionLogged", on, {"hours": hours, "provider": {"name": "Pat"}})


def test_two_thirteen_hour_sessions_on_one_date_are_refused_naming_the_hours_recorded() -> None:
    trail = Trail()
    trail.session(13)
    with pytest.raises(DayOverTwentyFourHours) as refused:
        trail.session(13)
    assert isinstance(refused.value, InvalidEvent)
    assert "13 hours" in refused.value.detail
    assert str(ON) in refused.value.detail
    assert len(trail.program.trail) == 2


def test_sessions_adding_up_to_exactly_twenty_four_hours_on_one_date_are_facts() -> None:
    trail = Trail()
    trail.session(13)
    trail.session(10.5)
    trail.session(0.5)
    assert len(trail.program.trail) == 4


def test_a_retracted_session_no_longer_counts_toward_the_twenty_four_hours() -> None:
    trail = Trail()
    first = trail.session(13)
    trail.send("EntryRetracted", ON, {"target_event_id": first})
    trail.session(13)
    assert len(trail.program.trail) == 4


def test_thirteen_hours_on_each_of_two_dates_are_facts() -> None:
    trail = Trail()
    trail.session(13)
    trail.session(13, ON + timedelta(days=1))
    assert len(trail.program.trail) == 3


def test_a_discharge_before_the_admission_or_an_admission_after_the_discharge_is_refused() -> None:
    # DOMAIN.md R17: milestones out of order cannot be facts.
    admitted_on, discharged_on = ON + timedelta(days=7), ON + timedelta(days=30)
    trail = Trail()
    trail.send("ProgramAdmitted", admitted_on, {"criteria": {"informed_consent": True}})
    discharge = {"reason": "goals_met"}
    with pytest.raises(MilestonesOutOfOrder) as refused:
        trail.send("ProgramDischarged", admitted_on - timedelta(days=1), discharge)
    assert str(admitted_on) in refused.value.detail
    trail.send("ProgramDischarged", discharged_on, discharge)
    assert len(trail.program.trail) == 3
    admission = next(f for f in trail.program.trail if f.type == "ProgramAdmitted")
    trail.send("EntryRetracted", ON, {"target_event_id": admission.event_id})
    with pytest.raises(MilestonesOutOfOrder) as refused:
        trail.send("ProgramAdmitted", discharged_on + timedelta(days=1), {"criteria": {}})
    assert str(discharged_on) in refused.value.detail
    trail.send("ProgramAdmitted", discharged_on, {"criteria": {}})  # the same day is in order
    assert len(trail.program.trail) == 5


def test_receipt_dates_count_standing_facts_only() -> None:
    # docs/domain.md R14: a retracted fact, and the retraction itself, do not move the
    # date later receipts are judged at.
    trail = Trail()
    wrong = trail.session(4, date(2026, 11, 2))  # mis-dated: meant March
    assert receipt_date(trail.program, ON) == date(2026, 11, 2)
    trail.send("EntryRetracted", date(2026, 11, 5), {"target_event_id": wrong})
    assert receipt_date(trail.program, ON) == ON
    trail.session(4, date(2026, 3, 4))
    assert receipt_date(trail.program, ON) == date(2026, 3, 4)


def test_a_fork_counts_its_own_receipt_dates() -> None:
    # A retraction in a fork (a command not stored yet) leaves the program it was
    # forked from as it was.
    trail = Trail()
    wrong = trail.session(4, date(2026, 11, 2))
    original = trail.program
    trail.program = original.fork()
    trail.send("EntryRetracted", date(2026, 11, 5), {"target_event_id": wrong})
    assert receipt_date(trail.program, ON) == ON
    assert receipt_date(original, ON) == date(2026, 11, 2)
