"""Programs for the point-in-time, tamper, bundle and audit tests.

`Clinic` posts one program's events through the tracker's own ingestion path
(`parse_event` + `Tracker.ingest`), keeping each receipt so tests can cut at
the instant an event was recorded.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

from domain.intake import parse_event
from service.application import Tracker

REFERRED_ON = date(2025, 3, 3)  # a Monday, well in the past
ADMITTED_ON = date(2025, 3, 10)
LATER = date(2025, 7, 31)  # an as_of after every date these tests use
PROVIDER = {"name": "Dana Ruiz", "discipline": "physical_therapist", "license_number": "PT-44120"}
CRITERIA = {
    "potential_to_benefit": True,
    "function_interferes_with_work": True,
    "return_to_work_plan": True,
    "psychosocial_barriers": True,
    "no_prohibiting_condition": True,
    "informed_consent": True,
}
DOMAINS = [
    "musculoskeletal",
    "cardiovascular",
    "vocational",
    "attitudinal_motivational",
    "behavioral",
    "cognitive",
    "functional_work_capacity",
    "safety",
    "accommodation",
]


def referral_body(policy: str | None = None, referral_id: str | None = None) -> dict[str, Any]:
    # unique per program unless asked: COV-1 must not link test programs (the worker
    # is the referral id's own, so a shared claim number links none: R16)
    referral_id = referral_id or f"PR-{uuid4().hex[:12]}"
    return {
        "worker": {"worker_id": f"W-{referral_id}", "name": "Ana Diaz", "employer": "Acme Freight"},
        "claim": {
            "claim_number": "WC-7",
            "body_region": "low_back",
            "compensable_injury_reported": True,
        },
        "referral": {
            "source": "physician",
            "referred_by": "Dr. A. Patel",
            "physician_referral_id": referral_id,
            "prescription": {"prescriber": "Dr. A. Patel"},
        },
        "provider_id": "clinic-north",
        "policy": policy,
    }


def session_body(hours: float | str = 6) -> dict[str, Any]:
    return {
        "hours": Decimal(str(hours)) if isinstance(hours, str) else hours,
        "provider": PROVIDER,
        "activities": ["work_simulation"],
        "ancillary_minutes": {"97110": 20},
        "documented": True,
    }


class Clinic:
    """One program, posted event by event; `receipts` in record order."""

    def __init__(self, tracker: Tracker, program_id: UUID | None = None) -> None:
        self.tracker = tracker
        self.program_id = program_id or uuid4()
        self.receipts: list[dict[str, Any]] = []

    def post(
        self, event_type: str, on: date, data: dict[str, Any], event_id: str | None = None
    ) -> dict[str, Any]:
        event = parse_event(event_id or str(uuid4()), event_type, on, data)
        body = self.tracker.ingest(self.program_id, event).body
        self.receipts.append(body)
        return body

    def refer(self, on: date = REFERRED_ON, policy: str | None = None) -> dict[str, Any]:
        return self.post("ProgramReferred", on, referral_body(policy))

    def admit(self, on: date = ADMITTED_ON) -> dict[str, Any]:
        return self.post(
            "ProgramAdmitted", on, {"criteria": CRITERIA, "targeted_job": "Warehouse associate"}
        )

    def evaluate(self, on: date = ADMITTED_ON) -> dict[str, Any]:
        return self.post(
            "InitialEvaluationDocumented",
            on,
            {
                "evaluator": PROVIDER,
                "domains": DOMAINS,
                "measures": {"lift_kg": 12},
                "goals": ["lift 25 kg"],
                "documented_on": on.isoformat(),
            },
        )

    def session(
        self, on: date, hours: float | str = 6, event_id: str | None = None
    ) -> dict[str, Any]:
        return self.post("SessionLogged", on, session_body(hours), event_id)

    def absence(self, on: date, excused: bool = False) -> dict[str, Any]:
        return self.post("AbsenceRecorded", on, {"excused": excused, "reason": "sick"})

    def tardy(self, on: date, minutes: int = 20) -> dict[str, Any]:
        return self.post("TardinessRecorded", on, {"minutes_late": minutes})

    def reevaluate(self, on: date) -> dict[str, Any]:
        return self.post("ProgressReEvaluated", on, {"appropriate_to_continue": True})

    def retract(self, target_event_id: str, on: date = LATER) -> dict[str, Any]:
        return self.post(
            "EntryRetracted",
            on,
            {"target_event_id": target_event_id, "reason": "entered on the wrong program"},
        )

    def weekdays(self, first: date, count: int, hours: float | str = 6) -> None:
        day = first
        posted = 0
        while posted < count:
            if day.weekday() < 5:
                self.session(day, hours)
                posted += 1
            day += timedelta(days=1)

    def recorded_at(self, index: int) -> datetime:
        """The instant the `index`-th posted event (0-based) was recorded."""
        return datetime.fromisoformat(self.receipts[index]["recorded_at"])


def standard_program(tracker: Tracker, sessions: int = 6, policy: str | None = None) -> Clinic:
    """Referred, admitted, evaluated, `sessions` weekday sessions of 6 hours."""
    clinic = Clinic(tracker)
    clinic.refer(policy=policy)
    clinic.admit()
    clinic.evaluate()
    clinic.weekdays(ADMITTED_ON, sessions)
    return clinic
