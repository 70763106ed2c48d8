"""The real `wht` command: `wht serve` as a process over a real socket, and `wht demo`.

Each server is started on a free port with WHT_DATABASE_URL naming the test's
store, and always terminated (killed if it will not stop) in a `finally`.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from uuid import NAMESPACE_URL, uuid4, uuid5

import httpx
import pytest

from tests.helpers import ADMITTED_ON, LATER, opened, session, with_data

pytestmark = pytest.mark.slow

WHT = str(Path(sys.executable).with_name("wht"))
START_TIMEOUT = 30.0
DEMO_NAMES = ["compliant", "tardiness-non-compliance", "over-daily-cap", "excluded-region"]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wht_env(database_url: str) -> dict[str, str]:
    return {**os.environ, "WHT_DATABASE_URL": database_url}


@contextmanager
def serving(database_url: str, folder: Path, *options: str) -> Iterator[httpx.Client]:
    """`wht serve [options]` on a free port until /healthz answers; an HTTP client for it.
    Its output is in `folder/serve-PORT.log`."""
    port = free_port()
    log_path = folder / f"serve-{port}.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [WHT, "serve", "--host", "127.0.0.1", "--port", str(port), *options],
            env=wht_env(database_url),
            cwd=folder,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
                deadline = time.monotonic() + START_TIMEOUT
                while True:
                    if process.poll() is not None:
                        pytest.fail(
                            f"wht serve exited with {process.returncode}:\n"
                            f"{log_path.read_text(errors='replace')}"
                        )
                    try:
                        if client.get("/healthz").status_code == 200:
                            break
                    except httpx.TransportError:
                        pass
                    if time.monotonic() > deadline:
                        pytest.fail(
                            "wht serve did not answer /healthz in time:\n"
                            f"{log_path.read_text(errors='replace')}"
                        )
                    time.sleep(0.1)
                yield client
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)


def figures(client: httpx.Client, program_id: str) -> dict[str, Any]:
    response = client.get(
        f"/v1/programs/{program_id}/compliance", params={"as_of": LATER.isoformat()}
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    body.pop("known_at")
    return body


def test_a_served_tracker_keeps_events_and_idempotency_across_a_restart(
    store_url: str, tmp_path: Path
) -> None:
    program_id = str(uuid4())
    sent = session(ADMITTED_ON, 6)
    with serving(store_url, tmp_path) as client:
        for body in opened():
            assert client.post(f"/v1/programs/{program_id}/events", json=body).status_code == 201
        first = client.post(f"/v1/programs/{program_id}/events", json=sent)
        assert first.status_code == 201, first.text
        before = figures(client, program_id)
    assert (before["version"], before["days_attended"], before["total_hours"]) == (4, 1, 6)

    with serving(store_url, tmp_path) as client:
        again = client.post(f"/v1/programs/{program_id}/events", json=sent)
        changed = client.post(f"/v1/programs/{program_id}/events", json=with_data(sent, hours=7))
        assert figures(client, program_id) == before
        assert (again.status_code, again.json()) == (200, first.json())
        assert changed.status_code == 409
        assert changed.headers["content-type"].startswith("application/problem+json")
        after = client.post(
            f"/v1/programs/{program_id}/events", json=session(ADMITTED_ON.replace(day=10), 4)
        )
        assert (after.status_code, after.json()["version"]) == (201, 5)


def test_wht_demo_loads_four_programs_that_the_server_then_reports(tmp_path: Path) -> None:
    database_url = f"sqlite:///{tmp_path / 'demo.sqlite'}"

    loaded = subprocess.run(
        [WHT, "demo"],
        env=wht_env(database_url),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    repeated = subprocess.run(
        [WHT, "demo"],
        env=wht_env(database_url),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert loaded.returncode == 0, loaded.stderr
    assert repeated.returncode == 0, repeated.stderr
    header, *programs = loaded.stdout.splitlines()
    assert header.startswith("figures as of 2026-06-30")
    assert [line.split()[0] for line in programs] == DEMO_NAMES
    assert repeated.stdout == loaded.stdout
    ids = {name: str(uuid5(NAMESPACE_URL, f"wht-demo/{name}")) for name in DEMO_NAMES}
    with serving(database_url, tmp_path) as client:
        demo = {name: figures(client, program_id) for name, program_id in ids.items()}
    violations = {
        name: {(f["code"], f["clause"]) for f in fig["findings"] if f["severity"] == "violation"}
        for name, fig in demo.items()
    }
    assert violations["compliant"] == set()
    assert ("non_compliance", "DIS-5a") in violations["tardiness-non-compliance"]
    assert demo["tardiness-non-compliance"]["status"] == "discharged"
    assert ("daily_hours_over_cap", "COV-2") in violations["over-daily-cap"]
    assert demo["over-daily-cap"]["reimbursable_hours"] < demo["over-daily-cap"]["total_hours"]
    assert ("region_not_covered", "SEL-2") in violations["excluded-region"]


def test_wht_serve_refuses_an_unsupported_database_url(tmp_path: Path) -> None:
    result = subprocess.run(
        [WHT, "serve", "--port", str(free_port())],
        env=wht_env("mysql://root@localhost/wht"),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert result.returncode == 2
    assert result.stderr.startswith("error: Unsupported WHT_DATABASE_URL 'mysql://")
    assert result.stdout == ""
    assert not (tmp_path / "var").exists()
