"""Who may call what over HTTP (docs/security.md), on both stores.

The app is built as `wht serve` builds it, `create_app(tracker)` then
`install_auth(app, tracker)`. Keys go in `Authorization: Bearer`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any
from uuid import uuid4

import httpx
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.auth import install_auth
from service.application import Tracker
from service.security import SecurityStore
from tests.helpers import (
    LATER,
    REFERRED_ON,
    admitted,
    opened,
    plus,
    referred,
    session,
    with_data,
)

PROBLEM = "application/problem+json"
PROVIDERS = {"north": "clinic-north", "south": "clinic-south"}
ROLES = ["north", "south", "payer", "auditor", "regulator", "admin"]


@dataclass
class Api:
    client: TestClient
    store: SecurityStore
    tokens: dict[str, str]
    key_ids: dict[str, str]

    def call(self, who: str | None, method: str, url: str, **kw: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.tokens[who]}"} if who else {}
        return self.client.request(method, url, headers=headers, **kw)


@pytest.fixture
def api(tracker: Tracker) -> Iterator[Api]:
    app = create_app(tracker)
    store = install_auth(app, tracker)
    tokens, key_ids = {}, {}
    for name, role, provider in [
        ("north", "provider", "clinic-north"),
        ("south", "provider", "clinic-south"),
        ("payer", "payer", None),
        ("auditor", "auditor", None),
        ("regulator", "regulator", None),
        ("admin", "admin", None),
    ]:
        key, tokens[name] = store.add_key(role, provider, f"{name} test key")
        key_ids[name] = key.key_id
    with TestClient(app, raise_server_exceptions=False) as client:
        yield Api(client, store, tokens, key_ids)


def north_program(api: Api) -> str:
    program_id = str(uuid4())
    for body in opened():
        response = api.call("north", "POST", f"/v1/programs/{program_id}/events", json=body)
        assert response.status_code == 201, response.text
    return program_id


def expect(api: Api, method: str, url: str, want: dict[str, int], **kw: Any) -> None:
    got = {who: api.call(who, method, url, **kw).status_code for who in want}
    assert got == want, f"{method} {url}"


def test_each_role_reaches_exactly_its_own_endpoints(api: Api) -> None:
    pid = north_program(api)
    reads = {
        "north": 200,
        "south": 404,
        "payer": 200,
        "auditor": 200,
        "regulator": 200,
        "admin": 403,
    }
    for what in ("compliance", "events", "billing"):
        expect(api, "GET", f"/v1/programs/{pid}/{what}", reads)
    auditor_only = {
        "north": 403,
        "south": 403,
        "payer": 403,
        "auditor": 200,
        "regulator": 403,
        "admin": 403,
    }
    for what in ("audit", "integrity"):
        expect(api, "GET", f"/v1/programs/{pid}/{what}", auditor_only)
    expect(api, "GET", "/v1/digest", {**auditor_only, "regulator": 200})
    expect(api, "GET", "/v1/policies", dict.fromkeys(ROLES, 200))
    policy = api.call("payer", "GET", "/v1/policies").json()[0]["id"]
    expect(api, "GET", f"/v1/policies/{policy}", dict.fromkeys(ROLES, 200))
    expect(api, "GET", "/v1/access-log", {**dict.fromkeys(ROLES, 403), "admin": 200})
    if "/v1/programs" in api.client.app.openapi()["paths"]:  # type: ignore[attr-defined]
        others = [who for who in ROLES if who != "regulator"]
        expect(api, "GET", "/v1/programs", dict.fromkeys(others, 403))
        # The regulator gets past the guard (the list's own answer is its router's business).
        assert api.call("regulator", "GET", "/v1/programs").status_code not in (401, 403)
    writers = {**dict.fromkeys(ROLES, 403), "north": 201, "south": 404}
    for who, status in writers.items():
        body = session(LATER)
        response = api.call(who, "POST", f"/v1/programs/{pid}/events", json=body)
        assert response.status_code == status, (who, response.text)
        assert response.headers["content-type"] == (
            PROBLEM if status >= 400 else "application/json"
        )


def test_without_a_valid_key_every_v1_call_is_401_and_ops_stay_open(api: Api) -> None:
    pid = north_program(api)
    revoked, token = api.store.add_key("payer")
    api.store.revoke(revoked.key_id)
    for headers in (
        {},
        {"Authorization": "Bearer wht_not-a-key"},
        {"Authorization": "Basic x"},
        {"Authorization": "Bearer"},
        {"Authorization": f"Bearer {token}"},
    ):
        for method, url in [
            ("GET", f"/v1/programs/{pid}/compliance"),
            ("GET", "/v1/policies"),
            ("POST", f"/v1/programs/{pid}/events"),
            ("GET", "/v1/nowhere"),
        ]:
            response = api.client.request(method, url, headers=headers, json=session(LATER))
            assert response.status_code == 401, (headers, url)
            assert response.headers["content-type"] == PROBLEM
            assert response.headers["www-authenticate"].startswith("Bearer")
    assert api.client.get("/healthz").status_code == 200
    assert api.client.get("/openapi.json").status_code == 200
    assert len(api.call("north", "GET", f"/v1/programs/{pid}/events").json()) == 3


def test_another_providers_program_is_indistinguishable_from_none(api: Api) -> None:
    pid = north_program(api)
    nobody = str(uuid4())
    for url in (f"/v1/programs/{pid}/compliance", f"/v1/programs/{nobody}/compliance"):
        response = api.call("south", "GET", url)
        assert response.status_code == 404
        assert response.json()["detail"] == f"Program {url.split('/')[3]} is not known."
    theirs = api.call("south", "POST", f"/v1/programs/{pid}/events", json=session(LATER))
    none = api.call("south", "POST", f"/v1/programs/{nobody}/events", json=session(LATER))
    assert theirs.status_code == none.status_code == 404
    assert theirs.json()["detail"].replace(pid, "X") == none.json()["detail"].replace(nobody, "X")
    # Nor can it take the program over with a referral of its own.
    grab = api.call(
        "south", "POST", f"/v1/programs/{pid}/events", json=referred(provider_id="clinic-south")
    )
    assert grab.status_code == 404
    assert len(api.call("north", "GET", f"/v1/programs/{pid}/events").json()) == 3


def test_a_provider_refers_programs_only_to_itself(api: Api) -> None:
    pid = str(uuid4())
    response = api.call(
        "north", "POST", f"/v1/programs/{pid}/events", json=referred(provider_id="clinic-south")
    )
    assert response.status_code == 403 and response.headers["content-type"] == PROBLEM
    assert "clinic-north" in response.json()["detail"]
    assert api.call("north", "GET", f"/v1/programs/{pid}/compliance").status_code == 404
    batch = {"events": [{"program_id": pid, **referred(provider_id="clinic-south")}]}
    assert api.call("north", "POST", "/v1/events", json=batch).status_code == 403
    assert api.call("north", "GET", f"/v1/programs/{pid}/compliance").status_code == 404


def test_a_batch_with_one_item_for_another_providers_program_stores_nothing(api: Api) -> None:
    theirs = north_program(api)
    mine = str(uuid4())
    batch = {
        "events": [
            {"program_id": mine, **referred(provider_id="clinic-south")},
            {"program_id": mine, **admitted()},
            {"program_id": theirs, **session(LATER)},
        ]
    }
    response = api.call("south", "POST", "/v1/events", json=batch)
    assert response.status_code == 422 and response.headers["content-type"] == PROBLEM
    assert [item["index"] for item in response.json()["items"]] == [2]
    assert api.call("south", "GET", f"/v1/programs/{mine}/compliance").status_code == 404
    assert len(api.call("north", "GET", f"/v1/programs/{theirs}/events").json()) == 3
    batch["events"].pop()
    assert api.call("south", "POST", "/v1/events", json=batch).status_code == 201
    assert api.call("south", "GET", f"/v1/programs/{mine}/compliance").status_code == 200


def test_reads_by_payers_auditors_and_regulators_are_logged_for_the_admin(api: Api) -> None:
    pid = north_program(api)
    known_at = "2030-01-01T00:00:00Z"
    reads = [
        ("payer", f"/v1/programs/{pid}/compliance?as_of=2026-04-01&known_at={known_at}"),
        ("auditor", f"/v1/programs/{pid}/audit"),
        ("regulator", f"/v1/programs/{pid}/billing?as_of=2026-05-01"),
        ("regulator", "/v1/digest"),
        ("payer", f"/v1/programs/{uuid4()}/events"),
    ]
    for who, url in reads:
        api.call(who, "GET", url)
    api.call("north", "GET", f"/v1/programs/{pid}/compliance")  # providers read their own
    api.call("payer", "GET", f"/v1/programs/{pid}/audit")  # refused: not a read
    page = api.call("admin", "GET", "/v1/access-log", params={"verify": "true"}).json()
    entries = page["entries"]
    assert [(e["key_id"], e["path"]) for e in entries] == [
        (api.key_ids[who], url.split("?")[0]) for who, url in reads
    ]
    first = entries[0]
    assert first["endpoint"] == "/v1/programs/{program_id}/compliance"
    assert (first["program_id"], first["as_of"], first["known_at"], first["status"]) == (
        pid,
        "2026-04-01",
        known_at,
        200,
    )
    assert entries[3]["program_id"] is None and entries[4]["status"] == 404
    assert page["chain"] == {
        "ok": True,
        "entries_checked": 5,
        "head_hash": entries[-1]["hash"],
        "first_bad_seq": None,
    }
    mine = api.call(
        "admin", "GET", "/v1/access-log", params={"key_id": api.key_ids["regulator"]}
    ).json()["entries"]
    assert [e["seq"] for e in mine] == [3, 4]
    by_program = api.call("admin", "GET", "/v1/access-log", params={"program_id": pid}).json()
    assert len(by_program["entries"]) == 3
    paged = api.call("admin", "GET", "/v1/access-log", params={"limit": 2, "after": 1}).json()
    assert [e["seq"] for e in paged["entries"]] == [2, 3] and paged["next_after"] == 3
    bad = api.call("admin", "GET", "/v1/access-log", params={"since": "yesterday"})
    assert bad.status_code == 422 and bad.headers["content-type"] == PROBLEM


def test_with_no_key_at_all_the_service_is_open(tracker: Tracker) -> None:
    app = create_app(tracker)
    store = install_auth(app, tracker)
    pid = uuid4()
    with TestClient(app) as client:
        for body in opened():
            assert client.post(f"/v1/programs/{pid}/events", json=body).status_code == 201
        assert client.get(f"/v1/programs/{pid}/compliance").status_code == 200
        assert store.access_log() == []
        # The first key closes it, at once, for everyone.
        store.add_key("admin")
        assert client.get(f"/v1/programs/{pid}/compliance").status_code == 401


def test_a_key_made_by_another_process_is_honoured_at_once(api: Api, tracker: Tracker) -> None:
    other = SecurityStore.of(tracker)  # as `wht keys add` would, beside the server
    _, token = other.add_key("regulator")
    response = api.client.get("/v1/digest", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    key = other.authenticate(token)
    assert key is not None
    other.revoke(key.key_id)
    response = api.client.get("/v1/digest", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401


def test_the_program_id_of_a_provider_read_need_not_be_a_uuid(api: Api) -> None:
    response = api.call("north", "GET", "/v1/programs/not-a-uuid/compliance")
    # The route's own validation answers, as it would without keys.
    assert response.status_code == 404 and response.headers["content-type"] == PROBLEM


def test_installing_auth_twice_guards_once(tracker: Tracker) -> None:
    app = create_app(tracker)
    store = install_auth(app, tracker)
    assert install_auth(app, tracker) is store
    _, payer = store.add_key("payer")
    with TestClient(app) as client:
        response = client.get("/v1/policies", headers={"Authorization": f"Bearer {payer}"})
        assert response.status_code == 200
    assert len(store.access_log()) == 1


def test_a_receipt_names_under_others_only_the_programs_its_caller_may_see(api: Api) -> None:
    # R13: a referral dated first on a physician referral id makes the program
    # already on it a repeat; the receipt says so to its own provider only.
    def refer(who: str, key: str, on: date) -> tuple[str, dict[str, Any]]:
        program_id = str(uuid4())
        response = api.call(
            who,
            "POST",
            f"/v1/programs/{program_id}/events",
            json=with_data(referred(on, referral_id=key), provider_id=PROVIDERS[who]),
        )
        assert response.status_code == 201, response.text
        return program_id, response.json()

    def admit(who: str, program_id: str, on: date) -> None:
        url = f"/v1/programs/{program_id}/events"
        assert api.call(who, "POST", url, json=admitted(on)).status_code == 201

    mine, _ = refer("north", "PR-SEEN", plus(REFERRED_ON, 3))
    admit("north", mine, plus(REFERRED_ON, 10))
    _, receipt = refer("north", "PR-SEEN", REFERRED_ON)
    assert [other["program_id"] for other in receipt["others"]] == [mine]
    assert {f["code"] for f in receipt["others"][0]["findings"]} == {
        "repeat_program_without_review"
    }
    assert "provider_id" not in receipt["others"][0]

    theirs, _ = refer("north", "PR-HIDDEN", plus(REFERRED_ON, 3))
    admit("north", theirs, plus(REFERRED_ON, 10))
    _, receipt = refer("south", "PR-HIDDEN", REFERRED_ON)
    assert "others" not in receipt
    assert theirs not in json.dumps(receipt)


def test_a_repeat_names_another_providers_program_by_no_id(api: Api) -> None:
    # Issue 23, item 2: a COV-1 finding reaches its own program's provider (its
    # compliance, receipts and alerts), who may not see the earlier program when
    # another provider holds it; that program is named by no id. One of the same
    # provider is still named by its id.
    def refer(who: str, key: str, on: date) -> tuple[str, list[dict[str, Any]]]:
        program_id = str(uuid4())
        receipts = []
        for body in (
            with_data(referred(on, referral_id=key), provider_id=PROVIDERS[who]),
            admitted(plus(on, 7)),
        ):
            response = api.call(who, "POST", f"/v1/programs/{program_id}/events", json=body)
            assert response.status_code == 201, response.text
            receipts.append(response.json())
        return program_id, receipts

    def repeat_message(who: str, program_id: str) -> tuple[str, str]:
        response = api.call(who, "GET", f"/v1/programs/{program_id}/compliance")
        assert response.status_code == 200, response.text
        (finding,) = [
            f for f in response.json()["findings"] if f["code"] == "repeat_program_without_review"
        ]
        return finding["message"], response.text

    theirs, _ = refer("south", "PR-ACROSS", REFERRED_ON)
    mine, receipts = refer("north", "PR-ACROSS", plus(REFERRED_ON, 3))
    message, answer = repeat_message("north", mine)
    assert "already had a program at another provider" in message
    assert theirs not in answer
    assert theirs not in json.dumps(receipts)
    assert theirs not in repeat_message("payer", mine)[0]  # the finding is one for all

    first, _ = refer("north", "PR-WITHIN", REFERRED_ON)
    second, _ = refer("north", "PR-WITHIN", plus(REFERRED_ON, 3))
    assert f"already had a program ({first})" in repeat_message("north", second)[0]
