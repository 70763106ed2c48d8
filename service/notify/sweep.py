"""The time-driven alerts (`due_soon`, `obligation_missed`, and `finding_added` for the
findings no event added): a sweep at each program's local midnight.

Nothing is recorded when a deadline passes, so these alerts come from the calendar,
not the event log: once the program's local date has moved past the last date swept,
the sweep asks for its obligations as of the new date (`ObligationsFor`) and stores
the alerts with that date in one transaction. An alert's delivery id names the
obligation (kind, clause, due date), so each obligation makes at most one `due_soon`
and one `obligation_missed` per subscription, however often it is swept.

A deadline that passes adds a finding that no event added (`reevaluation_overdue`, a
missed report): the sweep delivers, as `finding_added`, every finding the program's
compliance shows as of the new date and dated on or after the day the subscription was
made, under the delivery id that names the finding (`finding_delivery_id`). The follower
delivers the findings events add under the same ids, so each finding reaches a
subscription once, whoever comes first (docs/domain.md R13).

The obligations are those GET /v1/programs/{id}/due lists (`projections/due.py`):
dicts `{"kind", "clause", "due_on", "status", "violation_on"?}` with `status` "open"
or "missed"; `Sweep` takes another function of the same shape in tests.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from datetime import date, datetime
from datetime import time as clock_time
from typing import Any
from uuid import UUID

from domain.intake import stored_zone
from domain.program import format_instant
from service.application import Tracker
from service.notify.follower import alert_body, delivery_id, finding_delivery_id
from service.notify.store import Alert, AlertStore, Subscription
from service.readmodel.projection import provider_of

TIME_KINDS = frozenset({"due_soon", "obligation_missed"})
SWEPT_KINDS = TIME_KINDS | {"finding_added"}
Obligation = dict[str, Any]
# (tracker, program_id, as_of) -> the program's obligations as of that date.
ObligationsFor = Callable[[Tracker, UUID, date], list[Obligation]]
# (tracker, program_id, as_of) -> the program's findings as of that date, as JSON.
FindingsFor = Callable[[Tracker, UUID, date], Sequence[dict[str, Any]]]


def findings_for(tracker: Tracker, program_id: UUID, as_of: date) -> Sequence[dict[str, Any]]:
    """The program's findings as of `as_of`, as GET /v1/programs/{id}/compliance lists them."""
    assessment = tracker.view(program_id).assess(as_of)
    if assessment.findings_json is not None:
        return assessment.findings_json()
    return [finding.as_dict() for finding in assessment.findings]


def finding_alerts(
    subscriptions: list[Subscription],
    provider: str,
    program_id: str,
    findings: Sequence[dict[str, Any]],
    occurred_at: str,
) -> list[Alert]:
    """A `finding_added` for each finding dated on or after the day the subscription was
    made; the store keeps one per delivery id, so one already delivered is not again."""
    alerts: list[Alert] = []
    for s in subscriptions:
        if not s.hears("finding_added", provider):
            continue
        made_on = s.created_at[:10]
        for finding in findings:
            if str(finding["occurred_on"]) < made_on:
                continue
            d = finding_delivery_id(s.subscription_id, program_id, finding)
            body = alert_body(d, "finding_added", program_id, occurred_at, {"finding": finding})
            alerts.append(Alert(d, s.subscription_id, "finding_added", program_id, body))
    return alerts


def obligations_for(tracker: Tracker, program_id: UUID, as_of: date) -> list[Obligation]:
    """The program's obligations as of `as_of`, as GET /v1/programs/{id}/due lists them."""
    obligations: list[Obligation] = tracker.view(program_id).due(as_of).as_dict()["obligations"]
    return obligations


def time_alerts(
    subscriptions: list[Subscription],
    provider: str,
    program_id: str,
    obligations: list[Obligation],
    today: date,
    occurred_at: str,
) -> list[Alert]:
    """The alerts a program's obligations make on `today`: `obligation_missed` for each
    missed one, `due_soon` for each open one due within the subscription's lead days."""
    alerts: list[Alert] = []
    for obligation in obligations:
        due_on = date.fromisoformat(str(obligation["due_on"]))
        cause = (program_id, str(obligation["kind"]), str(obligation["clause"]), due_on.isoformat())
        for s in subscriptions:
            if obligation.get("status") == "missed":
                kind = "obligation_missed"
            elif obligation.get("status") == "open" and (due_on - today).days <= s.lead_days:
                kind = "due_soon"
            else:
                continue
            if not s.hears(kind, provider):
                continue
            d = delivery_id(s.subscription_id, kind, *cause)
            body = alert_body(d, kind, program_id, occurred_at, {"obligation": obligation})
            alerts.append(Alert(d, s.subscription_id, kind, program_id, body))
    return alerts


class Sweep:
    """Sweeps each program once per local date (see the module doc)."""

    def __init__(
        self,
        tracker: Tracker,
        store: AlertStore,
        obligations: ObligationsFor = obligations_for,
        findings: FindingsFor = findings_for,
    ) -> None:
        self.tracker = tracker
        self.store = store
        self.obligations = obligations
        self.findings = findings
        self._zones: dict[UUID, str] = {}

    def run(self) -> int:
        """Sweep every program whose local date moved on; returns how many were swept."""
        subscriptions = [s for s in self.store.subscriptions() if SWEPT_KINDS & set(s.kinds)]
        if not subscriptions:
            return 0
        swept = self.store.swept()
        done = 0
        # Now is the tracker's clock, as for everything it records: a test moves it.
        for program_id in self.tracker.index.program_ids(self.tracker.clock()):
            zone = stored_zone(self._zone(program_id))
            today = self.tracker.clock().astimezone(zone).date()
            if swept.get(str(program_id), "") >= today.isoformat():
                continue
            program = self.tracker.program(program_id)
            midnight = format_instant(datetime.combine(today, clock_time(0), tzinfo=zone))
            provider = provider_of(program)
            alerts: list[Alert] = []
            if any(TIME_KINDS & set(s.kinds) for s in subscriptions):
                alerts = time_alerts(
                    subscriptions,
                    provider,
                    str(program_id),
                    self.obligations(self.tracker, program_id, today),
                    today,
                    midnight,
                )
            if any("finding_added" in s.kinds for s in subscriptions):
                alerts += finding_alerts(
                    subscriptions,
                    provider,
                    str(program_id),
                    self.findings(self.tracker, program_id, today),
                    midnight,
                )
            self.store.record_sweep(
                alerts,
                str(program_id),
                today.isoformat(),
                format_instant(self.tracker.clock()),
                time.time(),
            )
            done += 1
        return done

    def _zone(self, program_id: UUID) -> str:
        if program_id not in self._zones:
            referral = self.tracker.program(program_id).referral
            zone = getattr(referral.data, "time_zone", None) if referral else None
            self._zones[program_id] = zone or "UTC"
        return self._zones[program_id]
