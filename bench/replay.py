"""Phase 6: the audit replay of a long program over that of a short one.

Two programs of the workload (100 and 1,000 events; a day's events dated as a
clinic would send them) are seeded through `Tracker.ingest_batch`, then the
audit use case the route `GET /v1/programs/{id}/audit` calls,
`service.replay.audit`, is timed **in-process** (the service call, no HTTP):
wall and CPU time of the benchmark's process, best of a few runs after one
warm-up. `replay_growth` is CPU(1,000 events) / CPU(100 events): CPU time,
because the wall time of one call on a shared 2-core machine moves with the
other tenants' load, and the call is single-threaded. Linear work would give
10; the work that assessed every prefix from scratch gave about 75.

The answer itself is not linear: each step's figures carry every finding so
far (docs/reference/http.md), so the JSON grows with steps times findings; its size is
reported beside the times (`answer_bytes`).
"""

from __future__ import annotations

import json
import random
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from bench.reads import seed
from bench.stores import Stores
from bench.workload import program, span_days

SIZES = (100, 1000)


def replay(stores: Stores, runs: dict[int, int] | None = None) -> dict[str, Any]:
    from api.bootstrap import build_tracker
    from service.replay import audit

    url = stores.fresh("replay")
    rnd = random.Random(66)
    last = datetime.now(UTC).date() - timedelta(days=7)
    made = []
    for size in SIZES:
        events = program(rnd, "clinic-000", size, last - timedelta(days=span_days(size)))
        seed(url, events, 500)
        made.append((size, events[0][0]))
    repeat = runs or {100: 5, 1000: 3}
    sizes: dict[str, Any] = {}
    tracker = build_tracker(url, cipher_key="")
    try:
        for size, pid in made:
            steps = audit(tracker, pid)  # warm-up: the program is loaded, as a server has it
            walls, cpus = [], []
            for _ in range(repeat[size]):
                wall, cpu = time.perf_counter(), time.process_time()
                audit(tracker, pid)
                cpus.append(time.process_time() - cpu)
                walls.append(time.perf_counter() - wall)
            sizes[str(size)] = {
                "events": size,
                "steps": len(steps),
                "runs": repeat[size],
                "wall_ms": min(walls) * 1000,
                "cpu_ms": min(cpus) * 1000,
                "findings_last_step": len(steps[-1]["figures"]["findings"]),
                "answer_bytes": len(json.dumps(steps, separators=(",", ":"))),
            }
    finally:
        tracker.close()
    small, large = sizes[str(SIZES[0])], sizes[str(SIZES[1])]
    return {
        "sizes": sizes,
        "where": "in-process, the service call service.replay.audit (what the route calls)",
        "growth": large["cpu_ms"] / small["cpu_ms"],
        "growth_wall": large["wall_ms"] / small["wall_ms"],
    }
