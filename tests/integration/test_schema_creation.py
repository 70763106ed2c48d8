"""Processes that open one fresh PostgreSQL database at the same moment (a fleet
restarting together, `wht rebuild --workers N`, several `wht` commands) all start:
every schema change, the eventsourcing library's and the product's, is serialised on
one lock (issue 20). Without it, CREATE TYPE, CREATE TABLE IF NOT EXISTS and CREATE OR
REPLACE FUNCTION run at once failed the losers ("duplicate key value violates unique
constraint pg_type_typname_nsp_index", "tuple concurrently updated").

The window is widened on purpose: eight openers released by one barrier, on a fresh
database each round, each opening every store the service has."""

from __future__ import annotations

import subprocess
import sys
import threading
import uuid
from collections.abc import Callable
from pathlib import Path

import psycopg
import pytest
from eventsourcing.persistence import PersistenceError

from api.bootstrap import build_tracker
from service.notify.backends import open_alert_store
from service.readmodel.runner import open_read_model
from service.security.access_log import AccessLog
from service.security.keys import Keys
from tests.conftest import PG_ADMIN

OPENERS = 8
ROUNDS = 3
WHT = str(Path(sys.executable).with_name("wht"))


def on_fresh_database(test: Callable[[str], None]) -> None:
    name = f"wht_test_{uuid.uuid4().hex[:16]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        test(f"postgresql://postgres@127.0.0.1:5432/{name}")
    finally:
        with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def open_everything(url: str) -> None:
    tracker = build_tracker(url)
    try:
        open_read_model(tracker)
        open_alert_store(tracker)
        datastore = tracker.recorder.datastore  # type: ignore[attr-defined]
        Keys(datastore)
        AccessLog(datastore)
    finally:
        tracker.close()


def test_openers_released_together_on_a_fresh_database_all_open_it() -> None:
    def round_(url: str) -> None:
        barrier = threading.Barrier(OPENERS)
        errors: list[str] = []

        def opener() -> None:
            barrier.wait()
            try:
                open_everything(url)
            except Exception as error:  # noqa: BLE001 (every failure is the finding)
                errors.append(f"{type(error).__name__}: {error}")

        threads = [threading.Thread(target=opener) for _ in range(OPENERS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
        assert not errors, errors
        open_everything(url)  # and the schema they made is whole

    for _ in range(ROUNDS):
        on_fresh_database(round_)


def test_wht_commands_started_together_on_a_fresh_database_all_succeed() -> None:
    def round_(url: str) -> None:
        env = {"WHT_DATABASE_URL": url, "PATH": str(Path(WHT).parent)}
        started = [
            subprocess.Popen(
                [WHT, "keys", "list"],
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(6)
        ]
        results = [(p.wait(timeout=120), p.stderr.read() if p.stderr else "") for p in started]
        for p in started:
            for stream in (p.stdout, p.stderr):
                if stream is not None:
                    stream.close()
        assert all(code == 0 for code, _ in results), results

    on_fresh_database(round_)


def test_a_store_that_cannot_be_reached_for_the_schema_is_the_librarys_store_error(
    pg_url: str,
) -> None:
    """The schema lock's own connection fails as the library's connections do (its
    PersistenceError, which the API answers 503), never with psycopg's bare error (which
    it would answer 500): the alert store, say, is opened on a subscription's first use."""
    tracker = build_tracker(pg_url, env={"POSTGRES_CONNECT_TIMEOUT": "1"})
    name = pg_url.rsplit("/", 1)[1]
    try:
        with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
            admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s",
                (name,),
            )
        for opening in (open_alert_store, open_read_model):
            with pytest.raises(PersistenceError):
                opening(tracker)
    finally:
        with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
            admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
        tracker.close()
