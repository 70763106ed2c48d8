"""The HTTP contract of API.md, over FastAPI's TestClient, on both stores.

Status codes, problem+json errors, the ingest receipts, the read endpoints,
batches and one scenario per demo program.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import uuid4

import httpx
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from service.application import Tracker
from service.demo import load_demo
from tests.helpers import (
    ADMITTED_ON,
    LATER,
    REFERRED_ON,
    UNLICENSED,
    Body,
    absence,
    admitted,
    discharged,
    event,
    opened,
    plus,
    referred,
    session,
    tardiness,
    weekdays,
    with_data,
)

PROBLEM = "application/problem+json"
RECEIPT_KEYS = {"program_id", "event_id", "version", "recorded_at", "findings"}
FINDING_KEYS = {"code", "clause", "severity", "occurred_on", "message"}
COMPLIANCE_FIELDS = {
    "program_id": str,
    "status": str,
    "policy": str,
    "version": int,
    "as_of": str,
    "known_at": str,
    "admitted_on": (str, type(None)),
    "discharged_on": (str, type(None)),
    "weeks_used": int,
    "days_attended": int,
    "total_hours": (int, float),
    "reimbursable_hours": (int, float),
    "unexcused_absences": int,
    "excused_absences": int,
    "tardy_days": int,
    "absence_equivalents": int,
    "discharge_eligible": bool,
    "discharge_reasons": list,
    "findings": list,
}
TRAIL_FIELDS = {"version", "event_id", "type", "occurred_on", "recorded_at", "data", "hash"}
DAY2 = plus(ADMITTED_ON, 1)
DAY3 = plus(ADMITTED_ON, 2)


@pytest.fixture
def client(tracker: Tracker) -> Iterator[TestClient]:
    # Server errors come back as responses, so a 500 fails the status assertions.
    with TestClient(create_app(tracker), raise_server_exceptions=False) as test_client:
        yield test_client


def post(client: TestClient, program_id: str, body: Body) -> httpx.Response:
    return client.post(f"/v1/programs/{program_id}/events", json=body)


def start(client: TestClient, bodies: list[Body] | None = None) -> str:
    """A new program, its events posted one by one (default: referred, admitted, evaluated)."""
    program_id = str(uuid4())
    for body in opened() if bodies is None else bodies:
        response = post(client, program_id, body)
        assert response.status_code == 201, response.text
    return program_id


def compliance(client: TestClient, program_id: str, **params: str) -> dict[str, Any]:
    response = client.get(f"/v1/programs/{program_id}/compliance", params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def version(client: TestClient, program_id: str) -> int:
    return int(compliance(client, program_id)["version"])


def problem(response: httpx.Response, status: int) -> dict[str, Any]:
    """Assert an RFC 9457 problem of `status`; return its body."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    body: dict[str, Any] = response.json()
    assert {"type", "title", "status", "detail"} <= set(body)
    assert body["status"] == status and body["title"] and body["detail"]
    return body


def validation_problem(response: httpx.Response) -> list[list[Any]]:
    """Assert a 422 problem with located errors; return the error locations."""
    body = problem(response, 422)
    assert body["errors"], body
    assert all(set(e) >= {"loc", "msg"} and e["msg"] for e in body["errors"])
    return [e["loc"] for e in body["errors"]]


def is_instant(text: str) -> bool:
    parsed = datetime.fromisoformat(text)
    return parsed.tzinfo is not None


# ---- 422: not a valid event ----


def _data(**changes: Any) -> Callable[[Body], Body]:
    return lambda body: with_data(body, **changes)


