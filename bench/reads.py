"""Phases 3 to 5: point-in-time reads, the regulator's list, and rebuilding its read model.

known_at: compliance (the route function, in-process) with known_at in
mid-history over the same query without known_at. regulator: GET /v1/programs
over HTTP with as_of and known_at, on programs seeded through
`Tracker.ingest_batch`. rebuild: `wht rebuild` on that store; floor: reading
and decoding the same notification log with the library alone.
"""

from __future__ import annotations

import os
import random
import re
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx

from bench import floor
from bench.stores import (
    Stores,
    best,
    percentile,
    run_measured,
    served,
    store_process_env,
    wht_command,
)
from bench.workload import (
    Event,
    Plan,
    by_date,
    program,
    programs,
    recorded_times,
    span_days,
)

# ---- 3. point-in-time reads ----


def seed(
    url: str, events: list[Event], chunk: int, say: Callable[[str], None] | None = None
) -> float:
    """Ingest through `Tracker.ingest_batch` with a fake clock; the seconds it took.
    `say` hears how far it got about every 30 seconds."""
    from api.bootstrap import build_tracker
    from domain.intake import parse_event

    tracker = build_tracker(url, cipher_key="")
    times = recorded_times(events)
    tracker.clock = lambda: next(times)
    began = last = time.perf_counter()
    for first in range(0, len(events), chunk):
        tracker.ingest_batch(
            [
                (pid, parse_event(eid, kind, on, data))
                for pid, eid, kind, on, data in events[first : first + chunk]
            ]
        )
        if say is not None and time.perf_counter() - last > 30:
            last = time.perf_counter()
            done = min(first + chunk, len(events))
            say(
                f"  seeded {done:,} of {len(events):,} events "
                f"({done / (last - began):,.0f} events/s)"
            )
    elapsed = time.perf_counter() - began
    tracker.close()
    return elapsed


