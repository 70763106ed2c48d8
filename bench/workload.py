"""What the benchmarks send: plausible programs of events, and how many of them.

`programs` makes work hardening programs (referral, admission, evaluation,
then one working day after another of sessions, absences, tardiness,
re-evaluations and corrections, and a discharge with its report),
deterministic for a seed. `Plan` says how much each phase does.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID

Event = tuple[UUID, str, str, date, dict[str, Any]]  # program, event_id, type, date, data

MAX_DAY_HOURS = 24  # hours in a day: a date cannot hold more sessions
CLINICIAN = {"name": "Pat Lee", "discipline": "physical_therapist", "license_number": "PT-1"}
CRITERIA = (
    "potential_to_benefit",
    "function_interferes_with_work",
    "return_to_work_plan",
    "psychosocial_barriers",
    "no_prohibiting_condition",
    "informed_consent",
)
REPORT = (
    "demographics",
    "work_history",
    "indications",
    "interventions",
    "outcomes",
    "recommendations",
)


def _uuid(rnd: random.Random) -> UUID:
    return UUID(int=rnd.getrandbits(128), version=4)


def program(rnd: random.Random, provider: str, length: int, start: date) -> list[Event]:
    """One program of exactly `length` events (at least 3), admitted on `start`.

    Up to 200 events, one a working day (a program of 100 runs about 20
    weeks, past the policy's 8); longer ones three a working day.
    """
    pid = _uuid(rnd)
    out: list[Event] = []
    sessions: list[str] = []
    logged: dict[date, int] = {}

    def add(kind: str, on: date, data: dict[str, Any]) -> str:
        event_id = str(_uuid(rnd))
        out.append((pid, event_id, kind, on, data))
        return event_id

    add(
        "ProgramReferred",
        start - timedelta(days=rnd.randint(1, 7)),
        {
            "worker": {"worker_id": f"W-{rnd.randint(1, 10**6)}"},
            "claim": {
                "claim_number": f"C-{rnd.randint(1, 10**6)}",
                "body_region": rnd.choice(["low_back"] * 8 + ["elbow", "knee_leg"]),
                "compensable_injury_reported": rnd.random() > 0.03,
            },
            "referral": {
                "source": "physician",
                "referred_by": "Dr. Ray",
                "physician_referral_id": f"PR-{rnd.getrandbits(40):x}",
                "prescription": {"prescriber": "Dr. Ray"},
            },
            "provider_id": provider,
        },
    )
    add("ProgramAdmitted", start, {"criteria": {c: rnd.random() > 0.03 for c in CRITERIA}})
    add(
        "InitialEvaluationDocumented",
        start,
        {
            "evaluator": CLINICIAN,
            "domains": ["musculoskeletal", "vocational"],
            "measures": {"lift_kg": 20},
            "goals": ["lift 20 kg floor to waist"],
            "documented_on": (start + timedelta(days=rnd.choice([0, 1, 2, 9]))).isoformat(),
        },
    )
    per_day = 1 if length <= 200 else 3
    # Long programs close with a discharge and its report; some short ones are
    # discharged early (so the regulator's status filter has discharged programs).
    closing = 2 if length >= 12 else int(length >= 4 and rnd.random() < 0.4)
    day, today_count, worked = start, 0, 0
    while len(out) < length - closing:
        if today_count == per_day or day.weekday() >= 5:
            day, today_count = day + timedelta(days=1), 0
            if day.weekday() < 5:
                worked += 1
            continue
        today_count += 1
        roll = rnd.random()
        if today_count == 1 and worked % 10 == 9:
            add(
                "ProgressReEvaluated",
                day,
                {
                    "goals_met": False,
                    "appropriate_to_continue": True,
                    "measures": {"lift_kg": 20 + worked // 10},
                },
            )
        elif today_count == 1 and roll < 0.08:
            add("AbsenceRecorded", day, {"excused": rnd.random() < 0.5, "reason": "sick"})
        elif today_count > 1 and roll < 0.3:
            add("TardinessRecorded", day, {"minutes_late": rnd.randint(5, 40)})
        elif today_count > 1 and roll < 0.4:
            add(
                "StaffConferenceHeld",
                day,
                {"attendees": ["Pat Lee", "Dr. Ray"], "notes": "progressing"},
            )
        elif sessions and roll > 0.98:
            add(
                "EntryRetracted",
                day,
                {
                    "target_event_id": sessions.pop(rnd.randrange(len(sessions))),
                    "reason": "entered in error",
                },
            )
        else:
            # The same draws as ever, but a date's sessions stay within 24 hours
            # (more cannot be a fact, and is refused).
            hours = min(rnd.choice([3, 4, 6, 6, 6, 8, 9]), MAX_DAY_HOURS - logged.get(day, 0))
            documented = rnd.random() > 0.05
            if hours > 0:
                logged[day] = logged.get(day, 0) + hours
                sessions.append(
                    add(
                        "SessionLogged",
                        day,
                        {
                            "hours": hours,
                            "provider": CLINICIAN,
                            "activities": ["work_simulation"],
                            "ancillary_minutes": {"97110": 20, "97530": 0, "97112": 0},
                            "documented": documented,
                        },
                    )
                )
    if closing:
        day += timedelta(days=1)
        add(
            "ProgramDischarged",
            day,
            {"reason": "goals_met", "outcome": "lifts 20 kg", "recommendations": "full duty"},
        )
        if closing == 2 and rnd.random() < 0.8:
            add(
                "DischargeReportFiled",
                day + timedelta(days=rnd.randint(1, 20)),
                dict.fromkeys(REPORT, "text"),
            )
        elif closing == 2:
            add("StaffConferenceHeld", day, {"attendees": ["Pat Lee"], "notes": "closing"})
    return out


def span_days(length: int) -> int:
    """Calendar days a program of `length` events may cover, referral to report."""
    per_day = 1 if length <= 200 else 3
    return 7 + (length // per_day) * 7 // 5 + 40


def programs(
    seed: int, count: int, lengths: tuple[int, int], providers: int = 40, until: date | None = None
) -> list[list[Event]]:
    """`count` programs of `lengths[0]` to `lengths[1]` events, all dated before `until`
    (default: a week ago), started over the year and a half before that."""
    rnd = random.Random(seed)
    last = until or (datetime.now(UTC).date() - timedelta(days=7))
    out = []
    for n in range(count):
        length = rnd.randint(*lengths)
        latest_start = last - timedelta(days=span_days(length))
        start = latest_start - timedelta(days=rnd.randint(0, 540))
        out.append(program(rnd, f"clinic-{n % providers:03d}", length, start))
    return out


def by_date(groups: list[list[Event]]) -> list[Event]:
    """All events in the order clinics would send them: day by day (stable per program)."""
    return sorted((e for g in groups for e in g), key=lambda e: e[3])


def body(event: Event, with_program: bool = False) -> dict[str, Any]:
    """An event as the HTTP API takes it."""
    pid, event_id, kind, on, data = event
    out: dict[str, Any] = {
        "event_id": event_id,
        "type": kind,
        "occurred_on": on.isoformat(),
        "data": data,
    }
    if with_program:
        out["program_id"] = str(pid)
    return out


def recorded_times(events: list[Event]) -> Iterator[datetime]:
    """A fake clock for seeding: each event recorded at 18:00 UTC on its day, a
    microsecond after the one before, so that `known_at` means something."""
    last = datetime.min.replace(tzinfo=UTC)
    for event in events:
        at = max(
            datetime.combine(event[3], datetime.min.time(), tzinfo=UTC) + timedelta(hours=18),
            last + timedelta(microseconds=1),
        )
        last = at
        yield at


@dataclass(frozen=True)
class Plan:
    """How much each phase does; every phase is bounded in count and in time."""

    clients: int = 8
    single_events: int = 2000
    single_seconds: float = 45.0
    batch_events: int = 15_000
    batch_size: int = 500
    batch_seconds: float = 25.0
    known_at_sizes: tuple[int, ...] = (100, 2000)
    known_at_repeat: int = 25
    regulator_programs: int = 10_000
    regulator_lengths: tuple[int, int] = (3, 4)
    regulator_queries: int = 300
    floor_runs: int = 3
    fleet_seconds: float = 60.0
    fleet_events: int = 40_000  # more than the clients can send in fleet_seconds
    rebuild_workers: int = 2  # a second `wht rebuild --workers N` after the plain one


QUICK = Plan(
    single_events=480,
    single_seconds=10.0,
    batch_events=2000,
    batch_seconds=10.0,
    known_at_sizes=(100, 500),
    known_at_repeat=11,
    regulator_programs=1000,
    regulator_queries=100,
    fleet_seconds=15.0,
    fleet_events=12_000,
)