INVALID: dict[str, tuple[Callable[[Body], Body], list[Any]]] = {
    "unknown top-level field": (lambda b: {**b, "colour": "red"}, ["body", "colour"]),
    "client-set recorded_at": (
        lambda b: {**b, "recorded_at": "2026-03-09T10:00:00Z"},
        ["body", "recorded_at"],
    ),
    "unknown data field": (_data(colour="red"), ["body", "data", "colour"]),
    "unknown nested field": (
        _data(provider={"name": "X", "npi": "123"}),
        ["body", "data", "provider", "npi"],
    ),
    "unknown event type": (lambda b: {**b, "type": "SessionLoged"}, ["body", "type"]),
    "hours 0": (_data(hours=0), ["body", "data", "hours"]),
    "hours 24.5": (_data(hours=24.5), ["body", "data", "hours"]),
    "hours 8.333": (_data(hours=8.333), ["body", "data", "hours"]),
    "hours negative": (_data(hours=-1), ["body", "data", "hours"]),
    "hours missing": (
        lambda b: {**b, "data": {k: v for k, v in b["data"].items() if k != "hours"}},
        ["body", "data", "hours"],
    ),
    "hours not a number": (_data(hours=True), ["body", "data", "hours"]),
    "ancillary minutes negative": (
        _data(ancillary_minutes={"97110": -5}),
        ["body", "data", "ancillary_minutes", "97110"],
    ),
    "date not YYYY-MM-DD": (lambda b: {**b, "occurred_on": "2026-3-9"}, ["body", "occurred_on"]),
    "date as a number": (lambda b: {**b, "occurred_on": 20260309}, ["body", "occurred_on"]),
    "event_id not a UUID": (lambda b: {**b, "event_id": "abc-123"}, ["body", "event_id"]),
    "expected_version negative": (
        lambda b: {**b, "expected_version": -1},
        ["body", "expected_version"],
    ),
    "data not an object": (lambda b: {**b, "data": [1, 2]}, ["body", "data"]),
    "text too long": (_data(activities=["x" * 600]), ["body", "data", "activities", 0]),
}


@pytest.mark.parametrize("case", list(INVALID))
def test_an_invalid_event_is_a_422_problem_naming_the_field_and_stores_nothing(
    client: TestClient, case: str
) -> None:
    program_id = start(client)
    spoil, loc = INVALID[case]

    locs = validation_problem(post(client, program_id, spoil(session(ADMITTED_ON))))

    assert any(found[: len(loc)] == loc for found in locs), locs
    assert version(client, program_id) == 3


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("claim.body_region", "toe"),
        ("referral.source", "neighbour"),
        ("claim.compensable_injury_reported", "maybe"),
    ],
)
def test_a_referral_with_a_value_outside_its_enumeration_is_422(
    client: TestClient, field: str, value: str
) -> None:
    body = referred()
    group, name = field.split(".")
    body["data"][group][name] = value
    program_id = str(uuid4())

    locs = validation_problem(post(client, program_id, body))

    assert ["body", "data", group, name] in locs
    problem(client.get(f"/v1/programs/{program_id}/compliance"), 404)


def test_a_discharge_with_an_unknown_reason_is_422(client: TestClient) -> None:
    program_id = start(client)

    locs = validation_problem(post(client, program_id, discharged(DAY2, "bored")))

    assert ["body", "data", "reason"] in locs


def test_malformed_json_is_a_422_problem(client: TestClient) -> None:
    program_id = start(client)

    response = client.post(
        f"/v1/programs/{program_id}/events",
        content=b'{"event_id": ',
        headers={"content-type": "application/json"},
    )

    validation_problem(response)
    assert version(client, program_id) == 3


def test_a_non_finite_measure_is_a_422_problem(client: TestClient) -> None:
    program_id = start(client, [referred(), admitted()])
    body = json.dumps(
        event(
            "InitialEvaluationDocumented",
            ADMITTED_ON,
            {"evaluator": {"name": "Dana Ruiz"}, "measures": {"grip_kg": 1}},
        )
    )

    response = client.post(
        f"/v1/programs/{program_id}/events",
        content=body.replace('"grip_kg": 1', '"grip_kg": NaN'),
        headers={"content-type": "application/json"},
    )

    assert ["body", "data", "measures", "grip_kg"] in validation_problem(response)