def known_at(stores: Stores, plan: Plan) -> dict[str, Any]:
    from api.bootstrap import build_tracker
    from api.routers.programs import compliance

    url = stores.fresh("known-at")
    rnd = random.Random(33)
    last = datetime.now(UTC).date() - timedelta(days=7)
    sizes: dict[str, Any] = {}
    made = []
    for size in plan.known_at_sizes:
        events = program(rnd, "clinic-000", size, last - timedelta(days=span_days(size)))
        seconds = seed(url, events, 500)
        middle = list(recorded_times(events))[size // 2 - 1]
        made.append((size, events[0][0], middle, max(e[3] for e in events)))
        sizes[str(size)] = {"seed_s": seconds}
    tracker = build_tracker(url, cipher_key="")
    try:
        for size, pid, middle, as_of in made:

            def timed(instant: datetime | None, pid: UUID = pid, as_of: date = as_of) -> float:
                began = time.perf_counter()
                compliance(pid, tracker, as_of, instant)
                return time.perf_counter() - began

            timed(None)  # the program is loaded once, as a running service has it
            mid, now = [], []
            for _ in range(plan.known_at_repeat):
                mid.append(timed(middle))
                now.append(timed(None))
            row = sizes[str(size)]
            row.update(
                events=size,
                known_at=middle.isoformat(),
                as_of=as_of.isoformat(),
                known_at_p50_ms=percentile(mid, 50),
                now_p50_ms=percentile(now, 50),
            )
            row["ratio"] = row["known_at_p50_ms"] / row["now_p50_ms"]
    finally:
        tracker.close()
    return {
        "sizes": sizes,
        "repeat": plan.known_at_repeat,
        "where": "in-process, route function api.routers.programs.compliance",
        "ratio": max(r["ratio"] for r in sizes.values()),
    }


# ---- 4 and 5. regulator queries, rebuild ----

REBUILT = re.compile(r"rebuilt the read model from (\d+) events in ([\d.]+) s")


def rebuild(url: str, workers: int = 1) -> dict[str, Any]:
    """`wht rebuild` (with `--workers N` when more than 1) as its own process: its own
    count and time, the wall time, and its peak RSS (of the parent: each worker is a
    process of its own, see `rebuild_workers_supported`)."""
    began = time.perf_counter()
    extra = ["--workers", str(workers)] if workers > 1 else []
    status, out, err, peak = run_measured(
        [*wht_command(), "rebuild", *extra], store_process_env(url)
    )
    wall = time.perf_counter() - began
    found = REBUILT.search(out)
    if status != 0 or found is None:
        raise RuntimeError(f"wht rebuild failed ({status}): {err[-500:]}")
    events, seconds = int(found.group(1)), float(found.group(2))
    return {
        "workers": workers,
        "events": events,
        "seconds": seconds,
        "wall_s": wall,
        "events_per_s": events / seconds,
        "peak_rss_mib": peak,
        "summary": found.group(0),
    }


def rebuild_workers_supported() -> bool:
    """Whether this `wht rebuild` takes `--workers` (older checkouts do not)."""
    status, out, _, _ = run_measured([*wht_command(), "rebuild", "--help"], os.environ.copy())
    return status == 0 and "--workers" in out


def regulator_queries(as_of: date, known_at: datetime) -> list[dict[str, Any]]:
    """The regulator's questions, each with as_of and known_at (a mix of filters)."""
    times = {"as_of": as_of.isoformat(), "known_at": known_at.isoformat().replace("+00:00", "Z")}
    filters: list[dict[str, Any]] = [
        {"provider_id": "clinic-007", "finding": "daily_hours_over_cap"},
        {"finding": "daily_hours_over_cap"},
        {"status": "admitted", "discharge_eligible": "true"},
        {"provider_id": "clinic-013"},
        {},
        {"status": "discharged"},
        {"finding": "admission_criteria_unmet", "provider_id": "clinic-021"},
    ]
    return [{**times, **f} for f in filters]


def regulator(
    stores: Stores, plan: Plan, logs: Path, say: Callable[[str], None] | None = None
) -> tuple[dict[str, Any], dict[str, Any]]:
    url = stores.fresh("regulator")
    groups = programs(seed=44, count=plan.regulator_programs, lengths=plan.regulator_lengths)
    events = by_date(groups)
    seconds = seed(url, events, 1000, say)
    seeded = {
        "programs": len(groups),
        "events": len(events),
        "seed_s": seconds,
        "seed_events_per_s": len(events) / seconds,
        "events_per_program": plan.regulator_lengths,
    }
    product = rebuild(url)
    lib = best(plan.floor_runs, lambda: floor.read_log(url))
    rebuilt: dict[str, Any] = {
        "product": product,
        "floor": lib,
        "ratio": product["events_per_s"] / lib["events_per_s"],
    }
    if plan.rebuild_workers > 1 and rebuild_workers_supported():
        parallel = rebuild(url, plan.rebuild_workers)
        rebuilt["workers"] = {
            "product": parallel,
            "ratio": parallel["events_per_s"] / lib["events_per_s"],
            "speedup": parallel["events_per_s"] / product["events_per_s"],
        }
    as_of = sorted(e[3] for e in events)[len(events) // 2]
    instant = datetime.combine(as_of + timedelta(days=14), clock_time(12), tzinfo=UTC)
    queries = regulator_queries(as_of, instant)
    latencies: list[float] = []
    listed: dict[str, int] = {}
    with (
        served(url, logs / "serve-regulator.log") as server,
        httpx.Client(base_url=server.base, timeout=60) as http,
    ):
        for params in queries:  # warm-up: one of each
            http.get("/v1/programs", params=params).raise_for_status()
        for n in range(plan.regulator_queries):
            params = queries[n % len(queries)]
            began = time.perf_counter()
            answer = http.get("/v1/programs", params=params)
            latencies.append(time.perf_counter() - began)
            answer.raise_for_status()
            key = "&".join(f"{k}={v}" for k, v in params.items() if k not in ("as_of", "known_at"))
            listed[key or "(no filter)"] = len(answer.json()["programs"])
        server_rss = server.peak_rss_mib()
    result = {
        **seeded,
        "queries": len(latencies),
        "as_of": as_of.isoformat(),
        "known_at": instant.isoformat(),
        "limit": 50,
        "where": "HTTP, GET /v1/programs to `wht serve`",
        "p50_ms": percentile(latencies, 50),
        "p95_ms": percentile(latencies, 95),
        "listed_per_query": listed,
        "server_peak_rss_mib": server_rss,
    }
    return result, rebuilt
