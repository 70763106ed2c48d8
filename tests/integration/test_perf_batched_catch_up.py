"""Catching up in batches builds, row for row, the read model that one event at a time does.

`ReadModelRunner.catch_up` records many events a transaction, and the
projection keeps each program's current timeline in memory between them
(several events of one program can share a batch). Event by event through
`process_event`, as the PostgreSQL subscription applies them, must give the
same rows; and a batch that fails leaves nothing behind and nothing cached.
"""

from __future__ import annotations

import json
import random
from datetime import date, datetime, timedelta
from uuid import UUID, uuid4

import pytest
from eventsourcing.persistence import Tracking

from domain.program import Program
from service.application import Tracker
from service.readmodel.projection import ComplianceReadModel, Judged
from service.readmodel.runner import RECORD_BATCH, ReadModelRunner, TrackerJudge
from service.readmodel.view import ReadModelRecorder
from tests.histories import Body, sample_program, send_in_batches
from tests.readmodel_rows import read_model_rows

SHARED_REFERRALS = ("PR-A", "PR-B", "PR-C", "PR-D")


def seed_interleaved(tracker: Tracker, programs: int, seed: int = 5) -> int:
    """Sample programs whose events are interleaved in the log (each program's in
    order), so batches hold several events of some programs and one of others;
    they share a few physician referrals."""
    rnd = random.Random(seed)
    queues: list[list[tuple[UUID, Body]]] = []
    for _ in range(programs):
        pid = uuid4()
        start = date(2026, 1, 5) + timedelta(days=rnd.randint(0, 200))
        events = sample_program(rnd, "clinic-perf", start)
        # A few shared physician referrals, so that programs have earlier ones (COV-1):
        # each of one worker (docs/domain.md R16: other workers' are never repeats).
        shared = rnd.choice(SHARED_REFERRALS)
        events[0]["data"]["referral"]["physician_referral_id"] = shared
        events[0]["data"]["worker"]["worker_id"] = f"W-{shared}"
        queues.append([(pid, e) for e in events])
    items: list[tuple[UUID, Body]] = []
    while queues:
        queue = rnd.choice(queues)
        items.append(queue.pop(0))
        if not queue:
            queues.remove(queue)
    send_in_batches(tracker, items, 50)
    return len(items)


def one_at_a_time(tracker: Tracker, view: ReadModelRecorder) -> None:
    """Project the whole log through `process_event`, one transaction an event."""
    projection = ComplianceReadModel(view, TrackerJudge(tracker))
    for notification in tracker.recorder.select_notifications(start=1, limit=10**6):
        event = tracker.mapper.to_domain_event(notification)
        projection.process_event(event, Tracking(tracker.name, notification.id))


def test_batched_catch_up_equals_event_by_event(
    tracker: Tracker, view: ReadModelRecorder, runner: ReadModelRunner
) -> None:
    events = seed_interleaved(tracker, 30)
    assert events > 2 * RECORD_BATCH
    assert runner.catch_up() == events
    batched = read_model_rows(view)
    assert len(batched["wht_rm_program"]) == 30
    inputs = [json.loads(row[5]) for row in batched["wht_rm_program"]]
    assert any(earlier for _, _, earlier in inputs)
    view.reset(tracker.name)
    one_at_a_time(tracker, view)
    assert view.max_tracking_id(tracker.name) == events
    assert read_model_rows(view) == batched


def test_a_failed_batch_records_nothing_and_resuming_gives_the_same_read_model(
    tracker: Tracker,
    view: ReadModelRecorder,
    runner: ReadModelRunner,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seed_interleaved(tracker, 30, seed=9)
    runner.catch_up()
    want = read_model_rows(view)
    view.reset(tracker.name)
    runner.projection.forget()
    runner.catch_up(until=RECORD_BATCH + 7)
    before = read_model_rows(view)
    judge = runner.projection.judge
    real_judged = judge.judged
    calls = 0

    def flaky_judged(program: Program, known_at: datetime) -> Judged:
        nonlocal calls
        calls += 1
        if calls == 5:  # mid-way through the next batch
            raise RuntimeError("store went away")
        return real_judged(program, known_at)

    monkeypatch.setattr(judge, "judged", flaky_judged)
    with pytest.raises(RuntimeError):
        runner.catch_up()
    assert runner.position() == RECORD_BATCH + 7
    assert read_model_rows(view) == before
    monkeypatch.undo()
    runner.catch_up()
    assert read_model_rows(view) == want
