"""Many writers on one program, on both stores (API.md, "Ingest": expected_version).

With `expected_version`, exactly one writer wins each version and every other gets a
version conflict with nothing stored. Without it, every event is stored once and the
versions have no gaps.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from uuid import UUID, uuid4

import pytest

from domain.errors import VersionConflict
from service.application import Tracker
from tests.helpers import ADMITTED_ON, admitted, plus, referred, send, send_all, session

WRITERS = 8
ROUNDS = 6
CROWD = 16  # writers without expected_version
EACH = 12


def trail(tracker: Tracker, program_id: UUID) -> list[tuple[int, str]]:
    return [(f.version, f.event_id) for f in tracker.view(program_id).program.trail]


def opened(tracker: Tracker) -> UUID:
    program_id = uuid4()
    send_all(tracker, program_id, [referred(), admitted()])
    return program_id


def test_with_expected_version_exactly_one_writer_wins_each_version(tracker: Tracker) -> None:
    program_id = opened(tracker)
    barrier = threading.Barrier(WRITERS)
    attempts: list[tuple[int, str, bool]] = []  # (expected_version, event_id, won)
    lock = threading.Lock()

    def writer(n: int) -> None:
        for r in range(ROUNDS):
            barrier.wait()  # everyone reads the same version, then races to write
            seen = tracker.view(program_id).program.version
            body = session(plus(ADMITTED_ON, r), round(1 + n / 100, 2))
            body["expected_version"] = seen
            try:
                receipt = send(tracker, program_id, body)
                won = True
                assert receipt.status == 201 and receipt.body["version"] == seen + 1
            except VersionConflict as conflict:
                won = False
                assert conflict.extra["current_version"] > seen
            with lock:
                attempts.append((seen, body["event_id"], won))

    with ThreadPoolExecutor(WRITERS) as pool:
        list(pool.map(writer, range(WRITERS)))

    stored = trail(tracker, program_id)
    by_version = dict(stored)
    winners: dict[int, list[str]] = defaultdict(list)
    for seen, event_id, won in attempts:
        if won:
            winners[seen].append(event_id)
            assert by_version[seen + 1] == event_id
        else:
            assert event_id not in by_version.values(), "a refused write was stored"
    assert all(len(ids) == 1 for ids in winners.values()), winners
    assert sorted(v for v, _ in stored) == list(range(1, len(stored) + 1))
    assert len(stored) == 2 + len(winners)
    assert len(attempts) == WRITERS * ROUNDS
    assert len(winners) >= ROUNDS  # each round at least one writer got through
    assert len(attempts) - len(winners) >= ROUNDS  # and there was contention to lose


def test_without_expected_version_every_event_is_stored_with_gapless_versions(
    tracker: Tracker, store_url: str, request: pytest.FixtureRequest
) -> None:
    program_id = opened(tracker)
    barrier = threading.Barrier(CROWD)

    def writer(n: int) -> list[str]:
        barrier.wait()
        ids = []
        for i in range(EACH):
            body = session(plus(ADMITTED_ON, i), round(1 + n / 100, 2))
            receipt = send(tracker, program_id, body)
            assert receipt.status == 201
            ids.append(body["event_id"])
        return ids

    with ThreadPoolExecutor(CROWD) as pool:
        sent = [event_id for ids in pool.map(writer, range(CROWD)) for event_id in ids]

    stored = trail(tracker, program_id)
    assert [v for v, _ in stored] == list(range(1, 2 + CROWD * EACH + 1))
    stored_ids = [event_id for _, event_id in stored]
    assert len(stored_ids) == len(set(stored_ids))
    assert set(sent) <= set(stored_ids)
    assert len(sent) == CROWD * EACH
