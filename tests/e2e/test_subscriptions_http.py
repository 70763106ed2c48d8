"""/v1/subscriptions over HTTP: who may subscribe to what, the secret never shown again,
and `wht serve` delivering a scripted program's alerts to a real receiver."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from uuid import uuid4

import httpx
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.auth import install_auth
from service.application import Tracker
from tests.alert_script import SECRET, expected_alerts, said, scripted_events
from tests.e2e.test_serve_process import free_port
from tests.receiver import Receiver

WHT = str(Path(sys.executable).with_name("wht"))
FAST = {
    "WHT_NOTIFY_BACKOFF_BASE": "0.1",
    "WHT_NOTIFY_BACKOFF_CAP": "0.5",
    "WHT_NOTIFY_POLL": "0.1",
    "WHT_NOTIFY_TIMEOUT": "2",
}


@pytest.fixture
def keyed(tracker: Tracker) -> Iterator[tuple[TestClient, dict[str, dict[str, str]]]]:
    app = create_app(tracker, projection=False)
    store = install_auth(app, tracker)
    headers = {}
    for name, role, provider in [
        ("north", "provider", "clinic-north"),
        ("south", "provider", "clinic-south"),
        ("payer", "payer", None),
        ("admin", "admin", None),
    ]:
        _, token = store.add_key(role, provider, name)
        headers[name] = {"Authorization": f"Bearer {token}"}
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client, headers


def subscription(**changes: object) -> dict[str, object]:
    return {
        "url": "http://127.0.0.1:9/hook",
        "kinds": ["finding_added"],
        "secret": SECRET,
        **changes,
    }


def test_a_provider_subscribes_only_to_its_own_programs_and_sees_only_its_own(
    keyed: tuple[TestClient, dict[str, dict[str, str]]],
) -> None:
    client, h = keyed
    made = client.post("/v1/subscriptions", json=subscription(), headers=h["north"])
    other = client.post(
        "/v1/subscriptions", json=subscription(provider_id="clinic-south"), headers=h["north"]
    )
    by_admin = client.post("/v1/subscriptions", json=subscription(), headers=h["admin"])
    by_payer = client.post("/v1/subscriptions", json=subscription(), headers=h["payer"])

    assert made.status_code == 201, made.text
    assert made.json()["provider_id"] == "clinic-north"
    assert "secret" not in made.json() and SECRET not in made.text
    assert other.status_code == 403
    assert (by_admin.status_code, by_admin.json()["provider_id"]) == (201, None)
    assert by_payer.status_code == 403
    sid = made.json()["subscription_id"]
    north = client.get("/v1/subscriptions", headers=h["north"]).json()["subscriptions"]
    assert [s["subscription_id"] for s in north] == [sid]
    assert len(client.get("/v1/subscriptions", headers=h["admin"]).json()["subscriptions"]) == 2
    assert client.get(f"/v1/subscriptions/{sid}", headers=h["south"]).status_code == 404
    assert client.delete(f"/v1/subscriptions/{sid}", headers=h["south"]).status_code == 404
    assert client.get(f"/v1/subscriptions/{sid}/deliveries", headers=h["north"]).json() == {
        "subscription_id": sid,
        "deliveries": [],
    }
    assert client.delete(f"/v1/subscriptions/{sid}", headers=h["north"]).status_code == 204
    assert client.get(f"/v1/subscriptions/{sid}", headers=h["north"]).status_code == 404


@pytest.mark.parametrize(
    "changes",
    [
        {"url": "ftp://example.org/x"},
        {"kinds": ["everything"]},
        {"kinds": []},
        {"secret": "short"},
        {"lead_days": -1},
        {"colour": "red"},
    ],
)
def test_a_bad_subscription_is_422_problem_json(
    keyed: tuple[TestClient, dict[str, dict[str, str]]], changes: dict[str, object]
) -> None:
    client, h = keyed
    answer = client.post("/v1/subscriptions", json=subscription(**changes), headers=h["admin"])
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")


def settled(client: httpx.Client, subscription_id: str, count: int) -> list[dict[str, Any]]:
    """The subscription's deliveries once the service lists `count` of them and none is
    pending any more (at most 30 s): a delivery is listed as soon as it is made, and its
    attempt once the receiver has answered."""
    deadline = time.monotonic() + 30
    while True:
        answer = client.get(f"/v1/subscriptions/{subscription_id}/deliveries")
        assert answer.status_code == 200, answer.text
        deliveries: list[dict[str, Any]] = answer.json()["deliveries"]
        if len(deliveries) >= count and all(d["status"] != "pending" for d in deliveries):
            return deliveries
        assert time.monotonic() < deadline, deliveries
        time.sleep(0.1)


@pytest.mark.slow
def test_wht_serve_delivers_a_scripted_programs_alerts_signed(
    store_url: str, tmp_path: Path
) -> None:
    receiver = Receiver(SECRET).start()
    # A receiver that keeps a request a moment before it answers: the alert has arrived,
    # but the service records the attempt only once the answer comes. The deliveries
    # list says "pending" until then, and the test waits for what the service says.
    receiver.delay = 0.3
    port = free_port()
    log = (tmp_path / "serve.log").open("wb")
    process = subprocess.Popen(
        [WHT, "serve", "--port", str(port)],
        env={**os.environ, **FAST, "WHT_DATABASE_URL": store_url},
        cwd=tmp_path,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
            deadline = time.monotonic() + 30
            while True:
                try:
                    if client.get("/healthz").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                assert time.monotonic() < deadline, (tmp_path / "serve.log").read_text()
                time.sleep(0.1)
            made = client.post(
                "/v1/subscriptions",
                json=subscription(url=receiver.url, kinds=["finding_added", "discharge_eligible"]),
            )
            assert made.status_code == 201, made.text
            program_id = str(uuid4())
            receipts = []
            for body in scripted_events():
                answer = client.post(f"/v1/programs/{program_id}/events", json=body)
                assert answer.status_code == 201, answer.text
                receipts.append(answer.json())
            expected = expected_alerts(receipts)
            got = receiver.wait_for(sum(expected.values()), timeout=30)
            sid = made.json()["subscription_id"]
            deliveries = settled(client, sid, len(got))
    finally:
        process.terminate()
        process.wait(timeout=10)
        receiver.stop()

    assert all(r.valid for r in got)
    assert Counter(said(r.alert) for r in got) == expected
    assert {d["delivery_id"] for d in deliveries} == {r.alert["delivery_id"] for r in got}
    assert all(d["status"] == "delivered" for d in deliveries)
    assert all(d["attempts"][0]["status_code"] == 204 for d in deliveries)
