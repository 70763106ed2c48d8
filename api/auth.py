"""Who may call what: bearer API keys, roles per route, and the access log of reads.

`install_auth(app, tracker)` wraps the whole app in one ASGI middleware that,
for every /v1 call once any key exists: finds the key (401 without a valid
one), finds the route the call will reach and the roles it allows (403), keeps
a provider to its own programs (another provider's program answers exactly as
an unknown one: 404), and records every read by a payer, auditor or regulator
in the hash-chained access log before the answer leaves (no log entry, no
answer: 503). With no key at all the service runs open, and `wht serve` binds
it only to loopback (`check_serve_host`).

The roles are in `api.roles`, the middleware in `api.guard`, a provider's own
programs in `api.ownership`; the keys and the log themselves in `service.security`.
"""

from __future__ import annotations

import ipaddress
import logging
from typing import Any

from fastapi import FastAPI

from api.guard import Guard
from service.application import Tracker
from service.security import SecurityStore

log = logging.getLogger("wht")


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


PROBLEM_SCHEMA = {"$ref": "#/components/schemas/Problem"}


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
