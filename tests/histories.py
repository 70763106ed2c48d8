"""Generated program histories, as a clinic would send them, for property tests.

`histories()` draws one program's events in record order: a referral, maybe
an admission (sometimes retracted and posted again on another day), an
evaluation, sessions of every length, absences, tardiness, re-evaluations,
a medical change, a discharge and its report, with retractions of earlier
entries woven in, and sometimes the referral itself retracted and posted
again. The application accepts every event of a history but one kind:
singletons are only posted again after a retraction, no day holds more than 24
hours of sessions and no date is after `LATEST`; an admission or discharge posted
again out of order (R17) is refused, with the retractions aimed at it.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any
from uuid import UUID, uuid4

from hypothesis import strategies as st

from domain.events import EVENT_MODELS
from domain.facts import Fact
from domain.intake import parse_event

if TYPE_CHECKING:
    from service.application import Tracker

Body = dict[str, Any]
LATEST = date(2026, 10, 1)  # no generated date is after this (today is later)
LICENSED = {"name": "Pat Lee", "discipline": "physical_therapist", "license_number": "PT-1"}
UNLICENSED = {"name": "Sam Aide", "discipline": "aide", "license_number": None}
CRITERIA = (
    "potential_to_benefit",
    "function_interferes_with_work",
    "return_to_work_plan",
    "psychosocial_barriers",
    "no_prohibiting_condition",
    "informed_consent",
)
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
SECTIONS = (
    "demographics",
    "work_history",
    "indications",
    "interventions",
    "outcomes",
    "recommendations",
)
HOURS = [1, 1.5, 2, 3.5, 4, 6, 8, 8.5, 10]


def body(event_type: str, on: date, data: Body) -> Body:
    return {
        "event_id": str(uuid4()),
        "type": event_type,
        "occurred_on": on.isoformat(),
        "data": data,
    }


def referral(
    on: date,
    provider_id: str,
    referral_id: str,
    *,
    region: str = "low_back",
    complete: bool = True,
    policy: str | None = None,
) -> Body:
    data: Body = {
        # The referral id's own worker: programs are one client's injury (COV-1, R16)
        # exactly when they share a referral id, never through the shared claim number.
        "worker": {"worker_id": f"W-{referral_id}", "name": "Ana Diaz", "employer": "Acme"},
        "claim": {
            "claim_number": "C-1",
            "body_region": region,
            "compensable_injury_reported": complete,
        },
        "referral": {
            "source": "physician",
            "referred_by": "Dr. Ray",
            "physician_referral_id": referral_id,
            "prescription": {"prescriber": "Dr. Ray"} if complete else None,
        },
        "provider_id": provider_id,
    }
    if policy:
        data["policy"] = policy
    return body("ProgramReferred", on, data)


def retraction(target: Body, on: date) -> Body:
    return body("EntryRetracted", on, {"target_event_id": target["event_id"], "reason": "error"})


@st.composite
def _others(draw: st.DrawFn, start: date) -> list[Body]:
    """Everything after the referral, in date order (shuffled later)."""

    def at(low: int, high: int) -> date:
        return min(start + timedelta(days=draw(st.integers(low, high))), LATEST)

    found: list[Body] = []
    if draw(st.integers(0, 9)) > 0:
        criteria = {name: draw(st.integers(0, 5)) > 0 for name in CRITERIA}
        found.append(body("ProgramAdmitted", start, {"criteria": criteria}))
    if draw(st.booleans()):
        on = at(-2, 6)
        documented = draw(st.one_of(st.none(), st.integers(-1, 14)))
        found.append(
            body(
                "InitialEvaluationDocumented",
                on,
                {
                    "evaluator": draw(st.sampled_from([LICENSED, LICENSED, UNLICENSED])),
                    "domains": DOMAINS if draw(st.booleans()) else DOMAINS[:4],
                    "measures": {"lift_kg": 10} if draw(st.booleans()) else {},
                    "goals": ["lift"] if draw(st.booleans()) else [],
                    "documented_on": (
                        None
                        if documented is None
                        else min(on + timedelta(days=documented), LATEST).isoformat()
                    ),
                },
            )
        )
    hours_on: dict[date, float] = {}
    for _ in range(draw(st.integers(0, 16))):
        on, hours = at(-3, 66), draw(st.sampled_from(HOURS))
        if hours_on.get(on, 0) + hours > 24:
            continue  # no day holds more than 24 hours of sessions (refused: R3)
        hours_on[on] = hours_on.get(on, 0) + hours
        found.append(
            body(
                "SessionLogged",
                on,
                {
                    "hours": hours,
                    "provider": LICENSED if draw(st.integers(0, 7)) else UNLICENSED,
                    "ancillary_minutes": {"97110": draw(st.sampled_from([0, 20, 45, 60]))},
                    "documented": draw(st.integers(0, 7)) > 0,
                },
            )
        )
    for _ in range(draw(st.integers(0, 5))):
        found.append(body("AbsenceRecorded", at(0, 60), {"excused": draw(st.booleans())}))
    for _ in range(draw(st.integers(0, 7))):
        found.append(body("TardinessRecorded", at(0, 60), {"minutes_late": 15}))
    for _ in range(draw(st.integers(0, 3))):
        flag = draw(st.sampled_from(["goals_met", "plateau", "return_to_work_ready", "none"]))
        found.append(body("ProgressReEvaluated", at(3, 63), {flag: True} if flag != "none" else {}))
    if draw(st.integers(0, 5)) == 0:
        found.append(body("MedicalConditionChanged", at(0, 60), {"description": "flare"}))
    if draw(st.integers(0, 5)) == 0:
        found.append(body("StaffConferenceHeld", at(0, 60), {"attendees": ["PT"]}))
    if draw(st.integers(0, 6)) == 0:
        found.append(body("RepeatProgramApproved", at(-5, 30), {"reviewer": "Dr. Kim"}))
    if draw(st.booleans()):
        out = at(0, 70)
        reason = draw(
            st.sampled_from(
                [
                    "goals_met",
                    "plateau",
                    "non_compliance",
                    "medical_condition_changed",
                    "return_to_work_ready",
                ]
            )
        )
        found.append(body("ProgramDischarged", out, {"reason": reason}))
        if draw(st.booleans()):
            filed = min(out + timedelta(days=draw(st.integers(0, 25))), LATEST)
            blank = draw(st.sets(st.sampled_from(SECTIONS), max_size=2))
            found.append(
                body(
                    "DischargeReportFiled",
                    filed,
                    {s: "" if s in blank else "text" for s in SECTIONS},
                )
            )
    return found


@st.composite
def histories(
    draw: st.DrawFn,
    provider_id: str = "clinic-1",
    referral_ids: tuple[str, ...] = ("PR-1", "PR-2"),
    earliest: date = date(2017, 6, 1),
) -> list[Body]:
    """One program's events in record order (see the module docstring)."""
    start = draw(st.dates(earliest, LATEST - timedelta(days=75)))
    referred_on = start - timedelta(days=draw(st.integers(0, 10)))
    first = referral(
        referred_on,
        provider_id,
        draw(st.sampled_from(referral_ids)),
        region=draw(st.sampled_from(["low_back", "low_back", "elbow", "other"])),
        complete=draw(st.integers(0, 4)) > 0,
    )
    pending = draw(st.permutations(draw(_others(start))))
    trail: list[Body] = [first]
    live: list[Body] = []  # entries that can still be retracted
    for entry in pending:
        trail.append(entry)
        live.append(entry)
        if live and draw(st.integers(0, 5)) == 0:
            target = live.pop(draw(st.integers(0, len(live) - 1)))
            trail.append(retraction(target, date.fromisoformat(target["occurred_on"])))
            if target["type"] in ("ProgramAdmitted", "ProgramDischarged") and draw(st.booleans()):
                moved = date.fromisoformat(target["occurred_on"]) + timedelta(
                    days=draw(st.integers(1, 5))
                )
                again = body(target["type"], min(moved, LATEST), target["data"])
                trail.append(again)
                live.append(again)
    if draw(st.integers(0, 7)) == 0:
        other = f"{provider_id}-b" if draw(st.booleans()) else provider_id
        trail.append(retraction(first, referred_on))
        trail.append(
            referral(
                referred_on + timedelta(days=draw(st.integers(0, 3))),
                other,
                draw(st.sampled_from(referral_ids)),
            )
        )
    return trail


