#!/usr/bin/env python3
"""Benchmarks against the stack's own floor: ingestion, point-in-time reads, regulator
queries, rebuilds.

    .venv/bin/python -m bench [--quick] [--json FILE]
        [--database-url sqlite:///PATH | postgresql://postgres@127.0.0.1:5432/postgres]
    .venv/bin/wht bench ...            (the same, as a command)

One run, one machine, one kind of store; every product figure is set beside
the floor (the eventsourcing library alone doing the same storage work on the
same kind of store) and reported as a ratio, because absolute times on a
shared machine drift. Each phase uses its own fresh store:

1. ingest_single: single-event POSTs from 8 concurrent clients to a `wht serve`
   process; floor: the same events, one `Application.save` each, 8 threads.
2. ingest_batch: POST /v1/events in batches of 500; floor: the same events
   saved in-process in batches of 500 (one `Application.save` a batch).
3. known_at: p50 of compliance (the route function, in-process) for programs
   of 100 and 2,000 events with known_at mid-history, over the same query
   without known_at; the ratio is the larger of the two sizes'.
4. regulator: p50/p95 of GET /v1/programs (HTTP, to `wht serve`) with as_of
   and known_at, over N programs seeded in-process through `Tracker.ingest_batch`.
5. rebuild: events/s of `wht rebuild` on that store; floor: reading and decoding
   the same notification log with the library alone.
6. replay: the audit replay (the service call the route makes) of a program of
   1,000 events over one of 100, in CPU time: `replay_growth`.
7. fleet (PostgreSQL only; skipped, with a note, on SQLite): two `wht serve
   --no-projection` and one `wht project --partitions 2` (plain `wht project` where
   --partitions is not there yet) on one database; 8 clients post single events to
   the two servers for 60 s: events/s, latencies, the read model's lag (events and
   seconds, at the end and at its worst), the seconds it takes to catch up, and
   each process's peak RSS and CPU seconds.

8. growth: per-call CPU of one `Tracker.ingest` and of one compliance read, in a
   program of 1,000 events over one of 10 (in-process): `ingest_growth`,
   `compliance_growth`.

Besides: `ingest_single_http_ratio` (the product's single-event ingestion over
an HTTP floor: the same clients and server stack, a route that only saves each
event with `Application.save`), `readmodel_lag_events` (events recorded minus
the projector's tracked position when an ingest phase's clients finished, the
worse of the two phases) and the peak RSS of every `wht serve` and of
`wht rebuild`.

--quick (a smoke run for CI) uses 1,000 programs and programs of 100 and 500
events. Targets are reported, never asserted.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

from bench.fleet import fleet
from bench.growth import growth
from bench.ingest import ingest_batch, ingest_single
from bench.reads import known_at, regulator
from bench.replay import replay
from bench.report import machine, print_table, summary
from bench.stores import Stores
from bench.workload import QUICK, Plan

PHASES = (
    "ingest_single",
    "ingest_batch",
    "known_at",
    "regulator",
    "replay",
    "fleet",
    "growth",
)  # regulator: + rebuild


# ---- the run ----


def run(args: argparse.Namespace, say: Callable[[str], None]) -> dict[str, Any]:
    plan = QUICK if args.quick else Plan()
    if args.programs:
        plan = Plan(**{**asdict(plan), "regulator_programs": args.programs})
    if args.events_per_program:
        n = args.events_per_program
        plan = Plan(**{**asdict(plan), "regulator_lengths": (max(3, n - n // 10), n + n // 10)})
    if args.fleet_seconds:
        plan = Plan(**{**asdict(plan), "fleet_seconds": args.fleet_seconds})
    chosen = args.phases.split(",") if args.phases else list(PHASES)
    stores = Stores(args.database_url, keep=args.keep)
    logs = Path(tempfile.mkdtemp(prefix="wht-bench-logs-"))
    results: dict[str, Any] = {"meta": machine(stores, args.quick, plan, sys.argv)}
    began = time.perf_counter()
    try:
        if "ingest_single" in chosen:
            say("ingest_single: 8 clients posting single events to wht serve ...")
            results["ingest_single"] = ingest_single(stores, plan, logs, not args.no_projection)
        if "ingest_batch" in chosen:
            say(f"ingest_batch: {plan.batch_size}-event batches to POST /v1/events ...")
            results["ingest_batch"] = ingest_batch(stores, plan, logs, not args.no_projection)
        if "known_at" in chosen:
            say(f"known_at: programs of {' and '.join(map(str, plan.known_at_sizes))} events ...")
            results["known_at"] = known_at(stores, plan)
        if "regulator" in chosen:
            low, high = plan.regulator_lengths
            say(
                f"regulator + rebuild: seeding {plan.regulator_programs} programs of {low} to "
                f"{high} events, wht rebuild, then the list query over HTTP ..."
            )
            results["regulator"], results["rebuild"] = regulator(stores, plan, logs, say)
        if "replay" in chosen:
            say("replay: the audit replay of programs of 100 and 1,000 events ...")
            results["replay"] = replay(stores)
        if "fleet" in chosen:
            say(
                f"fleet: 2 x wht serve --no-projection + wht project on one {stores.kind} "
                f"store, 8 clients for {plan.fleet_seconds:g} s ..."
            )
            results["fleet"] = fleet(stores, plan, logs)
            if results["fleet"]["skipped"]:
                say(f"  skipped: {results['fleet']['note']}")
        if "growth" in chosen:
            say("growth: one ingest and one compliance read at 10 and at 1,000 events ...")
            results["growth"] = growth(stores)
    except BaseException:
        print(f"the servers' logs are in {logs}", file=sys.stderr)
        raise
    finally:
        stores.close()
    # The servers' logs are kept only when asked for (or, above, when a phase failed).
    if args.keep:
        results["meta"]["server_logs"] = str(logs)
    else:
        shutil.rmtree(logs, ignore_errors=True)
    results["meta"]["total_s"] = time.perf_counter() - began
    results.update(summary(results))
    return results


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0].replace("\n", " "))
    p.add_argument(
        "--database-url",
        default=None,
        help="kind and place of the stores: sqlite:///PATH (default: a temporary "
        "folder) or postgresql://USER@HOST:PORT/DB (a new database per store; DB is "
        "only connected to for CREATE/DROP DATABASE)",
    )
    p.add_argument(
        "--quick",
        action="store_true",
        help="a smoke run (1,000 programs; under a minute on SQLite)",
    )
    p.add_argument("--json", type=Path, default=None, help="also write the results here")
    p.add_argument(
        "--programs",
        type=int,
        default=None,
        help="programs for the regulator and rebuild phases (default 10,000; quick 1,000)",
    )
    p.add_argument(
        "--events-per-program",
        type=int,
        default=None,
        help="about how many events each of those programs has (default 3 to 4; "
        "50 gives the issue's 500,000 events at 10,000 programs, well past the "
        "10-minute budget)",
    )
    p.add_argument(
        "--phases",
        default=None,
        help=f"comma-separated subset of {','.join(PHASES)} (regulator includes rebuild)",
    )
    p.add_argument(
        "--fleet-seconds",
        type=float,
        default=None,
        help="how long the fleet phase's clients post (default 60; quick 15)",
    )
    p.add_argument(
        "--no-projection",
        action="store_true",
        help="serve the ingest phases with `wht serve --no-projection`",
    )
    p.add_argument("--keep", action="store_true", help="keep the stores afterwards")
    return p


def main(argv: list[str] | None = None) -> int:
    cli = parser()
    args = cli.parse_args(argv)
    unknown = set(args.phases.split(",") if args.phases else ()) - set(PHASES)
    if unknown:
        cli.error(f"unknown phase(s) {', '.join(sorted(unknown))}; choose from {', '.join(PHASES)}")

    def say(text: str) -> None:
        print(f"[{time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)

    results = run(args, say)
    print_table(results)
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=2, default=str) + "\n")
        say(f"wrote {args.json}")
    return 0
