"""A process starting on PostgreSQL waits out a refusal that passes by itself, and names
at once the one that does not (issue 20).

Before, the library's pool hid every cause behind "couldn't get a connection after 5.00
sec", and gave up after those 5 s even when the server only had no free slot for a
moment (two test suites, or a fleet, starting beside each other). The window is made on
demand: a role of its own with a connection limit, its slots all taken, freed again
after longer than the pool's 5 s."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest

from api.bootstrap import build_tracker
from service.notify.backends import open_alert_store
from service.persistence.connect import StoreUnreachable
from tests.conftest import PG_ADMIN

LIMIT = 6
WHT = str(Path(sys.executable).with_name("wht"))


@pytest.fixture
def limited() -> Iterator[tuple[str, str]]:
    """A fresh database owned by a new role that may hold at most LIMIT connections: the
    role's URL, and the role's name."""
    suffix = uuid.uuid4().hex[:12]
    role, name = f"wht_limited_{suffix}", f"wht_test_{suffix}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
        admin.execute(f'CREATE ROLE "{role}" LOGIN CONNECTION LIMIT {LIMIT}')
        admin.execute(f'CREATE DATABASE "{name}" OWNER "{role}"')
    try:
        yield f"postgresql://{role}@127.0.0.1:5432/{name}", role
    finally:
        with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            admin.execute(f'DROP ROLE IF EXISTS "{role}"')


@contextmanager
def freed_after(held: list[psycopg.Connection], seconds: float) -> Iterator[None]:
    """Close `held` `seconds` after the block starts; the block must last that long."""

    def free_them() -> None:
        time.sleep(seconds)
        for conn in held:
            conn.close()

    freer = threading.Thread(target=free_them)
    started = time.monotonic()
    freer.start()
    try:
        yield
    finally:
        freer.join()
    assert time.monotonic() - started >= seconds


def take_every_slot(url: str) -> list[psycopg.Connection]:
    return [psycopg.connect(url, autocommit=True) for _ in range(LIMIT)]


def test_a_server_with_no_free_slot_is_waited_for_as_the_process_starts(
    limited: tuple[str, str],
) -> None:
    url, _ = limited
    held = take_every_slot(url)
    with freed_after(held, 6.0):  # longer than the pool's 5 s connect timeout
        tracker = build_tracker(url)
    try:
        assert tracker.recorder.max_notification_id() in (None, 0)
    finally:
        tracker.close()


def test_a_refusal_still_there_when_the_wait_is_up_is_named(limited: tuple[str, str]) -> None:
    url, role = limited
    held = take_every_slot(url)
    try:
        with pytest.raises(StoreUnreachable) as refused:
            build_tracker(url, start_wait=1)
    finally:
        for conn in held:
            conn.close()
    assert f'too many connections for role "{role}"' in str(refused.value)
    assert "after waiting 1 s" in str(refused.value)


def test_a_refusal_that_does_not_pass_is_named_at_once() -> None:
    missing = f"wht_missing_{uuid.uuid4().hex[:12]}"
    url = f"postgresql://postgres@127.0.0.1:5432/{missing}"
    started = time.monotonic()
    with pytest.raises(StoreUnreachable, match=f'database "{missing}" does not exist'):
        build_tracker(url)
    assert time.monotonic() - started < 5, "not waited for: it will not pass"
    done = subprocess.run(
        [WHT, "keys", "list"],
        env={"WHT_DATABASE_URL": url, "PATH": str(Path(WHT).parent)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 1
    assert f'database "{missing}" does not exist' in done.stderr
    assert "couldn't get a connection" not in done.stderr


def test_the_schema_lock_waits_for_a_free_slot_too(limited: tuple[str, str]) -> None:
    # The schema lock connects outside the pool (opening the alert store, the read
    # model): with every slot taken a moment (another suite or process at its peak),
    # it waits for one as the process's start does, instead of failing the open.
    url, _ = limited
    tracker = build_tracker(url)
    held: list[psycopg.Connection] = []
    try:
        while True:  # every slot the tracker's pool left
            try:
                held.append(psycopg.connect(url, autocommit=True))
            except psycopg.OperationalError:
                break
        assert held, "the role's limit left no slot to take"
        with freed_after(held, 2.0):
            open_alert_store(tracker)
    finally:
        for conn in held:
            conn.close()
        tracker.close()
