"""Checks of the regulator's read model at scale, run by `scripts.seed_programs`.

`kill_and_restart` rebuilds the read model through a `wht project` killed with
SIGKILL part way and a `wht project --once`; `verify` compares every program's
list entry with its own compliance, folded one by one, at two pairs of times.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from api.bootstrap import tracker_for
from api.settings import Settings
from service.readmodel.projection import provider_of
from service.readmodel.runner import open_read_model
from service.readmodel.view import ProgramQuery


def kill_and_restart(settings: Settings, at: float = 0.3) -> None:
    """Drop the read model, run `wht project`, kill -9 it part way, then `wht project --once`."""
    tracker = tracker_for(settings)
    view = open_read_model(tracker)
    view.reset(tracker.name)
    latest = tracker.recorder.max_notification_id() or 0
    env = {**os.environ, "WHT_DATABASE_URL": settings.database_url}
    wht = str(Path(sys.executable).with_name("wht"))
    began = time.monotonic()
    process = subprocess.Popen(
        [wht, "project"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    while (view.max_tracking_id(tracker.name) or 0) < latest * at:
        time.sleep(0.2)
    process.send_signal(signal.SIGKILL)
    process.wait()
    killed_at = view.max_tracking_id(tracker.name) or 0
    print(f"killed `wht project` (kill -9) at {killed_at} of {latest} events")
    done = subprocess.run([wht, "project", "--once"], env=env, capture_output=True, text=True)
    print(
        f"restarted: {done.stdout.strip()} (exit {done.returncode}); "
        f"{time.monotonic() - began:.0f} s in all; rows: {view.counts()}"
    )
    tracker.close()


def verify(settings: Settings) -> None:
    """Every program's list entry equals its own compliance, at a few pairs of times."""
    tracker = tracker_for(settings)
    view = open_read_model(tracker)
    pairs = [
        (date(2026, 3, 1), datetime(2026, 3, 15, 12, tzinfo=UTC)),
        (date(2026, 10, 1), datetime.now(UTC)),
    ]
    for as_of, known_at in pairs:
        began = time.monotonic()
        listed: dict[str, tuple[Any, ...]] = {}
        after = None
        while True:
            page = view.programs(
                ProgramQuery(as_of=as_of, known_at=known_at, after=after, limit=500)
            )
            for p in page.programs:
                listed[p.program_id] = (p.provider_id, p.status, p.discharge_eligible, p.findings)
            if not page.more:
                break
            after = page.programs[-1].program_id
        listing = time.monotonic() - began
        expected: dict[str, tuple[Any, ...]] = {}
        for pid in tracker.index.program_ids(known_at):
            judged = tracker.view(pid, known_at)
            a = judged.assess(as_of)
            expected[str(pid)] = (
                provider_of(judged.program),
                a.status,
                a.discharge_eligible,
                tuple(sorted({f.code for f in a.findings})),
            )
        differ = [
            pid for pid in expected.keys() | listed.keys() if expected.get(pid) != listed.get(pid)
        ]
        print(
            f"as of {as_of}, known at {known_at:%Y-%m-%dT%H:%MZ}: {len(listed)} listed "
            f"(all pages in {listing:.2f} s), {len(expected)} folded one by one "
            f"(in {time.monotonic() - began - listing:.0f} s): {len(differ)} differ"
        )
        assert not differ, differ[:5]
    tracker.close()