def test_a_program_id_that_is_not_a_uuid_is_422_on_ingest(client: TestClient) -> None:
    locs = validation_problem(post(client, "not-a-uuid", referred()))

    assert ["path", "program_id"] in locs


def test_a_future_date_is_a_422_problem(client: TestClient) -> None:
    program_id = start(client)
    future = plus(datetime.now().date(), 3)

    locs = validation_problem(post(client, program_id, session(future)))

    assert ["body", "occurred_on"] in locs
    assert version(client, program_id) == 3


@pytest.mark.parametrize(
    ("params", "loc"),
    [
        ({"as_of": "2026-13-01"}, ["query", "as_of"]),
        ({"as_of": "tomorrow"}, ["query", "as_of"]),
        ({"known_at": "yesterday"}, ["query", "known_at"]),
        ({"known_at": "0001-01-01T00:00:00+05:00"}, ["query", "known_at"]),
    ],
)
def test_a_bad_as_of_or_known_at_is_a_422_problem(
    client: TestClient, params: dict[str, str], loc: list[str]
) -> None:
    program_id = start(client)

    locs = validation_problem(client.get(f"/v1/programs/{program_id}/compliance", params=params))

    assert loc in locs


def test_known_at_at_the_edges_of_the_calendar_is_answered_never_a_500(
    client: TestClient,
) -> None:
    program_id = start(client)
    url = f"/v1/programs/{program_id}/compliance"

    latest = client.get(url, params={"known_at": "9999-12-31T23:59:59Z"})
    earliest = client.get(url, params={"known_at": "0001-01-01T00:00:00Z"})

    assert latest.status_code == 200 and latest.json()["version"] == 3
    problem(earliest, 404)


# ---- 404: unknown program ----


def test_an_event_for_an_unknown_program_is_404(client: TestClient) -> None:
    program_id = str(uuid4())

    problem(post(client, program_id, session(ADMITTED_ON)), 404)

    problem(client.get(f"/v1/programs/{program_id}/compliance"), 404)


@pytest.mark.parametrize("read", ["compliance", "events", "billing"])
def test_reading_an_unknown_program_is_404(client: TestClient, read: str) -> None:
    problem(client.get(f"/v1/programs/{uuid4()}/{read}"), 404)
    problem(client.get(f"/v1/programs/not-a-uuid/{read}"), 404)


def test_compliance_known_at_before_the_program_existed_is_404(client: TestClient) -> None:
    program_id = str(uuid4())
    receipt = post(client, program_id, referred()).json()
    recorded = datetime.fromisoformat(receipt["recorded_at"])

    before = recorded - timedelta(microseconds=1)
    response = client.get(
        f"/v1/programs/{program_id}/compliance", params={"known_at": before.isoformat()}
    )

    problem(response, 404)
    at = compliance(client, program_id, known_at=receipt["recorded_at"])
    assert at["version"] == 1


# ---- 409: conflicts ----


@pytest.mark.parametrize(
    "second",
    [lambda: referred(), lambda: admitted(DAY2), lambda: discharged(DAY3, "plateau")],
    ids=["referral", "admission", "discharge"],
)
def test_a_second_referral_admission_or_discharge_is_409(
    client: TestClient, second: Callable[[], Body]
) -> None:
    program_id = start(client, [*opened(), discharged(DAY2)])

    problem(post(client, program_id, second()), 409)

    assert version(client, program_id) == 4


def test_a_stale_expected_version_is_409_and_stores_nothing(client: TestClient) -> None:
    program_id = start(client)
    body = event("SessionLogged", ADMITTED_ON, session(ADMITTED_ON)["data"], expected_version=2)

    details = problem(post(client, program_id, body), 409)

    assert details["current_version"] == 3
    assert version(client, program_id) == 3


def test_the_same_event_id_with_a_different_body_is_409(client: TestClient) -> None:
    program_id = start(client)
    body = session(ADMITTED_ON, 6)
    post(client, program_id, body)

    problem(post(client, program_id, with_data(body, hours=7)), 409)

    assert compliance(client, program_id, as_of=LATER.isoformat())["total_hours"] == 6


