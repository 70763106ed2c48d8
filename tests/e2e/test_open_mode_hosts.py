"""An open service (no API key) answers only requests addressed to loopback names
(issue 16, item 9): a page elsewhere cannot read it through DNS rebinding."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.auth import install_auth
from api.guard import is_loopback_name
from api.settings import Settings
from service.application import Tracker

PATHS = ["/v1/programs", "/ui/programs", "/v1/policies"]


@pytest.mark.parametrize(
    "host", ["localhost:8000", "127.0.0.1:8000", "[::1]:8000", "app.localhost"]
)
def test_loopback_names_are_answered(tracker: Tracker, host: str) -> None:
    app = create_app(tracker, settings=Settings(allowed_hosts=""), projection=False)
    with TestClient(app, base_url=f"http://{host}") as client:
        assert client.get("/v1/policies").status_code == 200


@pytest.mark.parametrize("host", ["evil.example", "evil.example:8000", "127.0.0.1.nip.io", ""])
def test_other_names_are_refused_in_open_mode(tracker: Tracker, host: str) -> None:
    app = create_app(tracker, settings=Settings(allowed_hosts=""), projection=False)
    with TestClient(app, raise_server_exceptions=False) as client:
        for path in PATHS:
            response = client.get(path, headers={"host": host})
            assert response.status_code == 421, (path, response.text)
            assert response.headers["content-type"] == "application/problem+json"


def test_with_a_key_any_name_is_served(tracker: Tracker) -> None:
    app = create_app(tracker, settings=Settings(allowed_hosts=""), projection=False)
    store = install_auth(app, tracker)
    _, token = store.add_key("payer")
    with TestClient(app) as client:
        response = client.get(
            "/v1/policies",
            headers={"host": "tracker.example.org", "Authorization": f"Bearer {token}"},
        )
    assert response.status_code == 200


def test_names_in_wht_allowed_hosts_are_answered(tracker: Tracker) -> None:
    app = create_app(tracker, settings=Settings(allowed_hosts="wht.lan, Box"), projection=False)
    with TestClient(app) as client:
        assert client.get("/v1/policies", headers={"host": "box:8000"}).status_code == 200
        assert client.get("/v1/policies", headers={"host": "wht.lan"}).status_code == 200


@pytest.mark.parametrize(
    ("name", "loopback"),
    [
        ("localhost", True),
        ("127.8.9.1", True),
        ("::1", True),
        ("a.localhost", True),
        ("127.0.0.1.nip.io", False),
        ("localhost.evil", False),
        ("10.0.0.1", False),
    ],
)
def test_what_counts_as_a_loopback_name(name: str, loopback: bool) -> None:
    assert is_loopback_name(name) is loopback
