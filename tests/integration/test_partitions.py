"""The read model in partitions (service/readmodel/partitions.py), on SQLite and PostgreSQL.

Each partition projects its own programs, yet COV-1 spans programs (DOMAIN.md R5):
a referral or a retraction in one partition re-judges the programs on the same
physician referral id in the others. Projected in 2 or 3 partitions, the read
model holds, row for row, what one projection of everything holds, and answers as
each program's own `/compliance` does at every instant an event was recorded.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from uuid import UUID, uuid4

import pytest
from typer.testing import CliRunner

from api.cli import cli
from service.application import Tracker
from service.readmodel import partitions
from service.readmodel.partitions import LayoutMismatch, Partition
from service.readmodel.runner import ReadModelRunner
from service.readmodel.scaleout import PartitionsRunner, make_runner
from service.readmodel.view import ReadModelRecorder
from tests.helpers import (
    LATER,
    REFERRED_ON,
    Body,
    admitted,
    plus,
    referred,
    repeat_approved,
    retraction,
    send,
    session,
)
from tests.integration.test_readmodel import assert_agrees
from tests.readmodel_rows import project_in, read_model_rows


def in_partition(index: int, count: int) -> UUID:
    """A new program id in partition `index` of `count`."""
    while True:
        pid = uuid4()
        if pid.int % count == index:
            return pid


def shared_referral_story(tracker: Tracker, ids: list[UUID]) -> list[datetime]:
    """Three programs on one referral id: retractions and re-posts move which is first.
    The record instants of its events."""
    a, b, c = ids
    key = f"PR-{uuid4().hex[:8]}"
    first_a = referred(REFERRED_ON, referral_id=key)
    first_b = referred(plus(REFERRED_ON, 2), referral_id=key)
    other_b = referred(plus(REFERRED_ON, 2), referral_id=f"{key}-OTHER")
    steps: list[tuple[UUID, Body]] = [
        (a, first_a),
        (a, admitted(plus(REFERRED_ON, 7))),
        (b, first_b),
        (b, admitted(plus(REFERRED_ON, 9))),
        (b, session(plus(REFERRED_ON, 10), 4)),
        (c, referred(plus(REFERRED_ON, 3), referral_id=key)),
        (c, admitted(plus(REFERRED_ON, 10))),
        (a, retraction(plus(REFERRED_ON, 12), first_a)),  # b is first now, c a repeat
        (a, referred(plus(REFERRED_ON, 5), referral_id=key)),  # a after b and c
        (b, retraction(plus(REFERRED_ON, 14), first_b)),  # c first, a a repeat
        (b, other_b),
        (c, session(plus(REFERRED_ON, 11), 5)),
        (a, repeat_approved(plus(REFERRED_ON, 6))),
        (b, retraction(plus(REFERRED_ON, 15), other_b)),
        (b, referred(plus(REFERRED_ON, 1), referral_id=key)),  # b first again
    ]
    return [datetime.fromisoformat(send(tracker, pid, b).body["recorded_at"]) for pid, b in steps]


@pytest.mark.parametrize("count", [2, 3])
def test_partitions_hold_what_one_projection_holds_and_answer_as_compliance(
    tracker: Tracker, view: ReadModelRecorder, count: int
) -> None:
    ids = [in_partition(k % count, count) for k in range(3)]  # a, b, c: a and b apart
    instants = shared_referral_story(tracker, ids)
    latest = tracker.recorder.max_notification_id()

    project_in(tracker, view, count)
    assert partitions.positions(view, tracker.name) == [latest] * count
    assert partitions.position(view, tracker.name) == latest
    parted = read_model_rows(view)
    known_ats = sorted(
        {t for at in instants for t in (at - timedelta(microseconds=1), at)} | {datetime.now(UTC)}
    )
    as_ofs = (plus(REFERRED_ON, 10), plus(REFERRED_ON, 20), LATER)
    assert_agrees(tracker, view, "clinic-north", ids, known_ats, as_ofs)

    project_in(tracker, view, 1)
    assert partitions.position(view, tracker.name) == latest
    assert read_model_rows(view) == parted


def test_the_read_model_is_where_its_slowest_partition_is(
    tracker: Tracker, view: ReadModelRecorder
) -> None:
    ids = [in_partition(k % 2, 2) for k in range(3)]
    shared_referral_story(tracker, ids)
    latest = tracker.recorder.max_notification_id() or 0
    view.reset(tracker.name)
    partitions.record_partitions(view, 2)
    runner = ReadModelRunner(tracker, view, partition=Partition(1, 2))
    runner.catch_up(until=latest - 3)
    runner.lock.release()
    assert partitions.positions(view, tracker.name) == [0, latest - 3]
    assert partitions.position(view, tracker.name) == 0
    with pytest.raises(TimeoutError):
        partitions.wait(view, tracker.name, 1, timeout=0.2)


def test_the_first_projector_records_the_layout_and_another_count_is_refused(
    tracker: Tracker, view: ReadModelRecorder
) -> None:
    assert partitions.recorded_partitions(view) is None
    assert partitions.claim_layout(view, tracker.name, None) == 1  # nothing recorded: one
    assert partitions.claim_layout(view, tracker.name, 3) == 3  # empty: the first claims
    assert partitions.recorded_partitions(view) == 3
    assert partitions.claim_layout(view, tracker.name, None) == 3
    with pytest.raises(LayoutMismatch, match=r"wht rebuild --partitions 2"):
        partitions.claim_layout(view, tracker.name, 2)
    view.reset(tracker.name)  # a reset keeps the layout; a rebuild records its own
    assert partitions.recorded_partitions(view) == 3


def test_a_store_projected_before_partitions_is_one_partition(
    tracker: Tracker, view: ReadModelRecorder, runner: ReadModelRunner
) -> None:
    send(tracker, uuid4(), referred(date(2026, 3, 2)))
    runner.catch_up()
    with pytest.raises(LayoutMismatch):
        partitions.claim_layout(view, tracker.name, 2)
    assert partitions.recorded_partitions(view) is None
    assert partitions.position(view, tracker.name) == tracker.recorder.max_notification_id()


def test_the_serve_thread_takes_every_free_partition_and_keeps_up(
    tracker: Tracker, view: ReadModelRecorder
) -> None:
    partitions.record_partitions(view, 2)
    runner = make_runner(tracker, view)
    assert isinstance(runner, PartitionsRunner)
    runner.start()
    try:
        ids = [in_partition(k % 2, 2) for k in range(3)]
        shared_referral_story(tracker, ids)
        runner.wait_for(tracker.recorder.max_notification_id(), timeout=60)
        assert sorted(r.partition.index for r in runner.held) == [0, 1]
        assert runner.state == "active"
        assert_agrees(tracker, view, "clinic-north", ids)
    finally:
        runner.stop()
    assert runner.state == "stopped" and runner.held == []


def test_project_once_in_partitions_claims_the_layout_and_another_count_is_refused(
    tracker: Tracker, view: ReadModelRecorder, store_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = [in_partition(k % 2, 2) for k in range(3)]
    shared_referral_story(tracker, ids)
    latest = tracker.recorder.max_notification_id()
    monkeypatch.setenv("WHT_DATABASE_URL", store_url)
    result = CliRunner().invoke(cli, ["project", "--once", "--partitions", "2"])
    assert result.exit_code == 0, result.output
    assert f"the read model is at {latest}" in result.output
    assert partitions.recorded_partitions(view) == 2
    assert partitions.positions(view, tracker.name) == [latest, latest]
    assert_agrees(tracker, view, "clinic-north", ids)

    refused = CliRunner().invoke(cli, ["project", "--once", "--partitions", "3"])
    assert refused.exit_code == 1
    assert "run `wht rebuild --partitions 3`" in refused.output