# ---- 201 and 200 ----


def test_a_new_event_answers_201_with_its_receipt(client: TestClient) -> None:
    program_id = str(uuid4())
    body = referred()

    response = post(client, program_id, body)

    assert response.status_code == 201
    assert response.headers["content-type"].startswith("application/json")
    receipt = response.json()
    assert set(receipt) == RECEIPT_KEYS
    assert receipt["program_id"] == program_id
    assert receipt["event_id"] == body["event_id"]
    assert receipt["version"] == 1
    assert is_instant(receipt["recorded_at"])
    assert all(set(f) == FINDING_KEYS for f in receipt["findings"])


def test_a_receipt_lists_only_the_findings_this_event_added(client: TestClient) -> None:
    program_id = start(client)

    first = post(client, program_id, session(ADMITTED_ON, 6, provider=UNLICENSED)).json()
    second = post(client, program_id, session(DAY2, 6, provider=UNLICENSED)).json()
    third = post(client, program_id, session(DAY3, 6)).json()

    def unlicensed(r):
        return [f["occurred_on"] for f in r["findings"] if f["code"] == "unlicensed_provider"]

    assert unlicensed(first) == [ADMITTED_ON.isoformat()]
    assert unlicensed(second) == [DAY2.isoformat()]
    assert unlicensed(third) == []
    assert (
        next(f for f in first["findings"] if f["code"] == "unlicensed_provider")["clause"] == "PQ-1"
    )


def test_a_repeat_of_the_same_event_answers_200_with_the_identical_body(
    client: TestClient,
) -> None:
    program_id = start(client)
    body = session(ADMITTED_ON, 6, provider=UNLICENSED)
    first = post(client, program_id, body)

    again = post(client, program_id, body)

    assert (first.status_code, again.status_code) == (201, 200)
    assert again.content == first.content
    assert version(client, program_id) == 4


# ---- reads ----


def test_compliance_has_every_field_api_md_lists(client: TestClient) -> None:
    program_id = start(client)

    body = compliance(client, program_id)

    for name, kind in COMPLIANCE_FIELDS.items():
        assert name in body, name
        assert isinstance(body[name], kind), (name, body[name])
    assert body["program_id"] == program_id
    assert is_instant(body["known_at"])
    assert all(set(f) == FINDING_KEYS for f in body["findings"])


def test_compliance_figures_follow_the_events_and_as_of(client: TestClient) -> None:
    program_id = start(
        client,
        [
            *opened(),
            session(ADMITTED_ON, 6),
            session(DAY2, 9),
            session(DAY3, 2.5),
            absence(plus(ADMITTED_ON, 3)),
            absence(plus(ADMITTED_ON, 4), excused=True),
            tardiness(DAY2, 10),
            tardiness(DAY2, 25),
        ],
    )

    before_admission = compliance(client, program_id, as_of=REFERRED_ON.isoformat())
    second_day = compliance(client, program_id, as_of=DAY2.isoformat())
    later = compliance(client, program_id, as_of=LATER.isoformat())

    assert (
        before_admission["status"],
        before_admission["admitted_on"],
        before_admission["weeks_used"],
        before_admission["days_attended"],
    ) == ("referred", None, 0, 0)
    assert (
        second_day["status"],
        second_day["weeks_used"],
        second_day["days_attended"],
        second_day["total_hours"],
        second_day["reimbursable_hours"],
    ) == ("admitted", 1, 2, 15, 14)
    assert second_day["as_of"] == DAY2.isoformat()
    assert {
        k: later[k]
        for k in (
            "days_attended",
            "total_hours",
            "reimbursable_hours",
            "unexcused_absences",
            "excused_absences",
            "tardy_days",
            "absence_equivalents",
            "weeks_used",
        )
    } == {
        "days_attended": 3,
        "total_hours": 17.5,
        "reimbursable_hours": 16.5,
        "unexcused_absences": 1,
        "excused_absences": 1,
        "tardy_days": 1,
        "absence_equivalents": 1,
        "weeks_used": 17,
    }
    assert later["discharge_eligible"] and "coverage_exhausted" in later["discharge_reasons"]
    assert not second_day["discharge_eligible"]
    assert "daily_hours_over_cap" in {f["code"] for f in later["findings"]}


