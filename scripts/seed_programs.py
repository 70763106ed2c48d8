"""Seed many programs quickly, project them, and show the regulator query's plan.

    python -m scripts.seed_programs --programs 10000 [--database-url URL] [--skip-seed]
        [--kill-restart] [--verify]

Writes N programs across providers through `Tracker.ingest_batch` (1,000
events a batch, as `wht import` and POST /v1/events do), with recorded_at
spread over the months the events happened in (a fake clock: each event is
recorded the evening of the day it occurred), so "as known at" means something.
Then it brings the read model up to date and prints, for a few regulator
queries, the database's query plan and the median time of the query.
`--kill-restart` first rebuilds the read model through `wht project`, killed
(-9) part way and restarted; `--verify` then checks every program's entry
against its own compliance (folded one by one) at two pairs of times.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from typing import Any
from uuid import UUID, uuid4

from rich.progress import Progress

from api.bootstrap import tracker_for
from api.settings import Settings
from domain.intake import parse_event
from scripts.readmodel_checks import kill_and_restart, verify
from service.readmodel.runner import ReadModelRunner, open_read_model
from service.readmodel.view import ProgramQuery

LICENSED = {"name": "Pat Lee", "discipline": "physical_therapy", "license_number": "PT-1"}
CRITERIA = (
    "potential_to_benefit",
    "function_interferes_with_work",
    "return_to_work_plan",
    "psychosocial_barriers",
    "no_prohibiting_condition",
    "informed_consent",
)
Event = tuple[UUID, str, str, date, dict[str, Any]]  # program, event_id, type, date, data


def program(rnd: random.Random, provider: str) -> list[Event]:
    """One plausible program: referral, admission, evaluation, sessions, maybe discharge."""
    pid = uuid4()
    start = date(2025, 6, 2) + timedelta(days=rnd.randint(0, 450))
    out: list[Event] = []

    def add(kind: str, on: date, data: dict[str, Any]) -> None:
        out.append((pid, str(uuid4()), kind, on, data))

    add(
        "ProgramReferred",
        start - timedelta(days=rnd.randint(0, 7)),
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
                "physician_referral_id": f"PR-{rnd.randint(1, 10**8)}",
                "prescription": {"prescriber": "Dr. Ray"},
            },
            "provider_id": provider,
        },
    )
    add("ProgramAdmitted", start, {"criteria": {c: rnd.random() > 0.05 for c in CRITERIA}})
    add(
        "InitialEvaluationDocumented",
        start,
        {
            "evaluator": LICENSED,
            "domains": ["musculoskeletal", "vocational"],
            "measures": {"lift_kg": 20},
            "goals": ["lift"],
            "documented_on": (start + timedelta(days=rnd.choice([1, 2, 9]))).isoformat(),
        },
    )
    days = sorted(rnd.sample(range(0, 56), rnd.randint(3, 12)))
    for offset in days:
        add(
            "SessionLogged",
            start + timedelta(days=offset),
            {
                "hours": rnd.choice([3, 4, 6, 6, 8, 9]),
                "provider": LICENSED,
                "documented": rnd.random() > 0.05,
            },
        )
    if rnd.random() < 0.3:
        add("AbsenceRecorded", start + timedelta(days=rnd.randint(0, 40)), {"excused": False})
    if rnd.random() < 0.5:
        add("ProgressReEvaluated", start + timedelta(days=14), {"goals_met": rnd.random() < 0.5})
    if rnd.random() < 0.5:
        out_on = start + timedelta(days=rnd.randint(30, 63))
        add("ProgramDischarged", out_on, {"reason": "goals_met"})
        if rnd.random() < 0.7:
            add(
                "DischargeReportFiled",
                out_on + timedelta(days=rnd.randint(1, 20)),
                {
                    s: "text"
                    for s in (
                        "demographics",
                        "work_history",
                        "indications",
                        "interventions",
                        "outcomes",
                        "recommendations",
                    )
                },
            )
    latest = date(2026, 11, 1)
    return [e for e in out if e[3] <= latest]


def recorded_times(events: list[Event]) -> Iterator[datetime]:
    """Each event recorded at 18:00 UTC on its day, a microsecond apart: a fake clock."""
    last = datetime.min.replace(tzinfo=UTC)
    for event in events:
        at = max(
            datetime.combine(event[3], clock_time(18), tzinfo=UTC), last + timedelta(microseconds=1)
        )
        last = at
        yield at


def seed(settings: Settings, count: int, providers: int, rng_seed: int) -> None:
    rnd = random.Random(rng_seed)
    events = [e for n in range(count) for e in program(rnd, f"clinic-{n % providers:03d}")]
    events.sort(key=lambda e: e[3])  # as the clinics would send them: day by day
    tracker = tracker_for(settings)
    times = recorded_times(events)
    tracker.clock = lambda: next(times)
    began = time.monotonic()
    with Progress() as progress:
        task = progress.add_task(f"ingesting {len(events)} events", total=len(events))
        for at in range(0, len(events), 1000):
            chunk = events[at : at + 1000]
            tracker.ingest_batch(
                [(pid, parse_event(eid, kind, on, data)) for pid, eid, kind, on, data in chunk]
            )
            progress.advance(task, len(chunk))
    print(f"ingested {len(events)} events of {count} programs in {time.monotonic() - began:.0f} s")
    tracker.close()


def project(settings: Settings) -> None:
    tracker = tracker_for(settings)
    runner = ReadModelRunner(tracker, open_read_model(tracker))
    began, start, latest = time.monotonic(), runner.position(), runner.latest()
    with Progress() as progress:
        task = progress.add_task("projecting", total=latest - start)
        runner.catch_up(progress=lambda at: progress.update(task, completed=at - start))
    runner.view.analyze()
    print(
        f"projected {latest - start} events in {time.monotonic() - began:.0f} s; "
        f"rows: {runner.view.counts()}"
    )
    tracker.close()


QUERIES: dict[str, dict[str, Any]] = {
    "provider + finding (over the daily cap), as of 2026-03-01 known at 2026-03-15": dict(
        provider_id="clinic-007", finding="daily_hours_over_cap"
    ),
    "finding only (over the daily cap), first page": dict(finding="daily_hours_over_cap"),
    "status admitted + discharge eligible, first page": dict(
        status="admitted", discharge_eligible=True
    ),
    "provider only": dict(provider_id="clinic-007"),
    "no filter, first page": dict(),
}


def explain(settings: Settings) -> None:
    tracker = tracker_for(settings)
    view = open_read_model(tracker)
    as_of, known_at = date(2026, 3, 1), datetime(2026, 3, 15, 12, tzinfo=UTC)
    for title, filters in QUERIES.items():
        query = ProgramQuery(as_of=as_of, known_at=known_at, limit=50, **filters)
        timings = []
        for _ in range(20):
            began = time.perf_counter()
            page = view.programs(query)
            timings.append(time.perf_counter() - began)
        print(
            f"\n== {title}: {len(page.programs)} programs (more: {page.more}), "
            f"median {statistics.median(timings) * 1000:.2f} ms over 20 runs"
        )
        for line in view.explain(query):
            print(f"   {line}")
    tracker.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--programs", type=int, default=10_000)
    parser.add_argument("--providers", type=int, default=40)
    parser.add_argument("--seed", type=int, default=481)
    settings = Settings()
    parser.add_argument("--database-url", default=settings.database_url)
    parser.add_argument("--skip-seed", action="store_true")
    parser.add_argument(
        "--kill-restart",
        action="store_true",
        help="rebuild the read model through a kill -9 and a restart",
    )
    parser.add_argument(
        "--verify",
        action="store_true",
        help="compare every program's entry with its own compliance",
    )
    args = parser.parse_args()
    settings = settings.model_copy(update={"database_url": args.database_url})
    if not args.skip_seed:
        seed(settings, args.programs, args.providers, args.seed)
    if args.kill_restart:
        kill_and_restart(settings)
    project(settings)
    explain(settings)
    if args.verify:
        verify(settings)


if __name__ == "__main__":
    main()
