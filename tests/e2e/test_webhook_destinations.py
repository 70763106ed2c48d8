"""Webhooks cannot probe inside (issue 23, item 7; API.md revision 3, "Webhooks").

Before, any key that may subscribe could aim a subscription at any address, and the
deliveries list told it what answered there ("RemoteDisconnected" from 127.0.0.1:5432).
Now a URL must be https to a public address, or name a host the operator allows in
WHT_WEBHOOK_ALLOW_HOSTS (the suite allows 127.0.0.1, where its receivers listen); the
check runs again before each delivery attempt; and only an admin reads why an attempt
failed to connect."""

from __future__ import annotations

import time
from collections.abc import Iterator
from uuid import uuid4

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.auth import install_auth
from api.settings import Settings
from service.application import Tracker
from service.notify import Destinations, Notifier, Subscriptions, open_alert_store
from service.notify.destinations import inside
from tests.alert_script import SECRET
from tests.helpers import referred, send
from tests.receiver import Receiver

Keyed = tuple[TestClient, dict[str, dict[str, str]]]


@pytest.fixture
def keyed(tracker: Tracker) -> Iterator[Keyed]:
    settings = Settings(webhook_allow_hosts="127.0.0.1")
    app = create_app(tracker, settings=settings, projection=False)
    store = install_auth(app, tracker)
    headers = {}
    for name, role, provider in [("north", "provider", "clinic-north"), ("admin", "admin", None)]:
        _, token = store.add_key(role, provider, name)
        headers[name] = {"Authorization": f"Bearer {token}"}
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client, headers


def subscribe(client: TestClient, headers: dict[str, str], url: str) -> object:
    body = {"url": url, "kinds": ["finding_added"], "secret": SECRET}
    return client.post("/v1/subscriptions", json=body, headers=headers)


INSIDE = [
    "https://127.0.0.2:5432/hook",  # loopback, not the one allowed
    "https://localhost/hook",  # a name that resolves to loopback
    "https://[::1]/hook",
    "https://[::ffff:127.0.0.1]/hook",  # loopback, IPv4-mapped
    "https://10.1.2.3/hook",
    "https://192.168.0.10/hook",
    "https://172.16.5.4/hook",
    "https://169.254.169.254/latest/meta-data",  # link-local (cloud metadata)
    "https://0.0.0.0/hook",
    "https://100.64.0.1/hook",  # shared address space (carrier-grade NAT)
    "http://93.184.215.14/hook",  # public, but plain http
]


@pytest.mark.parametrize("url", INSIDE)
def test_a_subscription_aimed_inside_is_refused_with_422(keyed: Keyed, url: str) -> None:
    client, h = keyed
    for who in ("north", "admin"):
        answer = subscribe(client, h[who], url)
        assert answer.status_code == 422, (who, url, answer.text)
        assert answer.headers["content-type"].startswith("application/problem+json")
        assert "url" in answer.text


def test_https_to_a_public_address_and_any_allowed_host_are_taken(keyed: Keyed) -> None:
    """A name that does not resolve yet (no DNS here) is taken too: each attempt checks
    it again, and refuses it until it resolves to a public address."""
    client, h = keyed
    for url in (
        "https://93.184.215.14/hook",
        "http://127.0.0.1:9/hook",
        "https://127.0.0.1/x",
        "https://clinic.example/hooks/wht",
    ):
        answer = subscribe(client, h["north"], url)
        assert answer.status_code == 201, (url, answer.text)


def test_what_a_name_resolves_to_is_checked_again_before_each_attempt(tracker: Tracker) -> None:
    """A name that resolved to a public address when subscribed, and to loopback when
    delivered (DNS rebinding), is not sent to: the attempt records the refusal."""
    receiver = Receiver(SECRET).start()
    url = f"https://hooks.example.test:{receiver.port}/wht"
    answers = {"now": ["93.184.215.14"]}
    rebinding = Destinations(resolver=lambda host, port: answers["now"])
    store = open_alert_store(tracker)
    try:
        made = Subscriptions(tracker, store, rebinding).create(
            url=url, kinds=["finding_added"], secret=SECRET, provider_id=None
        )
        answers["now"] = ["127.0.0.1"]
        body = referred()
        body["data"]["claim"]["compensable_injury_reported"] = False  # a finding to alert
        send(tracker, uuid4(), body)
        notifier = Notifier(tracker, store, poll=0.05, destinations=rebinding)
        deadline = time.monotonic() + 20
        attempts: list[dict[str, object]] = []
        while not attempts and time.monotonic() < deadline:
            notifier.step()
            deliveries = Subscriptions(tracker, store).deliveries(made.subscription_id, None)
            attempts = [a for d in deliveries for a in d["attempts"]]
        assert attempts, "no attempt was recorded"
        assert str(attempts[0]["error"]).startswith("destination refused, not sent")
        assert receiver.alerts() == []
    finally:
        receiver.stop()


def test_only_an_admin_reads_why_an_attempt_did_not_connect(keyed: Keyed) -> None:
    client, h = keyed
    made = subscribe(client, h["north"], "http://127.0.0.1:9/hook")  # nothing listens
    assert made.status_code == 201  # type: ignore[attr-defined]
    sid = made.json()["subscription_id"]  # type: ignore[attr-defined]
    body = referred(provider_id="clinic-north")
    body["data"]["claim"]["compensable_injury_reported"] = False
    assert client.post(f"/v1/programs/{uuid4()}/events", json=body, headers=h["north"]).is_success
    tracker = client.app.state.tracker  # type: ignore[attr-defined]
    store = client.app.state.alert_store  # type: ignore[attr-defined]
    notifier = Notifier(tracker, store, poll=0.05, destinations=Destinations.allowing("127.0.0.1"))
    deadline = time.monotonic() + 20
    seen: dict[str, str] = {}
    while len(seen) < 2 and time.monotonic() < deadline:
        notifier.step()
        for who in ("north", "admin"):
            listed = client.get(f"/v1/subscriptions/{sid}/deliveries", headers=h[who]).json()
            errors = [a["error"] for d in listed["deliveries"] for a in d["attempts"]]
            if errors:
                seen[who] = errors[0]
    assert "Connection" in seen["admin"] or "refused" in seen["admin"].lower(), seen
    assert seen["north"] == "not delivered (an admin's key reads why)", seen


@pytest.mark.parametrize(
    ("address", "is_inside"),
    [
        ("127.0.0.1", True),
        ("::1", True),
        ("10.0.0.1", True),
        ("fd00::1", True),
        ("fe80::1%eth0", True),
        ("224.0.0.1", True),
        ("::ffff:10.0.0.1", True),
        ("93.184.215.14", False),
        ("2606:4700:4700::1111", False),
    ],
)
def test_inside_is_every_address_that_is_not_public(address: str, is_inside: bool) -> None:
    assert inside(address) is is_inside
