"""What the service refuses for a reason a JSON schema can state, its OpenAPI document
states (issue 23, item 9), on both stores.

Schemathesis, with its default configuration, sends requests the document allows and
counts each refusal as a defect. Each row below is such a request: the service
refuses it (a 4xx problem), and the document's own schema for that field, parameter
or body must refuse it too (validated with `jsonschema_rs`, not read by eye).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import quote
from uuid import uuid4

import jsonschema_rs
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from service.application import Tracker
from tests.helpers import ADMITTED_ON, opened, plus, tardiness

PROBLEM = "application/problem+json"
SUBSCRIPTION = {"url": "https://alerts.example.com/hook", "kinds": ["finding_added"]}
SECRET = "s" * 20


@pytest.fixture
def client(tracker: Tracker) -> Iterator[TestClient]:
    # No key yet: the service answers loopback callers, as an admin.
    with TestClient(create_app(tracker), base_url="http://127.0.0.1") as test_client:
        yield test_client


@pytest.fixture
def document(client: TestClient) -> dict[str, Any]:
    answer = client.get("/openapi.json")
    assert answer.status_code == 200
    doc: dict[str, Any] = answer.json()
    return doc


def component(document: dict[str, Any], name: str, field: str) -> dict[str, Any]:
    schema: dict[str, Any] = document["components"]["schemas"][name]["properties"][field]
    return schema


def parameter(document: dict[str, Any], path: str, name: str) -> dict[str, Any]:
    (found,) = [p for p in document["paths"][path]["get"]["parameters"] if p["name"] == name]
    schema: dict[str, Any] = found["schema"]
    return schema


def allows(schema: dict[str, Any], value: Any) -> bool:
    return bool(jsonschema_rs.validator_for(schema).is_valid(value))


BODIES = [
    ("url", ""),
    ("url", " https://alerts.example.com/hook"),
    ("url", "ftp://alerts.example.com/hook"),
    ("kinds", []),
    ("kinds", ["finding_removed"]),
    ("secret", "too short"),
    ("lead_days", 61),
    ("lead_days", -1),
]


@pytest.mark.parametrize(("field", "value"), BODIES)
def test_a_subscription_refused_for_a_field_is_refused_by_its_schema(
    client: TestClient, document: dict[str, Any], field: str, value: Any
) -> None:
    body = {**SUBSCRIPTION, "secret": SECRET, field: value}
    answer = client.post("/v1/subscriptions", json=body)
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"].startswith(PROBLEM)
    assert not allows(component(document, "SubscriptionIn", field), value)
    # The row's other fields are fine: the same body with a good value is taken.
    good = client.post("/v1/subscriptions", json={**SUBSCRIPTION, "secret": SECRET})
    assert good.status_code == 201, good.text


def test_tardiness_under_a_minute_is_refused_by_its_schema(
    client: TestClient, document: dict[str, Any]
) -> None:
    program_id = str(uuid4())
    for body in opened():
        assert client.post(f"/v1/programs/{program_id}/events", json=body).status_code == 201
    late = tardiness(plus(ADMITTED_ON, 1), minutes=0)
    refused = client.post(f"/v1/programs/{program_id}/events", json=late)
    assert refused.status_code == 422, refused.text
    schema = component(document, "TardinessRecorded", "minutes_late")
    assert not allows(schema, 0)
    assert allows(schema, 1)


QUERIES = [
    ("/v1/programs", "cursor", "not a cursor!"),
    ("/v1/worklist", "cursor", "not a cursor!"),
    ("/v1/programs", "finding", "Not A Code"),
]


@pytest.mark.parametrize(("path", "name", "value"), QUERIES)
def test_a_query_refused_for_its_form_is_refused_by_its_schema(
    client: TestClient, document: dict[str, Any], path: str, name: str, value: str
) -> None:
    answer = client.get(path, params={name: value})
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"].startswith(PROBLEM)
    assert not allows(parameter(document, path, name), value)


@pytest.mark.parametrize("policy_id", ["\x01\x02", "optum 481", "../optum-481"])
def test_a_policy_id_no_pack_can_have_is_refused_by_its_schema(
    client: TestClient, document: dict[str, Any], policy_id: str
) -> None:
    answer = client.get(f"/v1/policies/{quote(policy_id, safe='')}")
    assert 400 <= answer.status_code < 500, answer.text
    assert answer.headers["content-type"].startswith(PROBLEM)
    assert not allows(parameter(document, "/v1/policies/{policy_id}", "policy_id"), policy_id)
    for pack in client.get("/v1/policies").json():
        assert allows(parameter(document, "/v1/policies/{policy_id}", "policy_id"), pack["id"])
