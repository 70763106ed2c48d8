"""Who may call what: bearer API keys, roles per route, and the access log of reads.

`install_auth(app, tracker)` wraps the whole app in one ASGI middleware that,
for every /v1 call once any key exists: finds the key (401 without a valid
one), finds the route the call will reach and the roles it allows (403), keeps
a provider to its own programs (another provider's program answers exactly as
an unknown one: 404), and records every read by a payer, auditor or regulator
in the hash-chained access log before the answer leaves (no log entry, no
answer: 503). With no key at all the service runs open, and `wht serve` binds
it only to loopback (`check_serve_host`).
"""

from __future__ import annotations

import ipaddress
import json
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs
from uuid import UUID

from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response
from starlette.routing import compile_path
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.limits import MAX_BODY_BYTES
from api.problems import problem
from domain.errors import StoreUnavailable
from service.application import Tracker
from service.security import (
    RECORDED_READERS,
    Access,
    ApiKey,
    Role,
    SecurityStore,
    program_owner,
)

log = logging.getLogger("wht")

P, PAY, AUD, REG, ADM = Role.PROVIDER, Role.PAYER, Role.AUDITOR, Role.REGULATOR, Role.ADMIN
PROGRAM_READERS = frozenset({P, PAY, AUD, REG})
PROGRAM = "/v1/programs/{program_id}"

# (method, route template) -> roles. A /v1 route missing here is refused to every
# role (403): a new endpoint is closed until someone decides who may call it.
ROUTE_ROLES: dict[tuple[str, str], frozenset[Role]] = {
    ("POST", f"{PROGRAM}/events"): frozenset({P}),
    ("POST", "/v1/events"): frozenset({P}),
    ("GET", f"{PROGRAM}/compliance"): PROGRAM_READERS,
    ("GET", f"{PROGRAM}/events"): PROGRAM_READERS,
    ("GET", f"{PROGRAM}/billing"): PROGRAM_READERS,
    ("GET", f"{PROGRAM}/audit"): frozenset({AUD}),
    ("GET", f"{PROGRAM}/integrity"): frozenset({AUD}),
    ("GET", f"{PROGRAM}/bundle"): frozenset({AUD}),
    ("GET", "/v1/digest"): frozenset({AUD, REG}),
    ("GET", "/v1/programs"): frozenset({REG}),
    ("GET", "/v1/policies"): frozenset(Role),
    ("GET", "/v1/policies/{policy_id}"): frozenset(Role),
    ("GET", "/v1/access-log"): frozenset({ADM}),
}


def roles_for(method: str, template: str) -> frozenset[Role]:
    """The roles that may call a route; every /v1/keys endpoint is the admin's."""
    if template == "/v1/keys" or template.startswith("/v1/keys/"):
        return frozenset({ADM})
    return ROUTE_ROLES.get(("GET" if method == "HEAD" else method, template), frozenset())


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_serve_host(host: str, tracker: Tracker) -> str | None:
    """Why `wht serve --host HOST` must not start, or None if it may."""
    if is_loopback(host) or SecurityStore.of(tracker).has_keys():
        return None
    return (
        f"refusing to serve on {host}: no API key exists, so the service would be open to "
        "anyone who can reach it, and it holds injured workers' health records. Create keys "
        "first (`wht keys add --role admin`, then `wht keys add --role provider --provider "
        "ID`, see `wht keys --help`), or serve on 127.0.0.1 only."
    )


OPEN_NOTICE = (
    "wht: no API key exists: the service is OPEN (no authentication) and must "
    "listen on loopback only. `wht keys add --role ROLE` closes it."
)


def install_auth(app: FastAPI, tracker: Tracker) -> SecurityStore:
    """Make every /v1 route need a key with the right role (see the module docstring).
    Calling it again on the same app changes nothing and returns the same store."""
    installed: SecurityStore | None = getattr(app.state, "auth_store", None)
    if installed is not None:
        return installed
    store = SecurityStore.of(tracker)
    app.state.security = app.state.auth_store = store
    app.add_middleware(Guard, store=store, tracker=tracker, fastapi=app)
    document_bearer_auth(app)
    if not store.has_keys():
        log.warning(OPEN_NOTICE)
    return store


PROBLEM_SCHEMA = {
    "type": "object",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
    },
}


