"""Who may call what: the roles each /v1 route allows, a call as the guard sees it, and
the refusal that answers a call in the app's stead."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from starlette.responses import Response

from service.security import ApiKey, Role

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
    ("GET", f"{PROGRAM}/due"): PROGRAM_READERS,
    ("GET", f"{PROGRAM}/audit"): frozenset({AUD}),
    ("GET", f"{PROGRAM}/integrity"): frozenset({AUD}),
    ("GET", f"{PROGRAM}/bundle"): frozenset({AUD}),
    ("GET", "/v1/digest"): frozenset({AUD, REG}),
    ("GET", "/v1/programs"): frozenset({REG}),
    # Names and claims are left out for a regulator; a provider sees its own programs.
    ("GET", "/v1/worklist"): PROGRAM_READERS,
    ("GET", "/v1/policies"): frozenset(Role),
    ("GET", "/v1/policies/{policy_id}"): frozenset(Role),
    ("GET", "/v1/access-log"): frozenset({ADM}),
    # Webhooks: an admin for every program, a provider for its own (api/routers/subscriptions.py).
    ("POST", "/v1/subscriptions"): frozenset({P, ADM}),
    ("GET", "/v1/subscriptions"): frozenset({P, ADM}),
    ("GET", "/v1/subscriptions/{subscription_id}"): frozenset({P, ADM}),
    ("DELETE", "/v1/subscriptions/{subscription_id}"): frozenset({P, ADM}),
    ("GET", "/v1/subscriptions/{subscription_id}/deliveries"): frozenset({P, ADM}),
}


def roles_for(method: str, template: str) -> frozenset[Role]:
    """The roles that may call a route; every /v1/keys endpoint is the admin's."""
    if template == "/v1/keys" or template.startswith("/v1/keys/"):
        return frozenset({ADM})
    return ROUTE_ROLES.get(("GET" if method == "HEAD" else method, template), frozenset())


@dataclass
class Call:
    method: str
    template: str
    params: dict[str, Any]
    key: ApiKey


class Refused(Exception):
    def __init__(self, response: Response) -> None:
        self.response = response
