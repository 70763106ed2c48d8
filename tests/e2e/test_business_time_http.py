"""A program's own business dates, over HTTP on both stores (docs/domain.md R12, R21).

R12: a program exists in business time from its standing referral's `occurred_on`:
at an `as_of` before it the lists leave it out and its reads answer 404.
R21: a default `as_of` is today in the program's time zone, per program, in the
lists too (each item says its `as_of`); an audit replay step is judged, unless
`as_of` is given, at that step's receipt date.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date, datetime
from functools import partial
from typing import Any
from uuid import uuid4
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from service.application import Tracker
from tests.helpers import Body, admitted, plus, referred, retraction, session

PROBLEM = "application/problem+json"
REFERRED = date(2026, 3, 2)
BEFORE = plus(REFERRED, -1)
# 25 hours apart: at any instant their dates differ (by one day or two).
EAST, WEST = "Pacific/Kiritimati", "Pacific/Pago_Pago"


@pytest.fixture
def client(tracker: Tracker) -> Iterator[TestClient]:
    with TestClient(create_app(tracker)) as test_client:
        yield test_client


def post(client: TestClient, program_id: str, *bodies: Body) -> list[dict[str, Any]]:
    answers = []
    for body in bodies:
        response = client.post(f"/v1/programs/{program_id}/events", json=body)
        assert response.status_code == 201, response.text
        answers.append(response.json())
    return answers


def provider() -> str:
    return f"clinic-{uuid4().hex[:10]}"


def today_in(zone: str) -> date:
    return datetime.now(ZoneInfo(zone)).date()


def around(ask: Callable[[], Any], zones: list[str]) -> tuple[Any, list[set[date]]]:
    """`ask()`, with each zone's today read before and after it (a midnight may pass)."""
    before = [today_in(z) for z in zones]
    answer = ask()
    after = [today_in(z) for z in zones]
    return answer, [{b, a} for b, a in zip(before, after, strict=True)]


def test_the_list_leaves_a_program_out_before_its_referral_date(client: TestClient) -> None:
    clinic = provider()
    pid = str(uuid4())
    post(client, pid, referred(REFERRED, provider_id=clinic))
    # A withdrawn program (its only referral retracted) is listed as before.
    gone = str(uuid4())
    referral = referred(REFERRED, provider_id=clinic)
    post(client, gone, referral, retraction(REFERRED, referral))
    listed = client.get("/v1/programs", params={"provider_id": clinic, "as_of": BEFORE})
    assert listed.status_code == 200, listed.text
    assert [(p["program_id"], p["status"]) for p in listed.json()["programs"]] == [
        (gone, "withdrawn")
    ]
    params = {"provider_id": clinic, "as_of": BEFORE, "status": "referred"}
    assert client.get("/v1/programs", params=params).json()["programs"] == []
    withdrawn = client.get(f"/v1/programs/{gone}/compliance", params={"as_of": BEFORE})
    assert withdrawn.status_code == 200 and withdrawn.json()["status"] == "withdrawn"
    on = client.get("/v1/programs", params={"provider_id": clinic, "as_of": REFERRED})
    assert [(p["program_id"], p["status"], p["as_of"]) for p in on.json()["programs"]] == sorted(
        [(pid, "referred", REFERRED.isoformat()), (gone, "withdrawn", REFERRED.isoformat())]
    )


def test_the_worklist_leaves_a_program_out_before_its_referral_date(client: TestClient) -> None:
    # Admitted a week before its referral (REF-2): obligations run from the admission.
    clinic = provider()
    pid = str(uuid4())
    post(client, pid, referred(REFERRED, provider_id=clinic), admitted(plus(REFERRED, -7)))
    params = {"provider_id": clinic, "due_within": 30}
    before = client.get("/v1/worklist", params={**params, "as_of": BEFORE})
    assert before.status_code == 200, before.text
    assert before.json()["items"] == []
    csv = client.get("/v1/worklist", params={**params, "as_of": BEFORE, "format": "csv"})
    assert csv.text.splitlines()[1:] == []
    after = client.get("/v1/worklist", params={**params, "as_of": REFERRED}).json()["items"]
    assert after and {(i["program_id"], i["as_of"]) for i in after} == {(pid, REFERRED.isoformat())}


