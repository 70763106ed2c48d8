"""Operations (API.md, "Operations"; docs/operations.md): readiness both ways, metrics
scraped and parsed as Prometheus reads them, request ids, and JSON logs of a real server."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from api.app import create_app
from api.settings import Settings
from service.application import Tracker
from service.readmodel.runner import ReadModelRunner
from tests.e2e.test_serve_process import serving
from tests.e2e.test_store_unavailable import postgres_stopped
from tests.helpers import ADMITTED_ON, opened, session

PROBLEM = "application/problem+json"


def client_for(tracker: Tracker, **settings: Any) -> TestClient:
    # No projection thread: the tests move the read model themselves.
    app = create_app(tracker, settings=Settings(**settings), projection=False)
    return TestClient(app, raise_server_exceptions=False)


def samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Every sample of a scrape, keyed by name and labels, parsed by prometheus_client."""
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


@pytest.fixture
def program(tracker: Tracker) -> Iterator[tuple[TestClient, str]]:
    with client_for(tracker, ready_max_lag=0) as client:
        yield client, str(uuid4())


def test_readyz_answers_200_when_the_store_answers_and_the_read_model_is_caught_up(
    tracker: Tracker,
) -> None:
    with client_for(tracker) as client:
        response = client.get("/readyz")
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "ready"
    assert response.json()["projector_lag"] == 0


def test_readyz_answers_503_while_the_read_model_lags_past_its_limit_then_200(
    tracker: Tracker, program: tuple[TestClient, str]
) -> None:
    client, program_id = program
    for body in opened():
        assert client.post(f"/v1/programs/{program_id}/events", json=body).status_code == 201
    lagging = client.get("/readyz")
    assert lagging.status_code == 503, lagging.text
    assert lagging.headers["content-type"] == PROBLEM
    assert lagging.headers["retry-after"]
    assert lagging.json()["reason"] == "projector_lagging"
    assert lagging.json()["lag"] == 3

    runner = ReadModelRunner(tracker, client.app.state.read_model)  # type: ignore[attr-defined]
    try:
        runner.catch_up()
    finally:
        runner.lock.release()
    ready = client.get("/readyz")
    assert ready.status_code == 200, ready.text


def test_readyz_answers_503_while_the_projection_is_stuck_failing(tracker: Tracker) -> None:
    # Issue 23, item 4: a projection failing on every attempt (here a read-model table
    # dropped under it) left /readyz ready, one event behind. A real fault, both stores.
    app = create_app(tracker, settings=Settings(), projection=True)
    with TestClient(app, raise_server_exceptions=False) as client:
        program_id = str(uuid4())
        for body in opened():
            assert client.post(f"/v1/programs/{program_id}/events", json=body).status_code == 201
        assert client.get("/readyz").status_code == 200
        datastore: Any = app.state.read_model.datastore
        with datastore.transaction(commit=True) as cursor:
            cursor.execute("DROP TABLE wht_rm_program")
        url = f"/v1/programs/{program_id}/events"
        assert client.post(url, json=session(ADMITTED_ON, 3)).status_code == 201
        deadline = time.monotonic() + 30  # far past the three attempts' backoff
        answer = client.get("/readyz")
        while answer.status_code == 200 and time.monotonic() < deadline:
            time.sleep(0.2)
            answer = client.get("/readyz")
        assert answer.status_code == 503, answer.text
        assert answer.json()["reason"] == "projector_failing"
        assert "wht_rm_program" in answer.json()["detail"]


@pytest.mark.postgres
def test_readyz_answers_503_when_the_store_does_not_answer(pg_url: str) -> None:
    from api.bootstrap import build_tracker

    tracker = build_tracker(pg_url, env={"POSTGRES_CONNECT_TIMEOUT": "1"})
    try:
        with client_for(tracker) as client:
            assert client.get("/readyz").status_code == 200
            with postgres_stopped(pg_url):
                down = client.get("/readyz")
                alive = client.get("/healthz")
    finally:
        tracker.close()
    assert down.status_code == 503, down.text
    assert down.headers["content-type"] == PROBLEM
    assert down.json()["reason"] == "store_unavailable"
    assert alive.status_code == 200  # liveness does not depend on the store


