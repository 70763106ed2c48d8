"""Hostile input: nothing a client sends breaks the service (docs/security.md).

1. Schemathesis generates requests from the service's own OpenAPI document, fitting
   it (positive) and breaking it (negative), for every operation, each sent with a
   key of a role that may call it, so that the guard, the access log and the
   handlers beneath all see them. Every answer must be under 500; every 2xx and every
   documented answer must fit the document; every error must be problem+json.
2. `st run --checks all` (every check schemathesis has: status codes, content types,
   headers and bodies as declared, schema-valid requests accepted and invalid ones
   refused, an undeclared method answered 405 with `Allow`, ...) against a real
   `wht serve`, on SQLite and PostgreSQL, with tests/e2e/schemathesis.toml.
3. A table of crafted bodies: too big (413), too many events (422), too deep or too
   huge JSON, bad encodings and numbers (4xx), each problem+json with nothing stored.

WHT_FUZZ_EXAMPLES sets the examples per operation and mode (default 8);
WHT_FUZZ_RANDOM=1 draws new inputs each run instead of the same ones.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable

from api.app import create_app
from api.auth import install_auth
from service.application import Tracker
from service.security import SecurityStore
from tests.e2e.test_serve_process import serving
from tests.helpers import LATER, opened, referred, session

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    import schemathesis
    from schemathesis import checks
    from schemathesis.generation.modes import GenerationMode

PROBLEM = "application/problem+json"
EXAMPLES = int(os.environ.get("WHT_FUZZ_EXAMPLES", "8"))
RANDOM = os.environ.get("WHT_FUZZ_RANDOM") == "1"


@dataclass
class Service:
    tracker: Tracker
    store: SecurityStore
    client: TestClient
    tokens: dict[str, str]
    program_id: str
    calls: int = 0
    failures: list[str] = field(default_factory=list)

    def key_for(self, method: str, path: str) -> dict[str, str]:
        """A key of a role that may make the call (docs/security.md, the role table)."""
        if method == "POST":
            role = "provider"
        elif path == "/v1/access-log":
            role = "admin"
        elif path == "/v1/programs":
            role = "regulator"
        elif path.endswith(("/audit", "/integrity", "/bundle")) or path == "/v1/digest":
            role = "auditor"
        else:
            role = "payer"
        return {"Authorization": f"Bearer {self.tokens[role]}"}

    def stored(self) -> int:
        return int(self.tracker.recorder.max_notification_id() or 0)


@pytest.fixture
def service(tracker: Tracker) -> Iterator[Service]:
    app = create_app(tracker)
    store = install_auth(app, tracker)
    tokens = {
        role: store.add_key(role, "clinic-north" if role == "provider" else None)[1]
        for role in ("provider", "payer", "auditor", "regulator", "admin")
    }
    program_id = str(uuid4())
    with TestClient(app, raise_server_exceptions=False) as client:
        for body in opened():
            response = client.post(
                f"/v1/programs/{program_id}/events",
                json=body,
                headers={"Authorization": f"Bearer {tokens['provider']}"},
            )
            assert response.status_code == 201
        yield Service(tracker, store, client, tokens, program_id)


def content_type(response: Any) -> str:
    value = response.headers.get("content-type") or ""
    return str(value[0] if isinstance(value, list) else value).split(";")[0]


def is_problem(response: Any) -> str | None:
    """Why an error answer is not API.md's problem+json, or None if it is."""
    if content_type(response) != PROBLEM:
        return f"content-type {content_type(response)!r}"
    try:
        body = json.loads(response.content)
    except ValueError:
        return "body is not JSON"
    if not isinstance(body, dict) or not {"type", "title", "status", "detail"} <= body.keys():
        return "missing type/title/status/detail"
    if body["status"] != response.status_code:
        return f"status {body['status']} in a {response.status_code} answer"
    return None


def fuzz(service: Service, operation: Any, mode: GenerationMode, **fixed: Any) -> None:
    method, path = operation.method.upper(), operation.path

    @given(case=operation.as_strategy(generation_mode=mode, **fixed))
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=not RANDOM,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def run(case: Any) -> None:
        service.calls += 1
        response = case.call(headers=service.key_for(method, path))
        found: list[str] = []
        for check in (checks.not_a_server_error, checks.response_schema_conformance):
            try:
                case.validate_response(response, checks=[check])
            except BaseException as error:  # schemathesis raises a FailureGroup
                found.append(f"{check.__name__}: {str(error)[:400]}")
        if response.status_code >= 400 and (why := is_problem(response)):
            found.append(f"error answer is not problem+json: {why}")
        for what in found:
            service.failures.append(
                f"{mode.value} {method} {path} -> "
                f"{response.status_code}: {what}\n  {case.as_curl_command()}"
            )

    # Unsatisfiable: nothing about this operation can be got wrong (no parameters, no body).
    with contextlib.suppress(Unsatisfiable):
        run()


