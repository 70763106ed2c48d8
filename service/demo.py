"""Four realistic demo programs, sent through the tracker's own ingestion path (`wht demo`).

Ids are derived from names, so loading twice stores nothing new (idempotency).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any, get_args
from uuid import NAMESPACE_URL, UUID, uuid5

from domain.events import EvaluationDomain
from domain.intake import parse_event
from service.application import Tracker

# The demo's business date: after every demo event, fixed so that `wht demo` prints the
# same figures on any day it runs (as_of today would count weeks and deadlines to today).
AS_OF = date(2026, 6, 30)
PROVIDER = {"name": "Dana Ruiz", "discipline": "physical_therapist", "license_number": "PT-44120"}


class Script:
    """Builds one program's events with deterministic ids."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.program_id = uuid5(NAMESPACE_URL, f"wht-demo/{name}")
        self.events: list[tuple[str, date, dict[str, Any]]] = []

    def add(self, event_type: str, on: date, data: dict[str, Any]) -> None:
        self.events.append((event_type, on, data))

    def refer(self, on: date, region: str, referral_id: str) -> None:
        self.add(
            "ProgramReferred",
            on,
            {
                "worker": {
                    "worker_id": f"W-{self.name[:4].upper()}",
                    "name": f"Demo {self.name}",
                    "employer": "Acme Freight",
                    "job_title": "Warehouse associate",
                    "work_history": "9 years warehouse work; forklift certified",
                },
                "claim": {
                    "claim_number": f"WC-{referral_id}",
                    "injury_date": str(on - timedelta(90)),
                    "body_region": region,
                    "compensable_injury_reported": True,
                },
                "referral": {
                    "source": "physician",
                    "referred_by": "Dr. A. Patel",
                    "physician_referral_id": referral_id,
                    "prescription": {"prescriber": "Dr. A. Patel", "prescribed_on": str(on)},
                },
                "provider_id": "clinic-north",
                "time_zone": "America/Chicago",
            },
        )

    def admit(self, on: date) -> None:
        self.add(
            "ProgramAdmitted",
            on,
            {
                "criteria": {
                    "potential_to_benefit": True,
                    "function_interferes_with_work": True,
                    "return_to_work_plan": True,
                    "psychosocial_barriers": True,
                    "no_prohibiting_condition": True,
                    "informed_consent": True,
                },
                "targeted_job": "Warehouse associate, full duty",
            },
        )
        self.add(
            "InitialEvaluationDocumented",
            on,
            {
                "evaluator": PROVIDER,
                "domains": list(get_args(EvaluationDomain)),  # all nine (TS-b)
                "measures": {"lift_floor_to_waist_lb": 25, "grip_kg": 31},
                "goals": ["lift 50 lb floor to waist", "tolerate 8 h shift"],
                "documented_on": str(on + timedelta(2)),
            },
        )

    def session(self, on: date, hours: float) -> None:
        self.add(
            "SessionLogged",
            on,
            {
                "hours": hours,
                "provider": PROVIDER,
                "activities": ["strength_stabilization", "work_simulation"],
                "ancillary_minutes": {"97110": 20, "97530": 15, "97112": 0},
                "documented": True,
            },
        )

    def reevaluate(self, on: date, done: bool = False) -> None:
        self.add(
            "ProgressReEvaluated",
            on,
            {
                "goals_met": done,
                "return_to_work_ready": done,
                "plateau": False,
                "appropriate_to_continue": not done,
                "measures": {"lift_floor_to_waist_lb": 40},
            },
        )

    def weeks(self, start: date, weeks: int, hours: float, skip: set[date] | None = None) -> None:
        for k in range(weeks):
            for d in range(5):
                day = start + timedelta(7 * k + d)
                if day not in (skip or set()):
                    self.session(day, hours)
            self.reevaluate(start + timedelta(7 * k + 4), done=False) if k % 2 else None

    def discharge(self, on: date, reason: str) -> None:
        self.add(
            "ProgramDischarged",
            on,
            {"reason": reason, "outcome": "see report", "recommendations": "return to work"},
        )
        self.add(
            "DischargeReportFiled",
            on,
            {
                "demographics": "48-year-old male",
                "work_history": "9 years warehouse",
                "indications": "low back strain",
                "interventions": "work simulation, conditioning",
                "outcomes": reason,
                "recommendations": "full duty",
            },
        )


def scripts() -> list[Script]:
    monday = date(2026, 3, 9)
    compliant = Script("compliant")
    compliant.refer(monday - timedelta(7), "low_back", "PR-1001")
    compliant.admit(monday)
    compliant.weeks(monday, 4, 6)
    compliant.reevaluate(monday + timedelta(25), done=True)
    compliant.discharge(monday + timedelta(25), "goals_met")
    # Staff conferences (TS-j) every other Friday, sent after the discharge (backdated
    # facts, as clinics send them): appended, so that earlier events keep their ids.
    for day in (11, 25):
        compliant.add(
            "StaffConferenceHeld",
            monday + timedelta(day),
            {"attendees": ["Dana Ruiz", "Dr. A. Patel"], "notes": "progress and plan"},
        )

    tardy = Script("tardiness-non-compliance")
    tardy.refer(monday - timedelta(7), "shoulder", "PR-1002")
    tardy.admit(monday)
    tardy.weeks(monday, 4, 5, skip={monday + timedelta(2)})
    tardy.add("AbsenceRecorded", monday + timedelta(2), {"excused": False, "reason": "no show"})
    for k in range(4):
        for d in range(5):
            if (k, d) != (0, 2):
                tardy.add("TardinessRecorded", monday + timedelta(7 * k + d), {"minutes_late": 20})
    tardy.discharge(monday + timedelta(25), "non_compliance")

    over = Script("over-daily-cap")
    over.refer(monday - timedelta(7), "knee_leg", "PR-1003")
    over.admit(monday)
    over.weeks(monday, 2, 9.5)

    excluded = Script("excluded-region")
    excluded.refer(monday - timedelta(7), "ankle_foot", "PR-1004")
    excluded.admit(monday)
    excluded.weeks(monday, 1, 6)
    return [compliant, tardy, over, excluded]


def load_demo(tracker: Tracker) -> Iterator[tuple[str, UUID, dict[str, Any]]]:
    """Send every demo event through `Tracker.ingest`; yield each program's figures as of
    `AS_OF`."""
    for script in scripts():
        for n, (event_type, on, data) in enumerate(script.events):
            event_id = uuid5(script.program_id, f"{n}")
            tracker.ingest(script.program_id, parse_event(event_id, event_type, on, data))
        figures = tracker.view(script.program_id).assess(AS_OF).figures()
        yield script.name, script.program_id, figures