def test_metrics_count_requests_by_route_events_by_type_and_findings_by_code(
    tracker: Tracker, program: tuple[TestClient, str]
) -> None:
    client, program_id = program
    url = f"/v1/programs/{program_id}/events"
    over_cap = session(ADMITTED_ON, 9)  # 9 hours: daily_hours_over_cap
    for body in [*opened(), over_cap]:
        assert client.post(url, json=body).status_code == 201
    assert client.post(url, json=over_cap).status_code == 200  # a repeat stores nothing
    assert client.get(f"/v1/programs/{uuid4()}/compliance").status_code == 404

    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    found = samples(response.text)

    def value(name: str, **labels: str) -> float:
        return found.get((name, frozenset(labels.items())), 0.0)

    template = "/v1/programs/{program_id}/events"
    assert value("wht_http_requests_total", method="POST", route=template, status="201") == 4
    assert value("wht_http_requests_total", method="POST", route=template, status="200") == 1
    assert (
        value(
            "wht_http_requests_total",
            method="GET",
            route="/v1/programs/{program_id}/compliance",
            status="404",
        )
        == 1
    )
    assert value("wht_http_request_duration_seconds_count", method="POST", route=template) == 5
    assert value("wht_events_ingested_total", type="SessionLogged") == 1
    assert value("wht_events_ingested_total", type="ProgramReferred") == 1
    assert value("wht_findings_raised_total", code="daily_hours_over_cap") == 1
    assert value("wht_store_up") == 1
    assert value("wht_projector_lag_events") == value("wht_store_position") == 4
    # Labels name route templates, never raw paths (which a client could multiply).
    assert not any(program_id in str(labels) for _, labels in found)


def test_every_answer_carries_a_request_id_the_client_may_choose(tracker: Tracker) -> None:
    with client_for(tracker) as client:
        chosen = client.get("/healthz", headers={"X-Request-Id": "lb-7f3a.1"})
        made = client.get("/v1/policies/none")
        hostile = client.get("/healthz", headers={"X-Request-Id": "a b;" + "x" * 200})
    assert chosen.headers["x-request-id"] == "lb-7f3a.1"
    assert len(made.headers["x-request-id"]) == 32 and made.status_code == 404
    assert hostile.headers["x-request-id"] != "a b"  # not a plain token: replaced


def test_the_root_redirects_to_the_pages_and_an_undeclared_method_names_the_allowed(
    tracker: Tracker,
) -> None:
    with client_for(tracker) as client:
        root = client.get("/", follow_redirects=False)
        wrong = client.delete("/v1/policies")
    assert root.status_code in (302, 307) and root.headers["location"] == "/ui"
    assert wrong.status_code == 405 and wrong.headers["allow"] == "GET"
    assert wrong.headers["content-type"] == PROBLEM


@pytest.mark.slow
def test_serve_log_format_json_writes_one_json_object_a_line_with_its_request_id(
    sqlite_url: str, tmp_path: Path
) -> None:
    with serving(sqlite_url, tmp_path, "--log-format", "json") as client:
        answer = client.get("/v1/policies", headers={"X-Request-Id": "trace-42"})
        assert answer.headers["x-request-id"] == "trace-42"
        assert client.get("/metrics").status_code == 200
    (log,) = tmp_path.glob("serve-*.log")
    lines = [line for line in log.read_text().splitlines() if line.startswith("{")]
    records = [json.loads(line) for line in lines]
    assert records, log.read_text()
    access = [r for r in records if r.get("request_id") == "trace-42"]
    assert access and access[-1]["route"] == "/v1/policies" and access[-1]["status"] == 200
    assert any(r["logger"].startswith("uvicorn") for r in records)  # uvicorn's lines too
    assert all({"time", "level", "logger", "message", "request_id"} <= r.keys() for r in records)