def test_schemathesis_finds_no_5xx_and_no_answer_that_breaks_the_schema(
    service: Service,
) -> None:
    schema = schemathesis.openapi.from_asgi("/openapi.json", service.client.app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 10
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            fuzz(service, operation, mode)
        if "{program_id}" in operation.path:  # and on a real program: 2xx bodies checked
            fuzz(
                service,
                operation,
                GenerationMode.POSITIVE,
                path_parameters={"program_id": service.program_id},
            )
    print(f"\nschemathesis: {service.calls} generated requests over {len(operations)} operations")
    assert service.calls >= len(operations) * EXAMPLES
    assert not service.failures, "\n".join(service.failures[:20])
    assert service.store.verify_access_log().ok


ST = str(Path(sys.executable).with_name("st"))
ST_CONFIG = Path(__file__).with_name("schemathesis.toml")


@pytest.mark.slow
def test_schemathesis_with_every_check_finds_nothing_against_a_real_server(
    store_url: str, tmp_path: Path
) -> None:
    with serving(store_url, tmp_path) as client:
        run = subprocess.run(
            [
                ST,
                "--config-file",
                str(ST_CONFIG),
                "run",
                f"{client.base_url}/openapi.json",
                "--checks",
                "all",
                "--max-examples",
                str(EXAMPLES),
                "--workers",
                "1",
                "--no-color",
                *([] if RANDOM else ["--seed", "15"]),
            ],
            capture_output=True,
            text=True,
            timeout=900,
            cwd=tmp_path,  # where schemathesis keeps its example database
        )
    assert run.returncode == 0, run.stdout[-8000:] + run.stderr[-2000:]
    assert "Tested:" in run.stdout, run.stdout[-2000:]


def deep(depth: int) -> bytes:
    return b'{"events": ' + b"[" * depth + b"]" * depth + b"}"


def event_body(**data: Any) -> dict[str, Any]:
    return {
        "event_id": str(uuid4()),
        "type": "SessionLogged",
        "occurred_on": "2026-03-10",
        "data": data,
    }


def batch(count: int, program_id: str) -> bytes:
    return json.dumps(
        {"events": [{"program_id": program_id, **session(LATER)} for _ in range(count)]}
    ).encode()


def chunked(data: bytes) -> Iterator[bytes]:
    for start in range(0, len(data), 64 * 1024):
        yield data[start : start + 64 * 1024]


Crafted = Callable[[str], tuple[str, Any, dict[str, str]]]
CRAFTED: dict[str, tuple[Crafted, set[int]]] = {
    "body over 1 MiB, declared": (lambda pid: ("/v1/events", b" " * (1024 * 1024 + 1), {}), {413}),
    "body over 1 MiB, streamed without a length": (
        lambda pid: ("/v1/events", chunked(b"[" * (1024 * 1024 + 10)), {}),
        {413},
    ),
    "single event over 1 MiB": (
        lambda pid: (
            f"/v1/programs/{pid}/events",
            json.dumps(event_body(notes="x" * (1024 * 1024))).encode(),
            {},
        ),
        {413},
    ),
    "batch of 1,001 events": (lambda pid: ("/v1/events", batch(1001, pid), {}), {422}),
    "JSON nested 100,000 deep": (lambda pid: ("/v1/events", deep(100_000), {}), {400, 422}),
    "JSON nested 1,000 deep inside an event": (
        lambda pid: (
            f"/v1/programs/{pid}/events",
            json.dumps(event_body())[:-2].encode() + b'"x": ' + b"[" * 1000 + b"]" * 1000 + b"}}",
            {},
        ),
        {400, 422},
    ),
    "an array of 349,001 numbers": (
        lambda pid: ("/v1/events", b'{"events": [' + b"0," * 349_000 + b"0]}", {}),
        {422},
    ),
    "100,000 keys in one object": (
        lambda pid: (
            f"/v1/programs/{pid}/events",
            json.dumps(event_body(**{f"k{i}": i for i in range(100_000)})).encode(),
            {},
        ),
        {413, 422},
    ),
    "a 5,000-digit number": (
        lambda pid: (
            f"/v1/programs/{pid}/events",
            json.dumps(event_body(hours=1))
            .encode()
            .replace(b'"hours": 1', b'"hours": ' + b"9" * 5000),
            {},
        ),
        {400, 422},
    ),
    "NaN and Infinity": (
        lambda pid: (
            f"/v1/programs/{pid}/events",
            json.dumps(event_body(hours=float("nan"), x=float("inf"))).encode(),
            {},
        ),
        {400, 422},
    ),
    "invalid UTF-8": (lambda pid: ("/v1/events", b'{"events": ["\xff\xfe"]}', {}), {400, 422}),
    "not JSON at all": (lambda pid: ("/v1/events", b"\x00\x01<xml/>", {}), {400, 422}),
    "JSON but a string": (lambda pid: ("/v1/events", b'"events"', {}), {422}),
    "events that are a number": (lambda pid: ("/v1/events", b'{"events": 7092919}', {}), {422}),
    "events that are an object": (
        lambda pid: ("/v1/events", b'{"events": {"program_id": "x"}}', {}),
        {422},
    ),
    "a text/plain body": (
        lambda pid: (
            f"/v1/programs/{pid}/events",
            json.dumps(event_body()).encode(),
            {"content-type": "text/plain"},
        ),
        {400, 415, 422},
    ),
    "a referral for a program id that is no UUID": (
        lambda pid: ("/v1/programs/..%2F..%2Fetc/events", json.dumps(referred()).encode(), {}),
        {404, 422},
    ),
}


@pytest.mark.parametrize("name", list(CRAFTED))
def test_a_crafted_hostile_body_gets_a_4xx_problem_and_stores_nothing(
    service: Service, name: str
) -> None:
    build, statuses = CRAFTED[name]
    url, content, headers = build(service.program_id)
    before = service.stored()
    response = service.client.post(
        url,
        content=content,
        headers={"content-type": "application/json", **headers, **service.key_for("POST", url)},
    )
    assert response.status_code in statuses, response.text[:500]
    assert is_problem(response) is None, response.text[:500]
    assert service.stored() == before
    # And the service is still well.
    check = service.client.get(
        f"/v1/programs/{service.program_id}/compliance",
        headers=service.key_for("GET", "/v1/programs/x/compliance"),
    )
    assert check.status_code == 200
