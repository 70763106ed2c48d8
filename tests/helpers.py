"""Event builders shared by the integration and end-to-end tests.

Each builder returns an event as a client posts it (API.md, "Ingest"):
`{"event_id", "type", "occurred_on", "data"}` with a fresh uuid4 event id
and JSON-ready values. `send` and `send_batch` put such dicts through the
tracker's own ingestion path, the same one the HTTP routes use.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Sequence
from datetime import date, timedelta
from typing import Any
from uuid import UUID, uuid4

from domain.intake import NewEvent, parse_event
from service.application import Receipt, Tracker

Body = dict[str, Any]

# A Monday referral and the Monday after it as admission: well in the past.
REFERRED_ON = date(2026, 3, 2)
ADMITTED_ON = date(2026, 3, 9)
LATER = date(2026, 6, 30)  # an as_of after every date these tests use

LICENSED = {"name": "Dana Ruiz", "discipline": "physical_therapist", "license_number": "PT-44120"}
UNLICENSED = {"name": "Sam Aide", "discipline": "aide", "license_number": None}
ALL_DOMAINS = [
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
FULL_CRITERIA = {
    "potential_to_benefit": True,
    "function_interferes_with_work": True,
    "return_to_work_plan": True,
    "psychosocial_barriers": True,
    "no_prohibiting_condition": True,
    "informed_consent": True,
}


def plus(start: date, days: int) -> date:
    """`start` moved by `days` calendar days."""
    return start + timedelta(days=days)


def event(
    event_type: str,
    on: date | str,
    data: Body | None = None,
    *,
    event_id: UUID | str | None = None,
    expected_version: int | None = None,
) -> Body:
    """One event as the API takes it; a new uuid4 event id unless given."""
    body: Body = {
        "event_id": str(event_id or uuid4()),
        "type": event_type,
        "occurred_on": on if isinstance(on, str) else on.isoformat(),
        "data": data if data is not None else {},
    }
    if expected_version is not None:
        body["expected_version"] = expected_version
    return body


def referred(
    on: date = REFERRED_ON,
    *,
    region: str = "low_back",
    referral_id: str | None = None,
    worker_id: str | None = None,
    claim_number: str = "WC-77812",
    time_zone: str | None = "America/Chicago",
    policy: str | None = None,
    **overrides: Any,
) -> Body:
    """A complete ProgramReferred: reported injury, physician referral, prescription.

    Unless given, the worker is the referral id's own (`W-<referral id>`): two
    programs are then one client's injury (COV-1, docs/domain.md R16) exactly
    when they share a referral id, and programs on their own referral ids are
    never repeats of each other through the shared claim number."""
    referral_id = referral_id if referral_id is not None else f"PR-{uuid4().hex[:8]}"
    data: Body = {
        "worker": {
            "worker_id": worker_id if worker_id is not None else f"W-{referral_id}",
            "name": "Ana Diaz",
            "employer": "Acme Freight",
            "job_title": "Warehouse associate",
            "work_history": "12 years in warehousing; forklift certified",
        },
        "claim": {
            "claim_number": claim_number,
            "injury_date": plus(on, -60).isoformat(),
            "body_region": region,
            "compensable_injury_reported": True,
        },
        "referral": {
            "source": "physician",
            "referred_by": "Dr. A. Patel",
            "physician_referral_id": referral_id,
            "prescription": {"prescriber": "Dr. A. Patel", "prescribed_on": on.isoformat()},
        },
        "provider_id": "clinic-north",
    }
    if time_zone is not None:
        data["time_zone"] = time_zone
    if policy is not None:
        data["policy"] = policy
    data.update(overrides)
    return event("ProgramReferred", on, data)


def admitted(on: date = ADMITTED_ON, **criteria: bool) -> Body:
    """A ProgramAdmitted with every admission criterion met unless overridden."""
    return event(
        "ProgramAdmitted",
        on,
        {
            "criteria": {**FULL_CRITERIA, **criteria},
            "targeted_job": "Warehouse associate, full duty",
        },
    )


def evaluated(on: date = ADMITTED_ON, documented_on: date | None = None) -> Body:
    """A complete InitialEvaluationDocumented, documented the same day unless told."""
    return event(
        "InitialEvaluationDocumented",
        on,
        {
            "evaluator": LICENSED,
            "domains": ALL_DOMAINS,
            "measures": {"lift_floor_to_waist_lb": 25, "grip_kg": 31.5},
            "goals": ["lift 50 lb floor to waist", "tolerate an 8 h shift"],
            "documented_on": (documented_on or on).isoformat(),
        },
    )


def session(
    on: date,
    hours: float | int | str = 6,
    *,
    provider: Body | None = None,
    documented: bool = True,
    ancillary: tuple[int, int, int] = (20, 15, 0),
) -> Body:
    """A SessionLogged by a licensed provider, documented that day unless told."""
    return event(
        "SessionLogged",
        on,
        {
            "hours": hours,
            "provider": provider or LICENSED,
            "activities": ["strength_stabilization", "work_simulation"],
            "ancillary_minutes": {
                "97110": ancillary[0],
                "97530": ancillary[1],
                "97112": ancillary[2],
            },
            "documented": documented,
        },
    )


def absence(on: date, *, excused: bool = False, reason: str = "no show") -> Body:
    return event("AbsenceRecorded", on, {"excused": excused, "reason": reason})


def tardiness(on: date, minutes: int = 20) -> Body:
    return event("TardinessRecorded", on, {"minutes_late": minutes})


def reevaluated(on: date, *, done: bool = False) -> Body:
    return event(
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


def conference(on: date) -> Body:
    return event(
        "StaffConferenceHeld",
        on,
        {"attendees": ["Dana Ruiz", "Dr. Patel"], "notes": "progressing on lifting goals"},
    )


def condition_changed(on: date, *, prohibits: bool = False) -> Body:
    return event(
        "MedicalConditionChanged",
        on,
        {"description": "flare of back pain", "prohibits_participation": prohibits},
    )


def discharged(on: date, reason: str = "goals_met") -> Body:
    return event(
        "ProgramDischarged",
        on,
        {"reason": reason, "outcome": "lifts 50 lb", "recommendations": "return to full duty"},
    )


def report(on: date) -> Body:
    return event(
        "DischargeReportFiled",
        on,
        {
            "demographics": "Ana Diaz, 41",
            "work_history": "12 years in warehousing",
            "indications": "lifting tolerance below job demands",
            "interventions": "graded lifting, work simulation",
            "outcomes": "goals met",
            "recommendations": "return to full duty",
        },
    )


def repeat_approved(on: date) -> Body:
    return event(
        "RepeatProgramApproved",
        on,
        {"reviewer": "Dr. M. Chen", "rationale": "new injury to the same region"},
    )


def retraction(on: date, target: Body | str, reason: str = "entered in error") -> Body:
    target_id = target if isinstance(target, str) else target["event_id"]
    return event("EntryRetracted", on, {"target_event_id": target_id, "reason": reason})


def with_data(body: Body, **changes: Any) -> Body:
    """The same event (same event_id) with some fields of its data changed."""
    changed = copy.deepcopy(body)
    changed["data"].update(changes)
    return changed


def new_event(body: Body) -> NewEvent:
    """An API-shaped dict turned into the tracker's NewEvent (as the ingest route does)."""
    return parse_event(
        body["event_id"],
        body["type"],
        date.fromisoformat(body["occurred_on"]),
        body.get("data"),
        body.get("expected_version"),
    )


def send(tracker: Tracker, program_id: UUID, body: Body) -> Receipt:
    """Ingest one API-shaped event."""
    return tracker.ingest(program_id, new_event(body))


def send_all(tracker: Tracker, program_id: UUID, bodies: Iterable[Body]) -> list[Receipt]:
    """Ingest events one by one, in order."""
    return [send(tracker, program_id, body) for body in bodies]


def send_batch(tracker: Tracker, items: Sequence[tuple[UUID, Body]]) -> list[Receipt]:
    """Ingest events across programs as one all-or-nothing batch."""
    return tracker.ingest_batch([(pid, new_event(body)) for pid, body in items])


def opened(on: date = ADMITTED_ON, **referral: Any) -> list[Body]:
    """Referral, admission and a complete initial evaluation: a program under way."""
    return [referred(**referral), admitted(on), evaluated(on)]


def weekdays(start: date, count: int) -> list[date]:
    """The first `count` weekdays from `start` on (start included if a weekday)."""
    days: list[date] = []
    day = start
    while len(days) < count:
        if day.weekday() < 5:
            days.append(day)
        day = plus(day, 1)
    return days
