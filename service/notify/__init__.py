"""Alerts by webhook (issue 14): subscriptions, the transactional outbox the event log
is followed into, the midnight sweep of obligations, and signed delivery with retries.
docs/alerts.md describes them for receivers."""

from __future__ import annotations

from service.notify.backends import open_alert_store
from service.notify.destinations import Destinations
from service.notify.runner import Notifier, notifier_lock
from service.notify.sender import SIGNATURE_HEADER, RetryPolicy, signature
from service.notify.store import KINDS, AlertStore, Subscription
from service.notify.subscriptions import (
    InvalidSubscription,
    SubscriptionNotFound,
    Subscriptions,
)
from service.notify.sweep import ObligationsFor, obligations_for

__all__ = [
    "KINDS",
    "SIGNATURE_HEADER",
    "AlertStore",
    "Destinations",
    "InvalidSubscription",
    "Notifier",
    "ObligationsFor",
    "RetryPolicy",
    "Subscription",
    "SubscriptionNotFound",
    "Subscriptions",
    "notifier_lock",
    "obligations_for",
    "open_alert_store",
    "signature",
]
