"""Phase 8: how the cost of one event, and of one compliance read, grows with its program.

Two programs of the workload are seeded through `Tracker.ingest_batch` to 10 and to
1,000 events; then, **in-process** (the service calls, no HTTP), each takes its next
`STEPS` events one `Tracker.ingest` at a time, and `compliance` (the route function)
is read `READS` times as of its latest date. Each figure is the median CPU time of
the benchmark's process per call (CPU, because one call is single-threaded and the
wall time of a call on a shared 2-core machine moves with other tenants' load).

- `ingest_growth`: ingest CPU per event at 1,000 events over that at 10. A judge
  that costs the same whatever the program's length gives 1.
- `compliance_growth`: the same for a compliance read.
"""

from __future__ import annotations

import random
import statistics
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from bench.reads import seed
from bench.stores import Stores
from bench.workload import Event, program, span_days

SIZES = (10, 1000)
STEPS = 20  # events ingested one by one after the seeded ones
READS = 15  # compliance reads of each program


def growing_programs() -> list[tuple[int, list[Event]]]:
    """For each of `SIZES`, a program of the workload with `STEPS` events more (the
    same ones on every run), all dated before a week ago."""
    rnd = random.Random(88)
    last = datetime.now(UTC).date() - timedelta(days=7)
    made = []
    for size in SIZES:
        length = size + STEPS
        start = last - timedelta(days=span_days(length))
        made.append((size, program(rnd, "clinic-000", length, start)))
    return made


def growth(stores: Stores) -> dict[str, Any]:
    from api.bootstrap import build_tracker
    from api.routers.programs import compliance
    from domain.intake import parse_event

    url = stores.fresh("growth")
    made = growing_programs()
    for size, events in made:
        seed(url, events[:size], 500)
    sizes: dict[str, Any] = {}
    tracker = build_tracker(url, cipher_key="")
    try:
        for size, events in made:
            pid = events[0][0]
            compliance(pid, tracker, None, None)  # loaded once, as a running service has it
            ingest_cpu = []
            for _, event_id, kind, on, data in events[size:]:
                parsed = parse_event(event_id, kind, on, data)
                began = time.process_time()
                tracker.ingest(pid, parsed)
                ingest_cpu.append(time.process_time() - began)
            as_of = max(e[3] for e in events)
            read_cpu = []
            for _ in range(READS):
                began = time.process_time()
                compliance(pid, tracker, as_of, None)
                read_cpu.append(time.process_time() - began)
            sizes[str(size)] = {
                "events": size,
                "ingest_cpu_ms": statistics.median(ingest_cpu) * 1000,
                "compliance_cpu_ms": statistics.median(read_cpu) * 1000,
                "ingests": len(ingest_cpu),
                "reads": len(read_cpu),
            }
    finally:
        tracker.close()
    small, large = sizes[str(SIZES[0])], sizes[str(SIZES[1])]
    return {
        "sizes": sizes,
        "where": "in-process: Tracker.ingest and the compliance route function",
        "ingest_growth": large["ingest_cpu_ms"] / small["ingest_cpu_ms"],
        "compliance_growth": large["compliance_cpu_ms"] / small["compliance_cpu_ms"],
    }
