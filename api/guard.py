"""The ASGI middleware that guards every /v1 call (see `api.auth`): the key (401), the
route's roles (403), a provider's own programs (`api.ownership`), and the access log of
every recorded read, written before the answer leaves (no log entry, no answer: 503)."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs
from uuid import UUID

from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response
from starlette.routing import compile_path
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.ownership import own_programs_only
from api.problems import problem
from api.roles import Call, Refused, roles_for
from domain.errors import StoreUnavailable
from domain.events import CONTROL
from service.application import Tracker
from service.security import RECORDED_READERS, Access, ApiKey, Role, SecurityStore, program_owner

log = logging.getLogger("wht")


def unavailable() -> Response:
    return problem(
        503,
        "Store unavailable",
        "The event store cannot be reached just now; "
        "nothing was read or stored by this request. Retry shortly.",
        headers={"Retry-After": "5"},
    )


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
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        try:
            await self._loopback_only_when_open(scope)
        except Refused as refused:
            await refused.response(scope, receive, send)
            return
        if not scope["path"].startswith("/v1"):
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

    async def _loopback_only_when_open(self, scope: Scope) -> None:
        """With no API key, answer only requests addressed to a loopback name.

        An open service listens on loopback only, but a web page the user visits
        could point a name it controls at 127.0.0.1 (DNS rebinding) and read the
        programs through the user's browser: its requests carry that name in
        `Host`. Names in WHT_ALLOWED_HOSTS are admitted too.
        """
        host = _host_name(dict(scope.get("headers") or []).get(b"host", b"").decode("latin-1"))
        if is_loopback_name(host) or host in self._allowed_hosts():
            return
        if await self._db(self.store.has_keys):
            return
        raise Refused(
            problem(
                421,
                "Misdirected request",
                f"This service has no API key yet, so it answers only requests addressed to "
                f"a loopback name (localhost, 127.0.0.1, [::1]), not {host or 'no host'!r}. "
                "Create a key (`wht keys add`) to serve other names.",
            )
        )

    def _allowed_hosts(self) -> frozenset[str]:
        settings = getattr(self.fastapi.state, "settings", None)
        names = getattr(settings, "allowed_hosts", "") or ""
        return frozenset(name.strip().lower() for name in names.split(",") if name.strip())

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
        return await own_programs_only(call, receive, self._owner)

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
        values = {_printable(k): _printable(v[0]) for k, v in parse_qs(query).items()}
        if status == 422:  # refused parameters may hold anything: log their names only
            query = "&".join(sorted(values))
        access = Access(
            key_id=call.key.key_id,
            role=call.key.role.value,
            method=call.method,
            endpoint=call.template,
            path=_printable(scope["path"]),
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


def _printable(text: str) -> str:
    # The access log is stored text: no control characters (PostgreSQL cannot hold a NUL).
    return "".join("\ufffd" if char in CONTROL else char for char in text)


def _host_name(header: str) -> str:
    """The name of a Host header, without its port, lower case ('[::1]:8000' -> '::1')."""
    header = header.strip().lower()
    if header.startswith("["):
        return header[1 : header.find("]")] if "]" in header else header
    return header.rsplit(":", 1)[0] if header.count(":") == 1 else header


def is_loopback_name(name: str) -> bool:
    """localhost (and *.localhost), 127.0.0.0/8 and ::1."""
    if name == "localhost" or name.endswith(".localhost") or name == "::1":
        return True
    parts = name.split(".")
    return len(parts) == 4 and parts[0] == "127" and all(p.isdigit() for p in parts)