def as_facts(bodies: list[Body]) -> list[Fact]:
    """The bodies as recorded facts: versions from 1, one minute apart."""
    clock = datetime(2026, 10, 2, 9, 0, tzinfo=UTC)
    return [
        Fact(
            version=number,
            event_id=item["event_id"],
            type=item["type"],
            occurred_on=date.fromisoformat(item["occurred_on"]),
            recorded_at=clock + timedelta(minutes=number),
            data=EVENT_MODELS[item["type"]].model_validate(item["data"]),
        )
        for number, item in enumerate(bodies, start=1)
    ]


def sample_program(rnd: random.Random, provider_id: str, start: date) -> list[Body]:
    """A plain program drawn from `rnd`: referral, admission, a few weeks of sessions
    (some over the daily cap), absences, maybe a retraction, maybe a discharge."""
    events = [
        referral(
            start - timedelta(days=rnd.randint(0, 7)), provider_id, f"PR-{rnd.randint(0, 10**9)}"
        ),
        body("ProgramAdmitted", start, {"criteria": dict.fromkeys(CRITERIA, True)}),
    ]
    for offset in range(rnd.randint(0, 40)):
        on = start + timedelta(days=offset)
        if on.weekday() < 5 and on <= LATEST:
            events.append(
                body(
                    "SessionLogged",
                    on,
                    {
                        "hours": rnd.choice(HOURS[3:]),
                        "provider": LICENSED,
                        "documented": rnd.random() > 0.05,
                    },
                )
            )
    for _ in range(rnd.randint(0, 4)):
        events.append(
            body(
                "AbsenceRecorded",
                start + timedelta(days=rnd.randint(0, 30)),
                {"excused": rnd.random() > 0.5},
            )
        )
    if len(events) > 3 and rnd.random() < 0.3:
        events.append(retraction(rnd.choice(events[2:]), start))
    if rnd.random() < 0.4:
        events.append(
            body(
                "ProgramDischarged",
                min(start + timedelta(days=45), LATEST),
                {"reason": "goals_met"},
            )
        )
    return events


def send_in_batches(tracker: Tracker, items: list[tuple[UUID, Body]], size: int) -> None:
    """Ingest `(program_id, body)` items through `Tracker.ingest_batch`, `size` at a time."""
    for at in range(0, len(items), size):
        tracker.ingest_batch(
            [
                (
                    pid,
                    parse_event(
                        e["event_id"], e["type"], date.fromisoformat(e["occurred_on"]), e["data"]
                    ),
                )
                for pid, e in items[at : at + size]
            ]
        )
