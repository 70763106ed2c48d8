"""The audit, integrity and digest endpoints, and both time axes, over HTTP.

Runs on SQLite and PostgreSQL (the `tracker` fixture); events go in through
POST /v1/programs/{id}/events like any client's.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from service.application import Tracker
from tests.audit_builders import (
    ADMITTED_ON,
    CRITERIA,
    LATER,
    REFERRED_ON,
    referral_body,
    session_body,
)

STEP_KEYS = {
    "version",
    "event_id",
    "type",
    "occurred_on",
    "recorded_at",
    "event",
    "figures",
    "findings_added",
    "findings_resolved",
}


@pytest.fixture
def client(tracker: Tracker) -> Iterator[TestClient]:
    with TestClient(create_app(tracker)) as test_client:
        yield test_client


class Program:
    """One program posted over HTTP; `receipts` in record order."""

    def __init__(self, client: TestClient) -> None:
        self.client = client
        self.id = uuid4()
        self.receipts: list[dict[str, Any]] = []

    def post(self, event_type: str, on: date, data: dict[str, Any]) -> dict[str, Any]:
        response = self.client.post(
            f"/v1/programs/{self.id}/events",
            json={
                "event_id": str(uuid4()),
                "type": event_type,
                "occurred_on": on.isoformat(),
                "data": data,
            },
        )
        assert response.status_code == 201, response.text
        self.receipts.append(response.json())
        return response.json()

    def at(self, index: int) -> str:
        return str(self.receipts[index]["recorded_at"])

    def get(self, what: str, **params: str) -> Any:
        return self.client.get(f"/v1/programs/{self.id}/{what}", params=params)


def started(client: TestClient, sessions: int = 3, hours: list[float] | None = None) -> Program:
    program = Program(client)
    program.post("ProgramReferred", REFERRED_ON, referral_body())
    program.post("ProgramAdmitted", ADMITTED_ON, {"criteria": CRITERIA})
    for n in range(sessions):
        program.post(
            "SessionLogged",
            ADMITTED_ON + timedelta(days=n),
            session_body((hours or [6] * sessions)[n]),
        )
    return program


def test_the_audit_replays_every_event_with_the_figures_after_it(client: TestClient) -> None:
    program = started(client, sessions=3, hours=[6, 1.5, 6])
    response = program.get("audit", as_of=LATER.isoformat())

    assert response.status_code == 200
    steps = response.json()
    assert [s["version"] for s in steps] == [1, 2, 3, 4, 5]
    assert all(set(s) >= STEP_KEYS for s in steps)
    assert [s["type"] for s in steps] == ["ProgramReferred", "ProgramAdmitted"] + [
        "SessionLogged"
    ] * 3
    assert [s["figures"]["total_hours"] for s in steps] == [0, 0, 6, 7.5, 13.5]
    assert steps[3]["event"]["hash"] == steps[4]["event"]["prev_hash"]
    under_two = [f["code"] for f in steps[3]["findings_added"]]
    assert "session_under_two_hours" in under_two
    compliance = program.get("compliance", as_of=LATER.isoformat()).json()
    assert {k: compliance[k] for k in steps[-1]["figures"]} == steps[-1]["figures"]


def test_a_retraction_shows_the_findings_it_resolved(client: TestClient) -> None:
    program = started(client, sessions=2, hours=[6, 1.5])
    program.post("EntryRetracted", LATER, {"target_event_id": program.receipts[-1]["event_id"]})
    last = program.get("audit", as_of=LATER.isoformat()).json()[-1]

    assert last["type"] == "EntryRetracted"
    assert "session_under_two_hours" in [f["code"] for f in last["findings_resolved"]]
    assert last["figures"]["total_hours"] == 6


def test_each_step_equals_compliance_known_at_its_recorded_at(client: TestClient) -> None:
    program = started(client, sessions=3)
    steps = program.get("audit", as_of=LATER.isoformat()).json()
    for step in steps:
        known = program.get(
            "compliance", as_of=LATER.isoformat(), known_at=step["recorded_at"]
        ).json()
        assert known["version"] == step["version"]
        assert {k: known[k] for k in step["figures"]} == step["figures"]


def test_the_audit_cut_at_known_at_holds_only_what_was_known(client: TestClient) -> None:
    program = started(client, sessions=3)
    steps = program.get("audit", known_at=program.at(2)).json()
    assert [s["version"] for s in steps] == [1, 2, 3]


def test_reads_before_the_program_existed_are_404(client: TestClient) -> None:
    program = started(client, sessions=1)
    before = (datetime.fromisoformat(program.at(0)) - timedelta(seconds=1)).isoformat()
    for what in ("audit", "compliance", "events", "billing"):
        response = program.get(what, known_at=before)
        assert response.status_code == 404, what
        assert response.headers["content-type"].startswith("application/problem+json")


def test_unknown_programs_are_404_on_audit_and_integrity(client: TestClient) -> None:
    for what in ("audit", "integrity"):
        assert client.get(f"/v1/programs/{uuid4()}/{what}").status_code == 404
        assert client.get(f"/v1/programs/not-a-uuid/{what}").status_code == 404


def test_a_bad_as_of_on_the_audit_is_422(client: TestClient) -> None:
    program = started(client, sessions=1)
    response = program.get("audit", as_of="31/07/2025")
    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == ["query", "as_of"]


def test_events_and_billing_answer_both_time_axes(client: TestClient) -> None:
    program = started(client, sessions=4)
    day2 = (ADMITTED_ON + timedelta(days=1)).isoformat()
    trail = program.get("events", as_of=day2).json()
    assert [e["type"] for e in trail] == [
        "ProgramReferred",
        "ProgramAdmitted",
        "SessionLogged",
        "SessionLogged",
    ]
    assert len(program.get("events", known_at=program.at(3)).json()) == 4
    billing = program.get("billing", as_of=LATER.isoformat(), known_at=program.at(3)).json()
    assert [line["date"] for line in billing] == [ADMITTED_ON.isoformat(), day2]


def test_retraction_conflicts_are_409(client: TestClient) -> None:
    program = started(client, sessions=1)
    target = program.receipts[-1]["event_id"]
    missing = client.post(
        f"/v1/programs/{program.id}/events",
        json={
            "event_id": str(uuid4()),
            "type": "EntryRetracted",
            "occurred_on": LATER.isoformat(),
            "data": {"target_event_id": str(uuid4())},
        },
    )
    assert missing.status_code == 409
    program.post("EntryRetracted", LATER, {"target_event_id": target})
    again = client.post(
        f"/v1/programs/{program.id}/events",
        json={
            "event_id": str(uuid4()),
            "type": "EntryRetracted",
            "occurred_on": LATER.isoformat(),
            "data": {"target_event_id": target},
        },
    )
    assert again.status_code == 409
    assert again.json()["title"] == "Entry already retracted"


def test_integrity_reports_an_intact_chain(client: TestClient) -> None:
    program = started(client, sessions=2)
    response = program.get("integrity")

    assert response.status_code == 200
    body = response.json()
    assert {"ok", "events_checked", "head_hash", "first_bad_version"} <= set(body)
    assert body["ok"] is True and body["events_checked"] == 4
    assert body["first_bad_version"] is None
    assert body["head_hash"] == program.get("events").json()[-1]["hash"]


def test_the_digest_covers_the_store_up_to_a_position(client: TestClient) -> None:
    first = started(client, sessions=1)
    early = client.get("/v1/digest").json()
    assert {"position", "digest", "algorithm"} <= set(early)
    assert len(early["digest"]) == 64 and early["position"] >= 3

    started(client, sessions=1)
    later = client.get("/v1/digest").json()
    assert later["position"] > early["position"] and later["digest"] != early["digest"]
    again = client.get("/v1/digest", params={"position": early["position"]}).json()
    assert again["digest"] == early["digest"]
    assert first.get("integrity").json()["ok"] is True


def test_a_digest_position_beyond_the_history_is_404_and_a_negative_one_422(
    client: TestClient,
) -> None:
    started(client, sessions=1)
    head = client.get("/v1/digest").json()["position"]
    assert client.get("/v1/digest", params={"position": head + 1000}).status_code == 404
    assert client.get("/v1/digest", params={"position": -1}).status_code == 422
    assert client.get("/v1/digest", params={"position": 0}).json()["digest"] == "0" * 64


def test_the_washington_pack_is_listed_with_its_assumptions(client: TestClient) -> None:
    packs = {p["id"]: p for p in client.get("/v1/policies").json()}
    assert packs["wa-lni-2023"]["default"] is False
    assert packs["wa-lni-2023"]["effective_periods"] == [{"from": "2008-01-01", "to": "2024-02-01"}]
    pack = client.get("/v1/policies/wa-lni-2023").json()
    assert pack["limits"]["max_weeks"] == 4
    assert pack["typical"]["min_hours_per_day"] in ("4", 4)
    assert set(pack["clauses"]) == set(client.get("/v1/policies/optum-481").json()["clauses"])
    assert pack["assumptions"]


def test_a_referral_can_ask_for_the_washington_pack(client: TestClient) -> None:
    program = Program(client)
    program.post("ProgramReferred", date(2023, 6, 5), referral_body(policy="wa-lni-2023"))
    body = program.get("compliance", as_of="2023-06-30").json()
    assert body["policy"] == "wa-lni-2023"
    assert UUID(body["program_id"]) == program.id


def test_an_auditor_downloads_a_bundle_that_checks_offline(tracker: Tracker) -> None:
    # GET /v1/programs/{id}/bundle (issue 16, item 12: in the role table, now served).
    from api.app import create_app
    from api.auth import install_auth
    from service.bundle import check_bundle
    from tests.audit_builders import standard_program

    clinic = standard_program(tracker, sessions=3)
    app = create_app(tracker, projection=False)
    store = install_auth(app, tracker)
    _, auditor = store.add_key("auditor")
    _, payer = store.add_key("payer")
    with TestClient(app) as client:
        url = f"/v1/programs/{clinic.program_id}/bundle"
        response = client.get(url, headers={"Authorization": f"Bearer {auditor}"})
        refused = client.get(url, headers={"Authorization": f"Bearer {payer}"})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/zip"
    assert check_bundle(response.content).ok
    assert refused.status_code == 403
