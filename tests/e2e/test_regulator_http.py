"""GET /v1/programs, the regulator's list, over HTTP on both stores.

The app runs as `wht serve` runs it: the read model's projection in a
background thread started by the app's lifespan. The main property: for
generated histories of several programs (sent one by one and in batches),
at generated business dates and known-at instants, the list says, program by
program, what GET /v1/programs/{id}/compliance says.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from typing import Any
from uuid import uuid4

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from api.app import create_app
from service.application import Tracker
from tests.histories import Body, body, histories, referral

PROBLEM = "application/problem+json"
FAR = date(2026, 11, 1)


@pytest.fixture
def client(tracker: Tracker) -> Iterator[TestClient]:
    with TestClient(create_app(tracker)) as test_client:
        yield test_client


def post(client: TestClient, items: list[tuple[str, Body]]) -> list[dict[str, Any]]:
    """Send items as one batch (or one event when alone); the results, in order."""
    if len(items) == 1:
        program_id, event = items[0]
        response = client.post(f"/v1/programs/{program_id}/events", json=event)
        assert response.status_code == 201, response.text
        return [response.json()]
    response = client.post(
        "/v1/events", json={"events": [{"program_id": p, **e} for p, e in items]}
    )
    assert response.status_code == 201, response.text
    return list(response.json()["results"])


def listed(client: TestClient, limit: int = 2, **params: Any) -> list[dict[str, Any]]:
    """Every page of the list, following next_cursor."""
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        query = {k: v for k, v in params.items() if v is not None}
        query["limit"] = limit
        if cursor:
            query["cursor"] = cursor
        response = client.get("/v1/programs", params=query)
        assert response.status_code == 200, response.text
        page = response.json()
        assert len(page["programs"]) <= limit
        items += page["programs"]
        cursor = page["next_cursor"]
        if cursor is None:
            return items


def expected(
    client: TestClient, program_id: str, provider: str, as_of: str, known_at: str
) -> dict[str, Any] | None:
    response = client.get(
        f"/v1/programs/{program_id}/compliance", params={"as_of": as_of, "known_at": known_at}
    )
    if response.status_code == 404:
        return None
    assert response.status_code == 200, response.text
    figures = response.json()
    return {
        "program_id": program_id,
        "provider_id": provider,
        "status": figures["status"],
        "discharge_eligible": figures["discharge_eligible"],
        "findings": sorted({f["code"] for f in figures["findings"]}),
        "as_of": figures["as_of"],
    }


def provider_at(client: TestClient, program_id: str, known_at: str) -> str:
    trail = client.get(f"/v1/programs/{program_id}/events", params={"known_at": known_at})
    referrals = [e for e in trail.json() if e["type"] == "ProgramReferred"]
    retracted = {
        e["data"]["target_event_id"] for e in trail.json() if e["type"] == "EntryRetracted"
    }
    live = [e for e in referrals if e["event_id"] not in retracted]
    return str((live[-1] if live else referrals[0])["data"]["provider_id"])


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[str, list[tuple[str, Body]], list[int], list[date]]:
    provider = f"clinic-{uuid4().hex[:10]}"
    keys = (f"PR-{provider}-1", f"PR-{provider}-2")
    programs = draw(
        st.lists(histories(provider_id=provider, referral_ids=keys), min_size=1, max_size=3)
    )
    ids = [str(uuid4()) for _ in programs]
    turns = draw(st.permutations([i for i, events in enumerate(programs) for _ in events]))
    queues = [list(events) for events in programs]
    items = [(ids[i], queues[i].pop(0)) for i in turns]
    sizes = draw(st.lists(st.integers(1, 6), min_size=len(items), max_size=len(items)))
    dates = sorted({date.fromisoformat(e["occurred_on"]) for _, e in items})
    as_of = draw(
        st.lists(
            st.dates(dates[0] - timedelta(days=3), dates[-1] + timedelta(days=90)),
            min_size=2,
            max_size=3,
        )
    )
    return provider, items, sizes, as_of


SETTINGS = settings(
    max_examples=10,
    deadline=None,
    derandomize=True,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)


@SETTINGS
@given(scenario=scenarios(), seed=st.integers(0, 2**16))
def test_the_list_equals_each_programs_compliance_at_any_two_times(
    client: TestClient,
    scenario: tuple[str, list[tuple[str, Body]], list[int], list[date]],
    seed: int,
) -> None:
    provider, items, sizes, as_of_days = scenario
    recorded: list[str] = []
    at = 0
    for size in sizes:
        if at >= len(items):
            break
        recorded += [r["recorded_at"] for r in post(client, items[at : at + size])]
        at += size
    ids = sorted({program_id for program_id, _ in items})
    first = datetime.fromisoformat(recorded[0]) - timedelta(microseconds=1)
    instants = sorted(set(recorded))
    chosen = random.Random(seed).sample(instants, min(3, len(instants)))
    for known_at in [first.isoformat(), *chosen]:
        for day in as_of_days:
            as_of = day.isoformat()
            want = [
                w for pid in ids if (w := expected(client, pid, "", as_of, known_at)) is not None
            ]
            for item in want:
                item["provider_id"] = provider_at(client, item["program_id"], known_at)
            got = [
                p
                for who in (provider, f"{provider}-b")
                for p in listed(client, provider_id=who, as_of=as_of, known_at=known_at)
            ]
            assert sorted(got, key=lambda p: p["program_id"]) == want, (as_of, known_at)
            for status in ("referred", "admitted", "discharged"):
                assert [
                    p["program_id"]
                    for p in listed(
                        client,
                        limit=50,
                        provider_id=provider,
                        status=status,
                        as_of=as_of,
                        known_at=known_at,
                    )
                ] == [
                    w["program_id"]
                    for w in want
                    if w["status"] == status and w["provider_id"] == provider
                ]
            codes = sorted({code for w in want for code in w["findings"]})
            for code in codes[:2]:
                for eligible in (True, False):
                    assert [
                        p["program_id"]
                        for p in listed(
                            client,
                            limit=50,
                            provider_id=provider,
                            finding=code,
                            discharge_eligible=str(eligible).lower(),
                            as_of=as_of,
                            known_at=known_at,
                        )
                    ] == [
                        w["program_id"]
                        for w in want
                        if code in w["findings"]
                        and w["discharge_eligible"] is eligible
                        and w["provider_id"] == provider
                    ]


def test_a_client_reads_its_own_writes_at_once(client: TestClient) -> None:
    provider = f"clinic-{uuid4().hex[:10]}"
    program_id = str(uuid4())
    post(client, [(program_id, referral(date(2026, 3, 2), provider, "PR-9"))])
    post(client, [(program_id, body("ProgramAdmitted", date(2026, 3, 9), {"criteria": {}}))])
    page = client.get("/v1/programs", params={"provider_id": provider, "as_of": "2026-03-10"})
    assert page.status_code == 200
    assert [(p["program_id"], p["status"]) for p in page.json()["programs"]] == [
        (program_id, "admitted")
    ]
    assert "admission_criteria_unmet" in page.json()["programs"][0]["findings"]


def test_pages_follow_program_id_order_with_an_opaque_cursor(client: TestClient) -> None:
    provider = f"clinic-{uuid4().hex[:10]}"
    ids = sorted(str(uuid4()) for _ in range(5))
    post(client, [(pid, referral(date(2026, 3, 2), provider, f"PR-{pid}")) for pid in ids])
    first = client.get("/v1/programs", params={"provider_id": provider, "limit": 2}).json()
    assert [p["program_id"] for p in first["programs"]] == ids[:2]
    assert first["next_cursor"] and ids[1] not in first["next_cursor"]
    assert {"as_of", "known_at", "next_cursor", "programs"} <= set(first)
    assert [p["program_id"] for p in listed(client, limit=2, provider_id=provider)] == ids
    last = client.get("/v1/programs", params={"provider_id": provider, "limit": 5}).json()
    assert last["next_cursor"] is None


def test_a_known_at_before_a_program_existed_leaves_it_out(client: TestClient) -> None:
    provider = f"clinic-{uuid4().hex[:10]}"
    program_id = str(uuid4())
    [result] = post(client, [(program_id, referral(date(2026, 3, 2), provider, "PR-1"))])
    before = datetime.fromisoformat(result["recorded_at"]) - timedelta(microseconds=1)
    assert listed(client, provider_id=provider, known_at=before.isoformat()) == []
    assert len(listed(client, provider_id=provider, known_at=result["recorded_at"])) == 1


@pytest.mark.parametrize(
    "params",
    [
        {"status": "paused"},
        {"limit": 0},
        {"limit": 501},
        {"cursor": "not-a-cursor!"},
        {"discharge_eligible": "maybe"},
        {"as_of": "2026-13-01"},
        {"known_at": "yesterday"},
    ],
)
def test_bad_parameters_are_422_problems(client: TestClient, params: dict[str, Any]) -> None:
    response = client.get("/v1/programs", params=params)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith(PROBLEM)


def test_without_a_running_projection_the_list_is_503_not_stale(tracker: Tracker) -> None:
    app = create_app(tracker, projection=False, read_model_wait=0.3)
    with TestClient(app) as client:
        post(client, [(str(uuid4()), referral(date(2026, 3, 2), "clinic-x", "PR-1"))])
        response = client.get("/v1/programs")
        assert response.status_code == 503
        assert response.headers["content-type"].startswith(PROBLEM)
        assert response.headers["retry-after"]
