"""The time-driven alerts (`due_soon`, `obligation_missed`): a sweep at each program's
local midnight.

Nothing is recorded when a deadline passes, so these alerts come from the calendar,
not the event log: once the program's local date has moved past the last date swept,
the sweep asks for its obligations as of the new date (`ObligationsFor`) and stores
the alerts with that date in one transaction. An alert's delivery id names the
obligation (kind, clause, due date), so each obligation makes at most one `due_soon`
and one `obligation_missed` per subscription, however often it is swept.

The obligations are those GET /v1/programs/{id}/due lists (`projections/due.py`):
dicts `{"kind", "clause", "due_on", "status", "violation_on"?}` with `status` "open"
or "missed"; `Sweep` takes another function of the same shape in tests.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import date, datetime
from datetime import time as clock_time
from typing import Any
from uuid import UUID

from domain.intake import stored_zone
from domain.program import format_instant
from service.application import Tracker
from service.notify.follower import alert_body, delivery_id
from service.notify.store import Alert, AlertStore, Subscription
from service.readmodel.projection import provider_of

TIME_KINDS = frozenset({"due_soon", "obligation_missed"})
Obligation = dict[str, Any]
# (tracker, program_id, as_of) -> the program's obligations as of that date.
ObligationsFor = Callable[[Tracker, UUID, date], list[Obligation]]


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
        self, tracker: Tracker, store: AlertStore, obligations: ObligationsFor = obligations_for
    ) -> None:
        self.tracker = tracker
        self.store = store
        self.obligations = obligations
        self._zones: dict[UUID, str] = {}

    def run(self) -> int:
        """Sweep every program whose local date moved on; returns how many were swept."""
        subscriptions = [s for s in self.store.subscriptions() if TIME_KINDS & set(s.kinds)]
        if not subscriptions:
            return 0
        swept = self.store.swept()
        done = 0
        for program_id in self.tracker.index.program_ids(self.tracker.clock()):
            zone = stored_zone(self._zone(program_id))
            today = datetime.now(zone).date()
            if swept.get(str(program_id), "") >= today.isoformat():
                continue
            program = self.tracker.program(program_id)
            midnight = datetime.combine(today, clock_time(0), tzinfo=zone)
            alerts = time_alerts(
                subscriptions,
                provider_of(program),
                str(program_id),
                self.obligations(self.tracker, program_id, today),
                today,
                format_instant(midnight),
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
