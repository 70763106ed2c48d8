"""WHT_PROGRAM_CACHE_SIZE bounds the programs a process keeps in memory.

The eventsourcing library keeps an unbounded cache when its size is 0 or
unset; the tracker always sets one, from the setting (default 2,000), and a
size under 1 is refused before any store is opened.
"""

from __future__ import annotations

from datetime import date
from uuid import uuid4

import pytest
from eventsourcing.application import LRUCache
from typer.testing import CliRunner

from api.bootstrap import tracker_for
from api.cli import cli
from api.settings import Settings
from service.application import PROGRAM_CACHE_SIZE, Tracker
from tests.histories import referral, send_in_batches


def cache_of(tracker: Tracker) -> LRUCache[object, object]:
    cache = tracker.repository.cache
    assert isinstance(cache, LRUCache)
    return cache


def test_the_program_cache_holds_the_settings_size(
    monkeypatch: pytest.MonkeyPatch, sqlite_url: str
) -> None:
    monkeypatch.setenv("WHT_DATABASE_URL", sqlite_url)
    monkeypatch.setenv("WHT_PROGRAM_CACHE_SIZE", "3")
    tracker = tracker_for(Settings())
    try:
        assert cache_of(tracker).maxsize == 3
        programs = [uuid4() for _ in range(5)]
        items = [(pid, referral(date(2026, 3, 2), "clinic-c", f"PR-{pid}")) for pid in programs]
        send_in_batches(tracker, items, 50)
        for pid in programs:
            tracker.program(pid)
        assert len(cache_of(tracker).cache) == 3  # the two read first are out
    finally:
        tracker.close()


def test_the_program_cache_is_bounded_by_default_whatever_the_library_env_says(
    monkeypatch: pytest.MonkeyPatch, sqlite_url: str
) -> None:
    monkeypatch.setenv("WHT_DATABASE_URL", sqlite_url)
    monkeypatch.setenv("AGGREGATE_CACHE_MAXSIZE", "0")  # the library's "unbounded"
    tracker = tracker_for(Settings())
    try:
        assert cache_of(tracker).maxsize == PROGRAM_CACHE_SIZE
    finally:
        tracker.close()


@pytest.mark.parametrize("size", ["0", "-5", "many"])
def test_a_program_cache_size_under_one_is_refused_before_anything_runs(
    monkeypatch: pytest.MonkeyPatch, sqlite_url: str, size: str
) -> None:
    monkeypatch.setenv("WHT_DATABASE_URL", sqlite_url)
    monkeypatch.setenv("WHT_PROGRAM_CACHE_SIZE", size)
    done = CliRunner().invoke(cli, ["project", "--once"])
    assert done.exit_code == 2
    assert "WHT_PROGRAM_CACHE_SIZE" in done.output
    with pytest.raises(ValueError, match="at least 1"):
        Tracker(program_cache_size=0)
