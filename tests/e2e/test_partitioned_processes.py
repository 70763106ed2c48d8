"""The read model in partitions, with real `wht` processes, on SQLite and PostgreSQL.

- `wht rebuild --workers N [--partitions P]` holds, row for row, what the one-process
  rebuild holds, and leaves every partition tracked at the latest event;
- two `wht project --partitions 2` run side by side while events keep coming; the
  worker process that projects one partition is killed with SIGKILL mid-stream; its
  partition is taken over by another worker (a fresh one, or the other command's)
  from its tracked position, and the read model ends, row for row, as a rebuild.
"""

from __future__ import annotations

import os
import random
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from uuid import UUID, uuid4

import pytest

from service.application import Tracker
from service.readmodel import partitions
from service.readmodel.runner import open_read_model
from service.readmodel.view import ReadModelRecorder
from tests.histories import Body, sample_program, send_in_batches
from tests.integration.test_partitions import in_partition, shared_referral_story
from tests.integration.test_readmodel import assert_agrees
from tests.readmodel_rows import read_model_rows

pytestmark = pytest.mark.slow

WHT = str(Path(sys.executable).with_name("wht"))
TIMEOUT = 180.0


@pytest.fixture
def view(tracker: Tracker) -> ReadModelRecorder:
    return open_read_model(tracker)


def seed(tracker: Tracker, programs: int, rnd: random.Random, provider: str) -> list[UUID]:
    """`programs` sample programs of `provider`, and three on one referral id whose
    referrals and retractions re-judge each other across partitions."""
    items: list[tuple[UUID, Body]] = []
    for _ in range(programs):
        pid = uuid4()
        start = date(2026, 1, 5) + timedelta(days=rnd.randint(0, 200))
        items += [(pid, e) for e in sample_program(rnd, provider, start)]
    send_in_batches(tracker, items, 200)
    return sorted({pid for pid, _ in items}, key=str)


def wht(store_url: str, folder: Path, *args: str) -> str:
    done = subprocess.run(
        [WHT, *args],
        env={**os.environ, "WHT_DATABASE_URL": store_url},
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_rebuild_workers_hold_what_one_rebuild_holds(
    tracker: Tracker, view: ReadModelRecorder, store_url: str, tmp_path: Path
) -> None:
    provider = f"clinic-{uuid4().hex[:8]}"
    ids = seed(tracker, 6, random.Random(5), provider)
    shared = [in_partition(k % 2, 2) for k in range(3)]
    shared_referral_story(tracker, shared)
    latest = tracker.recorder.max_notification_id() or 0

    wht(store_url, tmp_path, "rebuild")
    single = read_model_rows(view)
    assert view.max_tracking_id(tracker.name) == latest

    out = wht(store_url, tmp_path, "rebuild", "--workers", "2", "--partitions", "2")
    assert re.search(rf"rebuilt the read model from {latest} events in [\d.]+ s", out)
    assert read_model_rows(view) == single
    assert partitions.recorded_partitions(view) == 2
    assert partitions.positions(view, tracker.name) == [latest, latest]
    assert view.max_tracking_id(tracker.name) is None  # no name but the partitions'

    wht(store_url, tmp_path, "rebuild", "--workers", "3", "--partitions", "1")
    assert read_model_rows(view) == single
    assert partitions.recorded_partitions(view) == 1
    assert partitions.positions(view, tracker.name) == [latest]
    assert view.max_tracking_id(f"{tracker.name}#0/3") is None
    assert_agrees(tracker, view, provider, ids)
    assert_agrees(tracker, view, "clinic-north", shared)


def test_a_killed_partition_projector_is_taken_over_and_the_read_model_equals_a_rebuild(
    tracker: Tracker, view: ReadModelRecorder, store_url: str, tmp_path: Path
) -> None:
    rnd = random.Random(23)
    provider = f"clinic-{uuid4().hex[:8]}"
    ids = seed(tracker, 10, rnd, provider)
    env = {**os.environ, "WHT_DATABASE_URL": store_url}
    logs = [tmp_path / "project-a.log", tmp_path / "project-b.log"]
    commands = [
        subprocess.Popen(
            [WHT, "project", "--partitions", "2"],
            env=env,
            cwd=tmp_path,
            stdout=log.open("wb"),
            stderr=subprocess.STDOUT,
        )
        for log in logs
    ]

    def holders() -> list[tuple[str, int]]:
        # ("k/2", pid) for every "partition taken" line, in the order each log has them.
        text = "\n".join(log.read_text(errors="replace") for log in logs)
        return [
            (m[1], int(m[2]))
            for m in re.finditer(r"projection partition (\d/2) active in process (\d+)", text)
        ]

    def wait_until(condition: Callable[[], bool], what: str) -> None:
        deadline = time.monotonic() + TIMEOUT
        while not condition():
            assert all(c.poll() is None for c in commands), "a `wht project` exited"
            assert time.monotonic() < deadline, f"{what}: {[log.read_text() for log in logs]}"
            time.sleep(0.01)

    try:
        wait_until(lambda: partitions.recorded_partitions(view) == 2, "no layout recorded")
        # Events keep coming while the partitions project: the kill is mid-stream.
        ids += seed(tracker, 6, rnd, provider)
        wait_until(lambda: min(partitions.positions(view, tracker.name)) > 0, "no progress")
        victim_partition, victim = holders()[0]
        os.kill(victim, signal.SIGKILL)
        ids += seed(tracker, 6, rnd, provider)
        shared = [in_partition(k % 2, 2) for k in range(3)]
        shared_referral_story(tracker, shared)
        latest = tracker.recorder.max_notification_id() or 0
        wait_until(
            lambda: any(k == victim_partition and pid != victim for k, pid in holders()),
            f"partition {victim_partition} was not taken over",
        )
        wait_until(
            lambda: partitions.positions(view, tracker.name) == [latest, latest],
            "the partitions did not reach the latest event",
        )
    finally:
        for command in commands:
            command.send_signal(signal.SIGTERM)
        for command in commands:
            try:
                command.wait(60)
            except subprocess.TimeoutExpired:
                command.kill()
                command.wait(10)
    assert [c.returncode for c in commands] == [0, 0], [log.read_text() for log in logs]
    assert_agrees(tracker, view, provider, ids)
    assert_agrees(tracker, view, "clinic-north", shared)
    projected = read_model_rows(view)
    wht(store_url, tmp_path, "rebuild")
    assert read_model_rows(open_read_model(tracker)) == projected
    assert partitions.positions(view, tracker.name) == [latest, latest]
