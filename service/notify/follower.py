"""The alert follower: the event-driven alerts (`finding_added`, `discharge_eligible`),
derived from the tracker's notification log in order.

Like the read model's runner, it reads the notifications after its own tracked
position (`TRACKING_NAME` in the library's tracking table), turns each event into the
alerts of the subscriptions that hear of it, and stores those alerts and the new
position in one transaction (`AlertStore.record_alerts`): the transactional outbox.
A crash before the commit stores neither, so the events are followed again; after it,
both. Delivery ids name their cause, so even an event followed twice makes no second
alert.

- `finding_added`: one alert per finding the event added: exactly the `findings` of
  the receipt its ingest answered with (`Tracker.ingest`, judged at the program's own
  dates, docs/domain.md R11), which the event index keeps beside the event, and its
  `others` (R13). The alert never disagrees with what the clinic was told. Its delivery
  id names the finding, not the event (`finding_delivery_id`): the sweep
  (`service.notify.sweep`) delivers the findings no event added (a deadline passing)
  under the same ids, so each finding reaches a subscription once.
- `discharge_eligible`: when the event turns the program discharge-eligible, judged as
  that receipt was (at `receipt_date`, as known at the event's record time).
"""

from __future__ import annotations

import json
import time
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.persistence import Notification, Tracking

from domain.program import Program, format_instant
from service.application import Tracker, receipt_date
from service.notify.store import TRACKING_NAME, Alert, AlertStore, Subscription
from service.readmodel.projection import provider_of

BATCH = 100  # notifications followed per transaction
EVENT_KINDS = frozenset({"finding_added", "discharge_eligible"})
PROGRAM_CACHE_SIZE = 1024
ALERTS = uuid5(NAMESPACE_URL, "wht/alerts")


def delivery_id(subscription_id: str, kind: str, *cause: str) -> str:
    """A stable id for one alert to one subscription: the same cause, the same id."""
    return str(uuid5(ALERTS, "|".join([subscription_id, kind, *cause])))


def finding_delivery_id(subscription_id: str, program_id: str, finding: dict[str, Any]) -> str:
    """The delivery id of one finding to one subscription: named by the finding (program,
    code, clause, severity, date), so that whoever delivers it first, the follower (an
    event added it) or the sweep (a deadline passed), delivers it once (R13)."""
    return delivery_id(
        subscription_id,
        "finding_added",
        program_id,
        str(finding["code"]),
        str(finding["clause"]),
        str(finding["severity"]),
        str(finding["occurred_on"]),
    )


def alert_body(delivery: str, kind: str, program_id: str, occurred_at: str, data: Any) -> str:
    """The JSON every attempt of a delivery POSTs (docs/reference/http.md)."""
    return json.dumps(
        {
            "delivery_id": delivery,
            "kind": kind,
            "program_id": program_id,
            "occurred_at": occurred_at,
            "data": data,
        },
        separators=(",", ":"),
        ensure_ascii=False,
    )


class AlertFollower:
    """Follows the notification log into the outbox (see the module doc)."""

    def __init__(self, tracker: Tracker, store: AlertStore) -> None:
        self.tracker = tracker
        self.store = store
        self._programs: OrderedDict[UUID, Program] = OrderedDict()

    def position(self) -> int:
        """The last notification id whose alerts are stored (0: none)."""
        return self.store.max_tracking_id(TRACKING_NAME) or 0

    def catch_up(self) -> int:
        """Follow every event stored now; returns how many were followed."""
        end = self.tracker.recorder.max_notification_id() or 0
        position, done = self.position(), 0
        while position < end:
            notifications = self.tracker.recorder.select_notifications(
                start=position, limit=BATCH, stop=end, inclusive_of_start=False
            )
            if not notifications:
                break
            subscriptions = self.store.subscriptions()
            try:
                alerts = [a for n in notifications for a in self.alerts_for(n, subscriptions)]
                now = time.time()
                self.store.record_alerts(
                    alerts,
                    Tracking(TRACKING_NAME, notifications[-1].id),
                    format_instant(self.tracker.clock()),
                    now,
                )
            except BaseException:
                self._programs.clear()
                raise
            position = notifications[-1].id
            done += len(notifications)
        return done

    def alerts_for(
        self, notification: Notification, subscriptions: Sequence[Subscription]
    ) -> list[Alert]:
        """The alerts one stored event makes for the subscriptions made before it."""
        listening = [
            s
            for s in subscriptions
            if s.from_position < notification.id and EVENT_KINDS.intersection(s.kinds)
        ]
        if not listening:
            return []
        event: Any = self.tracker.mapper.to_domain_event(notification)
        program = self._program(event)
        provider = provider_of(program)
        program_id = str(program.id)
        occurred_at = format_instant(program.modified_on)
        alerts: list[Alert] = []
        receipt = self._receipt(event.event_id)
        # The event's own findings, then those it added to other programs (R13), each
        # to the subscriptions that hear that program's provider.
        added = [(program_id, provider, receipt["findings"])]
        added.extend(
            (str(other["program_id"]), str(other.get("provider_id", "")), other["findings"])
            for other in receipt.get("others", ())
        )
        for about, of_provider, findings in added:
            hearing = [s for s in listening if s.hears("finding_added", of_provider)]
            for finding in findings if hearing else ():
                data = {"finding": finding}
                for s in hearing:
                    d = finding_delivery_id(s.subscription_id, about, finding)
                    body = alert_body(d, "finding_added", about, occurred_at, data)
                    alerts.append(Alert(d, s.subscription_id, "finding_added", about, body))
        hearing = [s for s in listening if s.hears("discharge_eligible", provider)]
        if hearing:
            became = self._became_eligible(program)
            if became is not None:
                for s in hearing:
                    d = delivery_id(s.subscription_id, "discharge_eligible", event.event_id)
                    body = alert_body(d, "discharge_eligible", program_id, occurred_at, became)
                    alerts.append(
                        Alert(d, s.subscription_id, "discharge_eligible", program_id, body)
                    )
        return alerts

    def _receipt(self, event_id: str) -> dict[str, Any]:
        row = self.tracker.index.find_event(event_id)
        if row is None:  # every stored event has its index row, in its own transaction
            raise LookupError(f"event {event_id} has no receipt in the event index")
        receipt: dict[str, Any] = json.loads(row.result)
        return receipt

    def _became_eligible(self, program: Program) -> dict[str, Any] | None:
        """`{"as_of", "discharge_reasons"}` when the program's last event made it
        discharge-eligible, judged as its receipt was; else None."""
        before = program.at_version(program.version - 1) if program.version > 1 else None
        fact = program.trail[-1]
        as_of = receipt_date(before, fact.occurred_on)
        known_at = program.modified_on
        after = self.tracker.judged(program, known_at).assess(as_of)
        if not after.discharge_eligible:
            return None
        if before is not None:
            was = self.tracker.judged(before, known_at).assess(as_of)
            if was.discharge_eligible:
                return None
        return {"as_of": as_of.isoformat(), "discharge_reasons": list(after.discharge_reasons)}

    def _program(self, event: Any) -> Program:
        # The program at the event's version: the cached one moved on by the event, or
        # read from the store at that version.
        program_id: UUID = event.originator_id
        version: int = event.originator_version
        cached = self._programs.pop(program_id, None)
        program: Program
        if version == 1:
            program = event.mutate(None)
        elif cached is not None and cached.version == version - 1:
            program = event.mutate(cached)
        else:
            program = self.tracker.repository.get(program_id, version=version)
        self._programs[program_id] = program
        while len(self._programs) > PROGRAM_CACHE_SIZE:
            self._programs.popitem(last=False)
        return program