@pytest.mark.parametrize("read", ["compliance", "billing", "due"])
def test_reads_before_the_referral_date_are_404_problems(client: TestClient, read: str) -> None:
    pid = str(uuid4())
    post(client, pid, referred(REFERRED), admitted(), session(plus(REFERRED, 7)))
    answer = client.get(f"/v1/programs/{pid}/{read}", params={"as_of": BEFORE})
    assert answer.status_code == 404, answer.text
    assert answer.headers["content-type"].startswith(PROBLEM)
    assert f"no referral on or before {BEFORE.isoformat()}" in answer.json()["detail"]
    on = client.get(f"/v1/programs/{pid}/{read}", params={"as_of": REFERRED})
    assert on.status_code == 200, on.text


@pytest.mark.parametrize("page", ["", "/report"])
def test_the_program_pages_before_the_referral_date_are_404(client: TestClient, page: str) -> None:
    pid = str(uuid4())
    post(client, pid, referred(REFERRED), admitted())
    url = f"/ui/programs/{pid}{page}"
    answer = client.get(url, params={"as_of": BEFORE.isoformat()})
    assert answer.status_code == 404
    assert f"no referral on or before {BEFORE.isoformat()}" in answer.text
    assert client.get(url, params={"as_of": REFERRED.isoformat()}).status_code == 200


def test_with_no_as_of_each_program_is_judged_at_its_own_today(client: TestClient) -> None:
    clinic = provider()
    ids = {zone: str(uuid4()) for zone in (EAST, WEST)}
    for zone, pid in ids.items():
        post(client, pid, referred(REFERRED, provider_id=clinic, time_zone=zone), admitted())
    zones = list(ids)

    listed, days = around(lambda: client.get("/v1/programs", params={"provider_id": clinic}), zones)
    assert listed.status_code == 200, listed.text
    by_program = {p["program_id"]: p["as_of"] for p in listed.json()["programs"]}
    for zone, today in zip(zones, days, strict=True):
        assert date.fromisoformat(by_program[ids[zone]]) in today, zone

    work, days = around(lambda: client.get("/v1/worklist", params={"provider_id": clinic}), zones)
    assert work.status_code == 200, work.text
    items = work.json()["items"]
    assert {i["program_id"] for i in items} == set(ids.values())
    for zone, today in zip(zones, days, strict=True):
        mine = [i for i in items if i["program_id"] == ids[zone]]
        assert {date.fromisoformat(i["as_of"]) for i in mine} <= today, zone
        for item in mine:
            status = "open" if item["due_on"] >= item["as_of"] else "missed"
            assert item["status"] == status
    csv = client.get("/v1/worklist", params={"provider_id": clinic, "format": "csv"}).text
    assert "as_of" in csv.splitlines()[0].split(",")

    for zone in zones:
        url = f"/v1/programs/{ids[zone]}/compliance"
        figures, [today] = around(partial(client.get, url), [zone])
        assert date.fromisoformat(figures.json()["as_of"]) in today


def test_the_worklist_items_say_the_as_of_they_are_listed_at(client: TestClient) -> None:
    clinic = provider()
    pid = str(uuid4())
    post(client, pid, referred(REFERRED, provider_id=clinic), admitted())
    day = "2026-03-17"
    items = client.get("/v1/worklist", params={"provider_id": clinic, "as_of": day}).json()
    assert items["items"] and {i["as_of"] for i in items["items"]} == {day}
    schema = client.get("/openapi.json").json()["components"]["schemas"]
    assert "as_of" in schema["WorkItemOut"]["properties"]
    assert "as_of" in schema["ProgramSummary"]["properties"]


def test_each_audit_step_is_judged_at_its_receipt_date(client: TestClient) -> None:
    pid = str(uuid4())
    bodies = [
        referred(REFERRED),
        admitted(),
        session(plus(REFERRED, 8)),
        # Backfilled: judged at the latest date already in the program (R11).
        session(plus(REFERRED, 7)),
    ]
    receipts = post(client, pid, *bodies)
    steps = client.get(f"/v1/programs/{pid}/audit").json()
    assert [s["figures"]["as_of"] for s in steps] == [
        "2026-03-02",
        "2026-03-09",
        "2026-03-10",
        "2026-03-10",
    ]
    for step, receipt in zip(steps, receipts, strict=True):
        assert step["findings_added"] == receipt["findings"], step["version"]
    given = client.get(f"/v1/programs/{pid}/audit", params={"as_of": "2026-06-30"}).json()
    assert {s["figures"]["as_of"] for s in given} == {"2026-06-30"}
