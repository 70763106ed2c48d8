#!/usr/bin/env python3
"""What checking the hash chain as a trail loads costs (issue 23, item 3).

Seeds one program of 1,000 events of the benchmark's workload, then loads it cold (a
new tracker each time, so nothing is cached) with the check and with it replaced by
a no-op, alternating, and prints the median CPU time of each.

    .venv/bin/python scripts/measure_chain_check.py [--runs 7]
        [--database-url sqlite:///PATH | postgresql://USER@HOST:PORT/DB]

With a PostgreSQL URL a new database is made beside DB (which is only connected to
for CREATE DATABASE) and dropped afterwards.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta

import psycopg

import service.judging as judging
from api.bootstrap import build_tracker
from bench.reads import seed
from bench.workload import program, span_days

EVENTS = 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    url = args.database_url or f"sqlite:///{tempfile.mkdtemp()}/chain.sqlite"
    made = None
    if url.startswith("postgresql"):
        made = f"wht_chain_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(url, autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{made}"')
        admin_url, url = url, url.rsplit("/", 1)[0] + "/" + made
    try:
        rnd = random.Random(5)
        last = datetime.now(UTC).date() - timedelta(days=7)
        events = program(rnd, "clinic-000", EVENTS, last - timedelta(days=span_days(EVENTS)))
        seed(url, events, 500)
        pid = events[0][0]
        real = getattr(judging, "check_stored_event")  # noqa: B009 (replaced below)

        def load(check: bool) -> float:
            setattr(judging, "check_stored_event", real if check else (lambda *_: None))  # noqa: B010
            tracker = build_tracker(url, cipher_key="")
            try:
                began = time.process_time()
                tracker.program(pid)
                return time.process_time() - began
            finally:
                tracker.close()
                setattr(judging, "check_stored_event", real)  # noqa: B010

        times: dict[bool, list[float]] = {True: [], False: []}
        for _ in range(args.runs):
            for check in (False, True):
                times[check].append(load(check))
        without, with_ = (statistics.median(times[c]) * 1000 for c in (False, True))
        print(f"cold load of {EVENTS:,} events, median CPU of {args.runs} runs:")
        print(f"  without the check {without:.1f} ms, with it {with_:.1f} ms")
        print(f"  the check: {(with_ - without) / EVENTS * 1000:.1f} us an event")
    finally:
        if made is not None:
            with psycopg.connect(admin_url, autocommit=True) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{made}" WITH (FORCE)')


if __name__ == "__main__":
    main()