def document_bearer_auth(app: FastAPI) -> None:
    """Say in the OpenAPI document that /v1 takes a bearer key, and may answer 401/403."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        schema = build()
        if "bearer" in schema.get("components", {}).get("securitySchemes", {}):
            return schema
        schema.setdefault("components", {}).setdefault("securitySchemes", {})["bearer"] = {
            "type": "http",
            "scheme": "bearer",
            "description": "An API key from `wht keys add` (none needed while no key exists).",
        }
        answers = {"401": "No valid API key", "403": "This key's role may not call this"}
        for path, operations in schema.get("paths", {}).items():
            if not path.startswith("/v1"):
                continue
            for operation in operations.values():
                operation["security"] = [{"bearer": []}, {}]
                for status, description in answers.items():
                    operation.setdefault("responses", {}).setdefault(
                        status,
                        {
                            "description": description,
                            "content": {"application/problem+json": {"schema": PROBLEM_SCHEMA}},
                        },
                    )
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


@dataclass
class Call:
    method: str
    template: str
    params: dict[str, Any]
    key: ApiKey


class Refused(Exception):
    def __init__(self, response: Response) -> None:
        self.response = response


def unavailable() -> Response:
    return problem(
        503,
        "Store unavailable",
        "The event store cannot be reached just now; "
        "nothing was read or stored by this request. Retry shortly.",
        headers={"Retry-After": "5"},
    )


def not_known(program_id: Any, write: bool) -> Response:
    # Word for word what the tracker says of a program that does not exist, so that a
    # provider cannot tell another provider's program from no program.
    detail = (
        f"Program {program_id} does not exist: its first event must be ProgramReferred."
        if write
        else f"Program {program_id} is not known."
    )
    return problem(404, "Program not found", detail)


class Guard:
    """The pure ASGI middleware that `install_auth` adds (outermost)."""

    def __init__(
        self, app: ASGIApp, store: SecurityStore, tracker: Tracker, fastapi: FastAPI
    ) -> None:
        self.app = app
        self.store = store
        self.tracker = tracker
        self.fastapi = fastapi
        self._routes: list[tuple[re.Pattern[str], str, set[str]]] | None = None

    async def _db(self, fn: Callable[..., Any], *args: Any) -> Any:
        try:
            return await run_in_threadpool(fn, *args)
        except StoreUnavailable as error:
            log.warning("store unavailable: %s", error)
            raise Refused(unavailable()) from None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith("/v1"):
            await self.app(scope, receive, send)
            return
        try:
            call, receive = await self._admit(scope, receive)
        except Refused as refused:
            await refused.response(scope, receive, send)
            return
        if call is None:  # open mode, or a path no route takes (the app answers 404/405)
            await self.app(scope, receive, send)
        elif call.key.role in RECORDED_READERS and call.method in ("GET", "HEAD"):
            await self._recorded(call, scope, receive, send)
        else:
            await self.app(scope, receive, send)

    async def _admit(self, scope: Scope, receive: Receive) -> tuple[Call | None, Receive]:
        if not await self._db(self.store.has_keys):
            return None, receive
        key = await self._key(scope)
        scope.setdefault("state", {})["api_key"] = key
        route = self._route(scope)
        if route is None:
            return None, receive
        template, params = route
        call = Call(scope["method"], template, params, key)
        if key.role not in roles_for(call.method, template):
            raise Refused(
                problem(
                    403,
                    "Forbidden",
                    f"A {key.role.value} key may not call {call.method} {template}.",
                )
            )
        if key.role is Role.PROVIDER:
            receive = await self._own_programs_only(call, scope, receive)
        return call, receive

    async def _key(self, scope: Scope) -> ApiKey:
        header = dict(scope.get("headers") or []).get(b"authorization", b"").decode("latin-1")
        scheme, _, token = header.strip().partition(" ")
        challenge = {"WWW-Authenticate": 'Bearer realm="wht"'}
        if scheme.lower() != "bearer" or not token.strip():
            raise Refused(
                problem(
                    401,
                    "API key required",
                    "Send an API key as "
                    "`Authorization: Bearer KEY` (an admin creates keys with "
                    "`wht keys add`).",
                    headers=challenge,
                )
            )
        key: ApiKey | None = await self._db(self.store.authenticate, token.strip())
        if key is None:
            raise Refused(
                problem(
                    401,
                    "Unknown or revoked API key",
                    "This API key is not known or has been revoked.",
                    headers=challenge,
                )
            )
        return key

    def _route(self, scope: Scope) -> tuple[str, dict[str, Any]] | None:
        """The route template a call will reach, and its path parameters; None when no
        route takes this method and path (the app then answers 404 or 405)."""
        if self._routes is None:
            # From the app's OpenAPI document: public, and the same templates clients see.
            paths = self.fastapi.openapi().get("paths", {})
            routes = [(compile_path(t)[0], t, {m.upper() for m in ops}) for t, ops in paths.items()]
            routes.sort(key=lambda r: r[1].count("{"))  # literal segments win over parameters
            self._routes = routes
        method = "GET" if scope["method"] == "HEAD" else scope["method"]
        for regex, template, methods in self._routes:
            found = regex.match(scope["path"])
            if found and method in methods:
                return template, found.groupdict()
        return None

    async def _owner(self, program_id: UUID) -> str | None:
        owner: str | None = await self._db(program_owner, self.tracker, program_id)
        return owner

    async def _own_programs_only(self, call: Call, scope: Scope, receive: Receive) -> Receive:
        provider = call.key.provider_id
        raw = call.params.get("program_id")
        write = call.method == "POST"
        pid = _uuid(raw)
        if pid is not None and await self._owner(pid) not in (None, provider):
            raise Refused(not_known(raw, write))
        if not write:
            return receive
        body, receive = await _read_body(receive)
        items = _event_items(call.template, raw, body)
        unknown: list[int] = []
        owners: dict[UUID, str | None] = {}  # a batch may name one program a thousand times
        for index, (item_pid, item) in enumerate(items):
            claimed = (
                item.get("data", {}).get("provider_id")
                if isinstance(item.get("data"), dict)
                else None
            )
            if (
                item.get("type") == "ProgramReferred"
                and isinstance(claimed, str)
                and (claimed != provider)
            ):
                raise Refused(
                    problem(
                        403,
                        "Forbidden",
                        f"This key refers programs only to "
                        f"provider {provider!r}, not {claimed[:100]!r}.",
                    )
                )
            if call.template != "/v1/events" or item_pid is None:
                continue
            if item_pid not in owners:
                owners[item_pid] = await self._owner(item_pid)
            if owners[item_pid] not in (None, provider):
                unknown.append(index)
        if unknown:
            # Worded as the tracker words a batch naming programs that do not exist.
            said = {i: str(not_known(items[i][0], True).body, "utf-8") for i in unknown}
            details = {i: json.loads(text)["detail"] for i, text in said.items()}
            raise Refused(
                problem(
                    422,
                    "Batch rejected",
                    f"{len(unknown)} of {len(items)} events were refused; nothing was stored.",
                    items=[
                        {
                            "index": i,
                            "status": 404,
                            "title": "Program not found",
                            "detail": details[i],
                        }
                        for i in unknown
                    ],
                    errors=[{"loc": ["body", "events", i], "msg": details[i]} for i in unknown],
                )
            )
        return receive

    async def _recorded(self, call: Call, scope: Scope, receive: Receive, send: Send) -> None:
        """Run the read, record it, then send it: a read nobody logged is never answered."""
        messages: list[Message] = []
        status = 500

        async def hold(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            messages.append(message)

        await self.app(scope, receive, hold)
        query = scope.get("query_string", b"").decode("latin-1")
        values = {k: v[0] for k, v in parse_qs(query).items()}
        access = Access(
            key_id=call.key.key_id,
            role=call.key.role.value,
            method=call.method,
            endpoint=call.template,
            path=scope["path"],
            status=status,
            program_id=call.params.get("program_id") or values.get("program_id"),
            as_of=values.get("as_of"),
            known_at=values.get("known_at"),
            query=query[:2000],
        )
        try:
            await self._db(self.store.record_access, access)
        except Refused as refused:
            await refused.response(scope, receive, send)
            return
        for message in messages:
            await send(message)


def _uuid(value: Any) -> UUID | None:
    try:
        return UUID(value) if isinstance(value, str) else None
    except ValueError:
        return None


Item = tuple[UUID | None, dict[str, Any]]


def _event_items(template: str, program_id: Any, body: Any) -> list[Item]:
    """The events a write carries, each with its program (None where it is not a UUID).
    A body that is not even shaped like events is left to the app to refuse (4xx)."""
    if template == "/v1/events":
        events = body.get("events") if isinstance(body, dict) else None
        if not isinstance(events, list):
            return []
        return [(_uuid(e.get("program_id")), e) for e in events if isinstance(e, dict)]
    return [(_uuid(program_id), body)] if isinstance(body, dict) else []


async def _read_body(receive: Receive) -> tuple[Any, Receive]:
    """Read the whole body (refusing over 1 MiB as the size limit would), parse it if it is
    JSON, and give the app a `receive` that replays it."""
    chunks: list[bytes] = []
    size, more = 0, True
    while more:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise Refused(
                problem(
                    413,
                    "Request too large",
                    f"The body is over {MAX_BODY_BYTES} "
                    "bytes; send at most 1,000 events per batch and keep each "
                    "request under 1 MiB.",
                )
            )
        chunks.append(chunk)
        more = bool(message.get("more_body", False))
    data = b"".join(chunks)
    try:
        body = json.loads(data)
    except (ValueError, RecursionError):
        body = None
    replayed = False

    async def replay() -> Message:
        nonlocal replayed
        if not replayed:
            replayed = True
            return {"type": "http.request", "body": data, "more_body": False}
        return await receive()

    return body, replay
