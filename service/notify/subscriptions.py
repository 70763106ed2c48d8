"""The subscription use cases: make, list, read, delete, and a subscription's deliveries.

Who may see which subscription is the caller's business (`owner`): None sees all (an
admin), a provider id sees only subscriptions bound to it. Another's subscription
answers exactly as one that does not exist.
"""

from __future__ import annotations

import secrets
from typing import Any

from domain.errors import InvalidRequest, NotFound
from domain.program import format_instant
from service.application import Tracker
from service.notify.destinations import Destinations
from service.notify.store import KINDS, AlertStore, Subscription
from service.storage import store_errors

MAX_LEAD_DAYS = 60


class SubscriptionNotFound(NotFound):
    title = "Subscription not found"


class InvalidSubscription(InvalidRequest):
    title = "Invalid subscription"


def _check(
    url: str, kinds: list[str], secret: str, lead_days: int, destinations: Destinations
) -> None:
    errors: list[dict[str, Any]] = []
    for name, text in (("url", url), ("secret", secret), *(("kinds", k) for k in kinds)):
        if "\x00" in text:  # PostgreSQL text cannot hold it
            errors.append({"loc": ["body", name], "msg": "no NUL characters"})
    refusal = None if "\x00" in url else destinations.refusal(url, unresolved_ok=True)
    if refusal is not None:
        errors.append({"loc": ["body", "url"], "msg": refusal})
    unknown = [k for k in kinds if k not in KINDS]
    if not kinds or unknown:
        errors.append({"loc": ["body", "kinds"], "msg": f"one or more of {', '.join(KINDS)}"})
    if not 16 <= len(secret) <= 256:
        errors.append({"loc": ["body", "secret"], "msg": "16 to 256 characters"})
    if not 0 <= lead_days <= MAX_LEAD_DAYS:
        errors.append({"loc": ["body", "lead_days"], "msg": f"0 to {MAX_LEAD_DAYS} days"})
    if errors:
        raise InvalidSubscription(
            "The subscription is not valid: "
            + "; ".join(f"{e['loc'][-1]}: {e['msg']}" for e in errors),
            errors,
        )


class Subscriptions:
    """Subscriptions in the tracker's store (`AlertStore`)."""

    def __init__(
        self, tracker: Tracker, store: AlertStore, destinations: Destinations | None = None
    ) -> None:
        self.tracker = tracker
        self.store = store
        # Where alerts may go (`destinations`): https to public addresses, unless named.
        self.destinations = destinations if destinations is not None else Destinations()

    def create(
        self,
        *,
        url: str,
        kinds: list[str],
        secret: str,
        provider_id: str | None,
        lead_days: int = 3,
        created_by: str | None = None,
    ) -> Subscription:
        """A new subscription; it hears of events stored from now on."""
        _check(url, kinds, secret, lead_days, self.destinations)
        if provider_id is not None and "\x00" in provider_id:
            raise InvalidSubscription(
                "provider_id cannot hold a NUL character.",
                [{"loc": ["body", "provider_id"], "msg": "no NUL characters"}],
            )
        with store_errors():
            subscription = Subscription(
                subscription_id=f"s-{secrets.token_hex(8)}",
                url=url,
                kinds=tuple(k for k in KINDS if k in kinds),
                provider_id=provider_id,
                lead_days=lead_days,
                created_at=format_instant(self.tracker.clock()),
                created_by=created_by,
                from_position=self.tracker.recorder.max_notification_id() or 0,
            )
            self.store.add_subscription(subscription, secret)
        return subscription

    def visible(self, owner: str | None) -> list[Subscription]:
        """The live subscriptions the caller may see, oldest first."""
        with store_errors():
            found = self.store.subscriptions()
        return [s for s in found if owner is None or s.provider_id == owner]

    def get(self, subscription_id: str, owner: str | None) -> Subscription:
        with store_errors():
            found = (
                self.store.subscription(subscription_id[:100])
                if "\x00" not in subscription_id
                else None
            )
        if (
            found is None
            or found.deleted_at is not None
            or (owner is not None and found.provider_id != owner)
        ):
            raise SubscriptionNotFound(f"Subscription {subscription_id[:100]!r} is not known.")
        return found

    def delete(self, subscription_id: str, owner: str | None) -> None:
        """Stop a subscription: no new alerts, pending deliveries cancelled."""
        self.get(subscription_id, owner)
        with store_errors():
            self.store.delete_subscription(subscription_id, format_instant(self.tracker.clock()))

    def deliveries(self, subscription_id: str, owner: str | None) -> list[dict[str, Any]]:
        """The subscription's deliveries, newest first, each with its attempts."""
        self.get(subscription_id, owner)
        with store_errors():
            return self.store.deliveries(subscription_id)
