"""Shared fixtures: a tracker on a real store, each test on its own fresh database.

`store_url` is parametrized over SQLite (a file in tmp_path) and the live
PostgreSQL at 127.0.0.1:5432 (a new database per test, dropped afterwards).
If PostgreSQL cannot be reached the PostgreSQL cases fail: they never skip.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from api.bootstrap import build_tracker
from service.application import Tracker

PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"

# Starlette's TestClient addresses every request to the host "testserver": an open
# service (no API key) answers only loopback names and those of WHT_ALLOWED_HOSTS.
os.environ.setdefault("WHT_ALLOWED_HOSTS", "testserver")
# The tests' webhook receivers listen on 127.0.0.1 (tests/receiver.py): named, as an
# operator names a receiver inside its own network.
os.environ.setdefault("WHT_WEBHOOK_ALLOW_HOSTS", "127.0.0.1")


def _admin() -> psycopg.Connection:
    return psycopg.connect(PG_ADMIN, autocommit=True, connect_timeout=5)


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test."""
    name = f"wht_test_{uuid.uuid4().hex[:16]}"
    with _admin() as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql://postgres@127.0.0.1:5432/{name}"
    finally:
        with _admin() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'wht.sqlite'}"


@pytest.fixture(params=["sqlite", "postgres"])
def store_url(request: pytest.FixtureRequest) -> str:
    """Each storage test runs twice: on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        return str(request.getfixturevalue("sqlite_url"))
    return str(request.getfixturevalue("pg_url"))


@pytest.fixture
def tracker(store_url: str) -> Iterator[Tracker]:
    app = build_tracker(store_url)
    try:
        yield app
    finally:
        app.close()
