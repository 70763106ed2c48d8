"""Webhook subscriptions (docs/reference/http.md): admins for every program, providers
for their own. docs/alerts.md has the alert body and how to check its signature."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from api.deps import TrackerDep
from api.openapi import problem_responses
from api.problems import problem
from service.notify import AlertStore, Destinations, Subscriptions, open_alert_store
from service.notify.destinations import URL_PATTERN
from service.notify.store import KINDS
from service.notify.subscriptions import MAX_LEAD_DAYS
from service.security import ApiKey, Role

router = APIRouter(prefix="/v1/subscriptions", tags=["alerts"])


class SubscriptionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # What `Subscriptions.create` refuses (422) and a schema can state, stated here too.
    url: str = Field(
        max_length=2000,
        description="https URL the alerts are POSTed to (a public address), or http(s) to a "
        "host named in WHT_WEBHOOK_ALLOW_HOSTS",
        json_schema_extra={"pattern": URL_PATTERN},
    )
    kinds: list[str] = Field(
        max_length=4,
        description="finding_added, discharge_eligible, due_soon, obligation_missed",
        json_schema_extra={"minItems": 1, "items": {"type": "string", "enum": list(KINDS)}},
    )
    provider_id: str | None = Field(default=None, max_length=200)
    secret: str = Field(
        max_length=256,
        description="signs each alert (HMAC-SHA256); 16+ chars",
        json_schema_extra={"minLength": 16},
    )
    lead_days: int = Field(
        default=3,
        description="due_soon: days ahead of the due date",
        json_schema_extra={"minimum": 0, "maximum": MAX_LEAD_DAYS},
    )


def get_subscriptions(request: Request, tracker: TrackerDep) -> Subscriptions:
    store: AlertStore | None = getattr(request.app.state, "alert_store", None)
    if store is None:
        store = request.app.state.alert_store = open_alert_store(tracker)
    settings = getattr(request.app.state, "settings", None)
    allowed = getattr(settings, "webhook_allow_hosts", "") or ""
    return Subscriptions(tracker, store, Destinations.allowing(allowed))


SubscriptionsDep = Annotated[Subscriptions, Depends(get_subscriptions)]


def _key(request: Request) -> ApiKey | None:
    # Set by the guard once keys exist; in open mode there is none, and the caller is
    # treated as an admin (the service then listens on loopback only).
    key: ApiKey | None = getattr(request.state, "api_key", None)
    return key


def _owner(request: Request) -> str | None:
    """The provider whose subscriptions the caller may see; None for all."""
    key = _key(request)
    return key.provider_id if key is not None and key.role is Role.PROVIDER else None


SUBSCRIPTION_PROBLEMS = problem_responses(403, 404, 409, 422, 503)


@router.post(
    "", status_code=201, operation_id="create_subscription", responses=SUBSCRIPTION_PROBLEMS
)
def create_subscription(
    body: SubscriptionIn, request: Request, subscriptions: SubscriptionsDep
) -> Any:
    """Subscribe a URL to alerts; the secret is never shown again."""
    owner = _owner(request)
    key = _key(request)
    provider_id = body.provider_id
    if owner is not None:
        if provider_id not in (None, owner):
            return problem(
                403,
                "Forbidden",
                f"This key subscribes only to provider {owner!r}'s programs.",
            )
        provider_id = owner
    made = subscriptions.create(
        url=body.url,
        kinds=body.kinds,
        secret=body.secret,
        provider_id=provider_id,
        lead_days=body.lead_days,
        created_by=key.key_id if key is not None else None,
    )
    return JSONResponse(made.as_dict(), status_code=201)


@router.get("", operation_id="list_subscriptions", responses=SUBSCRIPTION_PROBLEMS)
def list_subscriptions(request: Request, subscriptions: SubscriptionsDep) -> dict[str, Any]:
    """The subscriptions the caller may see (a provider: its own), oldest first."""
    return {"subscriptions": [s.as_dict() for s in subscriptions.visible(_owner(request))]}


@router.get("/{subscription_id}", operation_id="get_subscription", responses=SUBSCRIPTION_PROBLEMS)
def get_subscription(
    subscription_id: str, request: Request, subscriptions: SubscriptionsDep
) -> dict[str, Any]:
    return subscriptions.get(subscription_id, _owner(request)).as_dict()


@router.delete(
    "/{subscription_id}",
    status_code=204,
    operation_id="delete_subscription",
    responses=SUBSCRIPTION_PROBLEMS,
)
def delete_subscription(
    subscription_id: str, request: Request, subscriptions: SubscriptionsDep
) -> Response:
    """Stop a subscription: no new alerts; pending deliveries are cancelled."""
    subscriptions.delete(subscription_id, _owner(request))
    return Response(status_code=204)


@router.get(
    "/{subscription_id}/deliveries",
    operation_id="list_deliveries",
    responses=SUBSCRIPTION_PROBLEMS,
)
def deliveries(
    subscription_id: str, request: Request, subscriptions: SubscriptionsDep
) -> dict[str, Any]:
    """Each delivery (newest first) with its status and every attempt: when, the
    receiver's status code or the error (an admin's key reads why a connection failed;
    others read only that it did, so that a URL cannot probe what answers where)."""
    found = subscriptions.deliveries(subscription_id, _owner(request))
    key = _key(request)
    detailed = key is None or key.role is Role.ADMIN
    return {
        "subscription_id": subscription_id,
        "deliveries": [
            {
                **{k: v for k, v in d.items() if k not in ("body", "attempts")},
                "attempts": [a if detailed else _undetailed(a) for a in d["attempts"]],
                "payload": json.loads(d["body"]),
            }
            for d in found
        ],
    }


def _undetailed(attempt: dict[str, Any]) -> dict[str, Any]:
    """An attempt as a non-admin reads it: the receiver's status code, and for an
    attempt that got none, only that it failed."""
    error = attempt.get("error")
    if error is None or (attempt.get("status_code") is not None and error.startswith("HTTP ")):
        return attempt
    return {**attempt, "error": "not delivered (an admin's key reads why)"}