def test_compliance_known_at_shows_what_was_known_then(client: TestClient) -> None:
    program_id = str(uuid4())
    receipts = [post(client, program_id, b).json() for b in opened()]
    post(client, program_id, session(ADMITTED_ON, 6))

    then = compliance(
        client, program_id, known_at=receipts[-1]["recorded_at"], as_of=LATER.isoformat()
    )
    now = compliance(client, program_id, as_of=LATER.isoformat())

    assert (then["version"], then["days_attended"]) == (3, 0)
    assert (now["version"], now["days_attended"]) == (4, 1)


def test_the_events_trail_has_every_field_in_record_order(client: TestClient) -> None:
    bodies = [*opened(), session(ADMITTED_ON, 6), tardiness(DAY2, 12)]
    program_id = str(uuid4())
    receipts = [post(client, program_id, b).json() for b in bodies]

    response = client.get(f"/v1/programs/{program_id}/events")

    assert response.status_code == 200
    trail = response.json()
    assert all(set(e) >= TRAIL_FIELDS for e in trail)
    assert [e["version"] for e in trail] == [1, 2, 3, 4, 5]
    assert [(e["event_id"], e["type"], e["occurred_on"]) for e in trail] == [
        (b["event_id"], b["type"], b["occurred_on"]) for b in bodies
    ]
    assert [e["recorded_at"] for e in trail] == [r["recorded_at"] for r in receipts]
    assert trail[3]["data"] == bodies[3]["data"]
    assert trail[4]["data"] == {"minutes_late": 12}
    assert all(re.fullmatch(r"[0-9a-f]{64}", e["hash"]) for e in trail)
    assert len({e["hash"] for e in trail}) == 5
    assert [e.get("prev_hash", b["hash"]) for e, b in zip(trail[1:], trail, strict=False)] == [
        e["hash"] for e in trail[:-1]
    ]
    known = client.get(
        f"/v1/programs/{program_id}/events", params={"known_at": receipts[2]["recorded_at"]}
    ).json()
    assert [e["version"] for e in known] == [1, 2, 3]


def test_billing_lines_follow_cpt_units_per_day(client: TestClient) -> None:
    days = weekdays(ADMITTED_ON, 5)
    hours = [8.25, 2.5, 2.52, 1.5, 3.5]
    program_id = start(
        client, [*opened(), *(session(d, h) for d, h in zip(days, hours, strict=True))]
    )

    response = client.get(f"/v1/programs/{program_id}/billing", params={"as_of": LATER.isoformat()})

    assert response.status_code == 200
    lines = {day["date"]: (day["hours"], day["lines"]) for day in response.json()}
    initial = {"code": "97545", "units": 1}
    # Each session's 20 minutes of 97110 and 15 of 97530 bill one 15-minute unit each
    # beside 97545 (R19, COD-2: 8 to 22 minutes are one unit); the 1.5-hour day bills
    # nothing, so neither do its minutes.
    ancillary = [{"code": "97110", "units": 1}, {"code": "97530", "units": 1}]
    assert lines == {
        days[0].isoformat(): (8, [initial, {"code": "97546", "units": 6}, *ancillary]),
        days[1].isoformat(): (2.5, [initial, *ancillary]),
        days[2].isoformat(): (2.52, [initial, {"code": "97546", "units": 1}, *ancillary]),
        days[4].isoformat(): (3.5, [initial, {"code": "97546", "units": 1}, *ancillary]),
    }


# ---- policies ----


