#!/usr/bin/env python3
"""How `known_at` compliance queries scale with the length of a program.

For each size N it records one program of N events (referral, admission,
evaluation, then sessions on consecutive weekdays with a re-evaluation every
tenth event) through the tracker's own ingestion path, then times:

- compliance now (no known_at): `tracker.view(id).assess(as_of)`;
- compliance known_at mid-history (the instant event N/2 was recorded);
- of the latter, the part spent loading the trail (index cut + replay of
  the aggregate's events) and the part spent assessing;
- optionally (--audit) the audit replay, which assesses every prefix.

    .venv/bin/python scripts/measure_known_at.py [--sizes 100 1000 2000]
        [--repeat 5] [--database-url sqlite:///PATH | postgresql://...] [--audit]

Without --database-url each size gets a fresh SQLite file in a temporary folder.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import uuid4

from api.bootstrap import tracker_for
from api.settings import Settings
from domain.intake import parse_event
from service.application import Tracker
from service.replay import audit

PROVIDER = {"name": "Dana Ruiz", "discipline": "physical_therapist", "license_number": "PT-1"}
START = date(2019, 1, 7)  # a Monday, far enough back for 2,000 weekdays
CRITERIA = dict.fromkeys(
    [
        "potential_to_benefit",
        "function_interferes_with_work",
        "return_to_work_plan",
        "psychosocial_barriers",
        "no_prohibiting_condition",
        "informed_consent",
    ],
    True,
)


def events(n: int) -> list[tuple[str, date, dict[str, Any]]]:
    injury = uuid4().hex  # each program its own worker and claim: no COV-1 repeats (R16)
    referral = {
        "worker": {"worker_id": f"W-{injury}"},
        "claim": {
            "claim_number": f"C-{injury}",
            "body_region": "low_back",
            "compensable_injury_reported": True,
        },
        "referral": {
            "source": "physician",
            "physician_referral_id": f"PR-{injury}",
            "prescription": {"prescriber": "Dr. A"},
        },
        "provider_id": "clinic-1",
    }
    out: list[tuple[str, date, dict[str, Any]]] = [
        ("ProgramReferred", START - timedelta(days=7), referral),
        ("ProgramAdmitted", START, {"criteria": CRITERIA}),
        (
            "InitialEvaluationDocumented",
            START,
            {
                "evaluator": PROVIDER,
                "domains": ["musculoskeletal"],
                "measures": {"lift": 10},
                "goals": ["lift"],
                "documented_on": START.isoformat(),
            },
        ),
    ]
    day = START
    while len(out) < n:
        if len(out) % 10 == 0:
            out.append(("ProgressReEvaluated", day, {"appropriate_to_continue": True}))
            continue
        out.append(("SessionLogged", day, {"hours": 6, "provider": PROVIDER}))
        day += timedelta(days=3 if day.weekday() == 4 else 1)
    return out


def record(tracker: Tracker, n: int) -> tuple[Any, datetime, float]:
    program_id = uuid4()
    began = time.perf_counter()
    receipts = []
    batch = [(program_id, parse_event(uuid4(), t, on, data)) for t, on, data in events(n)]
    for first in range(0, len(batch), 250):
        receipts += tracker.ingest_batch(batch[first : first + 250])
    middle = datetime.fromisoformat(receipts[len(receipts) // 2 - 1].body["recorded_at"])
    return program_id, middle, time.perf_counter() - began


def timed(work: Callable[[], Any], repeat: int) -> float:
    samples = []
    for _ in range(repeat):
        began = time.perf_counter()
        work()
        samples.append(time.perf_counter() - began)
    return statistics.median(samples) * 1000


def measure(settings: Settings, n: int, repeat: int, with_audit: bool) -> dict[str, Any]:
    tracker = tracker_for(settings)
    try:
        program_id, middle, setup = record(tracker, n)
        as_of = date(2030, 1, 1)
        view = tracker.view(program_id, middle)
        row = {
            "events": n,
            "setup_s": round(setup, 1),
            "now_ms": timed(lambda: tracker.view(program_id).assess(as_of), repeat),
            "known_at_mid_ms": timed(
                lambda: tracker.view(program_id, middle).assess(as_of), repeat
            ),
            "mid_load_ms": timed(lambda: tracker.view(program_id, middle), repeat),
            "mid_assess_ms": timed(lambda: view.assess(as_of), repeat),
            "mid_version": view.program.version,
        }
        if with_audit:
            row["audit_ms"] = timed(lambda: audit(tracker, program_id, None, as_of), 1)
        return row
    finally:
        tracker.close()


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 1000, 2000])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--audit", action="store_true", help="also time the audit replay")
    args = parser.parse_args(argv)
    settings = Settings()
    columns = [
        "events",
        "setup_s",
        "now_ms",
        "known_at_mid_ms",
        "mid_load_ms",
        "mid_assess_ms",
        "mid_version",
    ] + (["audit_ms"] if args.audit else [])
    print(" ".join(f"{c:>15}" for c in columns))
    with tempfile.TemporaryDirectory() as folder:
        for n in args.sizes:
            url = args.database_url or f"sqlite:///{Path(folder) / f'measure-{n}.sqlite'}"
            row = measure(
                settings.model_copy(update={"database_url": url}), n, args.repeat, args.audit
            )
            print(
                " ".join(
                    f"{row[c]:>15.1f}" if isinstance(row[c], float) else f"{row[c]:>15}"
                    for c in columns
                ),
                flush=True,
            )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
