"""The store goes away and comes back: 503 problem+json meanwhile, then service as before,
with no restart and nothing stored by the refused requests.

PostgreSQL: the test's own database stops taking connections and its sessions are
terminated (the server cluster keeps running). SQLite: the database file and its WAL
are made read-only. Tests run as root, for whom file modes are no bar, so the file is
made immutable (`chattr +i`), which binds root too.
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit
from uuid import uuid4

import psycopg
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.auth import install_auth
from api.bootstrap import build_tracker
from tests.conftest import PG_ADMIN
from tests.helpers import ADMITTED_ON, admitted, plus, referred, session

PROBLEM = "application/problem+json"
RECOVERY_SECONDS = 30


@contextmanager
def sqlite_read_only(url: str) -> Iterator[None]:
    path = Path(url[len("sqlite:///") :])
    files = [p for p in (path, Path(f"{path}-wal")) if p.exists()]
    flag = "+i" if os.geteuid() == 0 else None
    try:
        for p in files:
            if flag:
                subprocess.run(["chattr", "+i", str(p)], check=True)
            else:
                p.chmod(0o444)
        yield
    finally:
        for p in files:
            if flag:
                subprocess.run(["chattr", "-i", str(p)], check=True)
            else:
                p.chmod(0o644)


@contextmanager
def postgres_stopped(url: str) -> Iterator[None]:
    name = urlsplit(url).path.lstrip("/")
    with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
        admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
        try:
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = %s AND pid <> pg_backend_pid()",
                (name,),
            )
            yield
        finally:
            admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')


def unavailable(url: str) -> Callable[[], contextmanager[None]]:  # type: ignore[type-arg]
    return (
        (lambda: sqlite_read_only(url))
        if url.startswith("sqlite")
        else (lambda: postgres_stopped(url))
    )


def assert_503(response: object) -> None:
    assert response.status_code == 503, response.text  # type: ignore[attr-defined]
    assert response.headers["content-type"] == PROBLEM  # type: ignore[attr-defined]
    assert response.headers["retry-after"]  # type: ignore[attr-defined]
    assert response.json()["status"] == 503  # type: ignore[attr-defined]


def eventually(call: Callable[[], object], ok: Callable[[object], bool]) -> object:
    deadline = time.monotonic() + RECOVERY_SECONDS
    while True:
        result = call()
        if ok(result) or time.monotonic() > deadline:
            return result
        time.sleep(0.25)


@pytest.mark.slow
def test_store_outage_answers_503_then_recovers_by_itself(store_url: str) -> None:
    # A short connection wait keeps each refused request near 1 s on PostgreSQL.
    tracker = build_tracker(store_url, env={"POSTGRES_CONNECT_TIMEOUT": "1"})
    app = create_app(tracker)
    store = install_auth(app, tracker)
    _, provider = store.add_key("provider", "clinic-north")
    _, payer = store.add_key("payer")
    as_provider = {"Authorization": f"Bearer {provider}"}
    as_payer = {"Authorization": f"Bearer {payer}"}
    program_id = uuid4()
    url = f"/v1/programs/{program_id}/events"
    try:
        with TestClient(app, raise_server_exceptions=False) as client:
            for body in (referred(), admitted()):
                assert client.post(url, json=body, headers=as_provider).status_code == 201
            before = client.get(f"/v1/programs/{program_id}/events", headers=as_provider).json()
            log_before = len(store.access_log())
            during = [session(plus(ADMITTED_ON, i)) for i in range(3)]
            batch = {"events": [{"program_id": str(program_id), **session(plus(ADMITTED_ON, 5))}]}
            with unavailable(store_url)():
                for body in during:
                    assert_503(client.post(url, json=body, headers=as_provider))
                assert_503(client.post("/v1/events", json=batch, headers=as_provider))
                # A payer's read is answered only once it is logged: no log, no answer.
                assert_503(client.get(f"/v1/programs/{program_id}/compliance", headers=as_payer))
            # Back: the same requests succeed, without restarting anything.
            first = eventually(
                lambda: client.post(url, json=during[0], headers=as_provider),
                lambda r: r.status_code != 503,
            )
            assert first.status_code == 201, first.text  # type: ignore[attr-defined]
            for body in during[1:]:
                assert client.post(url, json=body, headers=as_provider).status_code == 201
            assert client.post("/v1/events", json=batch, headers=as_provider).status_code == 201
            read = client.get(f"/v1/programs/{program_id}/compliance", headers=as_payer)
            assert read.status_code == 200
            after = client.get(f"/v1/programs/{program_id}/events", headers=as_provider).json()
        log = store.access_log()
        chain = store.verify_access_log()
    finally:
        tracker.close()
    assert after[: len(before)] == before
    ids = [e["event_id"] for e in after]
    assert ids[len(before) :] == [b["event_id"] for b in during] + [batch["events"][0]["event_id"]]
    assert [e["version"] for e in after] == list(range(1, len(after) + 1))
    assert len(log) == log_before + 1 and log[-1]["status"] == 200  # the refused read left none
    assert chain.ok