def test_the_policy_packs_are_listed_with_their_default(client: TestClient) -> None:
    response = client.get("/v1/policies")

    assert response.status_code == 200
    packs = {p["id"]: p for p in response.json()}
    assert packs["optum-481"]["default"] is True
    assert sum(p["default"] for p in packs.values()) == 1
    assert packs["optum-481"]["effective_periods"] == [
        {"from": "2008-12-11", "to": "2018-04-25"},
        {"from": "2021-04-22", "to": None},
    ]


def test_one_policy_pack_shows_its_numbers_and_clauses(client: TestClient) -> None:
    response = client.get("/v1/policies/optum-481")

    assert response.status_code == 200
    pack = response.json()
    limits = {k: Decimal(str(v)) for k, v in pack["limits"].items()}
    assert limits == {
        "max_hours_per_day": 8,
        "max_days_per_week": 5,
        "max_weeks": 8,
        "max_unexcused_absences": 3,
        "tardy_days_per_absence": 5,
    }
    assert {"REF-3", "ADM-5", "SEL-2", "TS-e", "DIS-5a", "COV-1", "COV-2", "COD-1", "COD-2"} <= set(
        pack["clauses"]
    )
    assert "ankle_foot" in pack["excluded_regions"]


def test_an_unknown_policy_pack_is_404(client: TestClient) -> None:
    problem(client.get("/v1/policies/acme-999"), 404)


# ---- batches ----


def post_batch(client: TestClient, items: list[tuple[str, Body]]) -> httpx.Response:
    return client.post(
        "/v1/events", json={"events": [{"program_id": pid, **body} for pid, body in items]}
    )


def test_a_batch_answers_201_with_one_result_per_item_in_order(client: TestClient) -> None:
    first, second = str(uuid4()), str(uuid4())
    items = [(first, b) for b in opened()] + [(second, b) for b in opened()]
    items.append((first, session(ADMITTED_ON)))

    response = post_batch(client, items)

    assert response.status_code == 201
    results = response.json()["results"]
    assert [(r["program_id"], r["event_id"]) for r in results] == [
        (pid, b["event_id"]) for pid, b in items
    ]
    assert [r["version"] for r in results] == [1, 2, 3, 1, 2, 3, 4]
    assert all(set(r) >= RECEIPT_KEYS for r in results)
    assert version(client, first) == 4 and version(client, second) == 3


def test_a_batch_repeat_answers_the_original_results(client: TestClient) -> None:
    program_id = str(uuid4())
    items = [(program_id, b) for b in opened()]
    first = post_batch(client, items).json()["results"]

    again = post_batch(client, items)

    assert again.status_code == 201
    results = again.json()["results"]
    assert [r["status"] for r in results] == [200, 200, 200]
    assert [{k: r[k] for k in RECEIPT_KEYS} for r in results] == [
        {k: r[k] for k in RECEIPT_KEYS} for r in first
    ]


@pytest.mark.parametrize(
    ("spoil", "status", "item_status"),
    [
        (lambda pid, known: (pid, session(ADMITTED_ON, 24.5)), 422, 422),
        (lambda pid, known: (pid, {**session(ADMITTED_ON), "colour": "red"}), 422, 422),
        # The batch is 422 (the item is not a valid event); the item says why: 404.
        (lambda pid, known: (str(uuid4()), session(ADMITTED_ON)), 422, 404),
        (lambda pid, known: (known, admitted(DAY2)), 409, 409),
        (
            lambda pid, known: (
                known,
                event(
                    "SessionLogged", ADMITTED_ON, session(ADMITTED_ON)["data"], expected_version=1
                ),
            ),
            409,
            409,
        ),
    ],
    ids=["bad-hours", "unknown-field", "unknown-program", "second-admission", "stale-version"],
)
def test_a_batch_with_one_failing_item_stores_nothing_and_names_it_by_index(
    client: TestClient,
    spoil: Callable[[str, str], tuple[str, Body]],
    status: int,
    item_status: int,
) -> None:
    known = start(client)
    fresh = str(uuid4())
    items = [(fresh, b) for b in opened()] + [(known, session(ADMITTED_ON))]
    items.insert(2, spoil(fresh, known))

    details = problem(post_batch(client, items), status)

    assert [item["index"] for item in details["items"]] == [2]
    assert details["items"][0]["status"] == item_status
    assert all(e["loc"][:3] == ["body", "events", 2] for e in details["errors"])
    problem(client.get(f"/v1/programs/{fresh}/compliance"), 404)
    assert version(client, known) == 3


def test_a_batch_lists_every_failing_item(client: TestClient) -> None:
    known = start(client)
    items = [(known, session(ADMITTED_ON, 0)), (known, session(DAY2)), (known, session(DAY3, 30))]

    details = problem(post_batch(client, items), 422)

    assert [item["index"] for item in details["items"]] == [0, 2]
    assert version(client, known) == 3


def test_a_batch_of_more_than_1000_events_is_422_and_stores_nothing(client: TestClient) -> None:
    program_id = str(uuid4())
    items = [(program_id, referred())] + [
        (program_id, session(plus(ADMITTED_ON, n % 50), 1)) for n in range(1000)
    ]

    validation_problem(post_batch(client, items))

    problem(client.get(f"/v1/programs/{program_id}/compliance"), 404)


@pytest.mark.parametrize("payload", [{"events": []}, {"events": [], "extra": 1}, {}, []])
def test_an_empty_or_shapeless_batch_is_422(client: TestClient, payload: Any) -> None:
    validation_problem(client.post("/v1/events", json=payload))


# ---- the demo programs, end to end ----

DEMO_AS_OF = "2026-06-30"


@pytest.fixture
def demo(tracker: Tracker, client: TestClient) -> dict[str, dict[str, Any]]:
    """Load the four demo programs; each one's compliance as read over HTTP."""
    loaded = list(load_demo(tracker))
    return {
        name: compliance(client, str(program_id), as_of=DEMO_AS_OF)
        for name, program_id, _ in loaded
    }


def codes(figures: dict[str, Any], severity: str | None = None) -> set[tuple[str, str]]:
    return {
        (f["code"], f["clause"])
        for f in figures["findings"]
        if severity is None or f["severity"] == severity
    }


def test_the_compliant_demo_program_has_no_violation(demo: dict[str, dict[str, Any]]) -> None:
    figures = demo["compliant"]

    assert codes(figures, "violation") == set()
    assert figures["status"] == "discharged"
    assert figures["reimbursable_hours"] == figures["total_hours"] > 0


def test_the_tardy_demo_program_is_non_compliant_and_discharged(
    demo: dict[str, dict[str, Any]],
) -> None:
    figures = demo["tardiness-non-compliance"]

    assert ("non_compliance", "DIS-5a") in codes(figures, "violation")
    assert figures["status"] == "discharged"
    assert figures["absence_equivalents"] > 3


def test_the_over_cap_demo_program_has_days_over_the_cap_and_less_reimbursable(
    demo: dict[str, dict[str, Any]],
) -> None:
    figures = demo["over-daily-cap"]

    assert ("daily_hours_over_cap", "COV-2") in codes(figures, "violation")
    assert figures["reimbursable_hours"] < figures["total_hours"]


def test_the_excluded_region_demo_program_is_not_covered(
    demo: dict[str, dict[str, Any]],
) -> None:
    figures = demo["excluded-region"]

    assert ("region_not_covered", "SEL-2") in codes(figures, "violation")


def test_loading_the_demo_twice_stores_nothing_new(
    tracker: Tracker, client: TestClient, demo: dict[str, dict[str, Any]]
) -> None:
    again = {
        name: compliance(client, str(program_id), as_of=DEMO_AS_OF)
        for name, program_id, _ in load_demo(tracker)
    }

    strip = lambda f: {k: v for k, v in f.items() if k != "known_at"}  # noqa: E731
    assert {n: strip(f) for n, f in again.items()} == {n: strip(f) for n, f in demo.items()}
