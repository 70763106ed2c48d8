"""Where alerts live: subscriptions, the outbox, each delivery attempt and the sweep's
dates, in the tracker's own database (SQLite or PostgreSQL, the same SQL), beside the
library's tracking record of the alert follower.

The store is the library's `TrackingRecorder` plus these tables, so that the follower
writes the alerts an event causes and its tracking position in one transaction
(`record_alerts`): after a crash it resumes after the last event whose alerts were
stored, and no alert is lost or made twice. Secrets and alert bodies are sealed with the
tracker's cipher when WHT_CIPHER_KEY is set (`service.persistence.sealed.Sealing`).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from eventsourcing.persistence import Tracking, TrackingRecorder

from service.persistence.sealed import Sealing

KINDS = ("finding_added", "discharge_eligible", "due_soon", "obligation_missed")
# The follower's row in the library's tracking table (the read model's row is "wht").
TRACKING_NAME = "wht.alerts"
PENDING, DELIVERED, FAILED, CANCELLED = "pending", "delivered", "failed", "cancelled"


@dataclass(frozen=True)
class Subscription:
    """A webhook: where to POST which kinds of alert, for one provider's programs or all.
    `from_position` is the last event stored when it was made: it hears of later ones."""

    subscription_id: str
    url: str
    kinds: tuple[str, ...]
    provider_id: str | None
    lead_days: int
    created_at: str
    created_by: str | None
    from_position: int
    deleted_at: str | None = None

    def hears(self, kind: str, provider_id: str) -> bool:
        return kind in self.kinds and self.provider_id in (None, provider_id)

    def as_dict(self) -> dict[str, Any]:
        """What the API shows: never the secret."""
        return {
            "subscription_id": self.subscription_id,
            "url": self.url,
            "kinds": list(self.kinds),
            "provider_id": self.provider_id,
            "lead_days": self.lead_days,
            "created_at": self.created_at,
            "active": self.deleted_at is None,
            "deleted_at": self.deleted_at,
        }


@dataclass(frozen=True)
class Alert:
    """One outbox row to be: `body` is the exact JSON every attempt POSTs."""

    delivery_id: str
    subscription_id: str
    kind: str
    program_id: str
    body: str


@dataclass(frozen=True)
class Due:
    """A pending delivery whose next attempt is due, with where and how to send it."""

    delivery_id: str
    url: str
    secret: str
    body: str
    attempts: int
    created_epoch: float


SUBSCRIPTION_COLUMNS = (
    "subscription_id, url, kinds, provider_id, lead_days, created_at, created_by, "
    "from_position, deleted_at"
)


def table_statements(sqlite: bool) -> list[str]:
    real = "REAL" if sqlite else "DOUBLE PRECISION"
    big = "INTEGER" if sqlite else "BIGINT"
    return [
        "CREATE TABLE IF NOT EXISTS wht_subscriptions (subscription_id TEXT PRIMARY KEY, "
        "url TEXT NOT NULL, kinds TEXT NOT NULL, provider_id TEXT, secret TEXT NOT NULL, "
        "lead_days INTEGER NOT NULL, created_at TEXT NOT NULL, created_by TEXT, "
        f"from_position {big} NOT NULL, deleted_at TEXT)",
        "CREATE TABLE IF NOT EXISTS wht_alert_outbox (delivery_id TEXT PRIMARY KEY, "
        "subscription_id TEXT NOT NULL, kind TEXT NOT NULL, program_id TEXT NOT NULL, "
        f"body TEXT NOT NULL, created_at TEXT NOT NULL, created_epoch {real} NOT NULL, "
        f"status TEXT NOT NULL, attempts INTEGER NOT NULL, next_attempt {real} NOT NULL, "
        "delivered_at TEXT)",
        "CREATE INDEX IF NOT EXISTS wht_alert_outbox_due "
        "ON wht_alert_outbox (status, next_attempt)",
        "CREATE INDEX IF NOT EXISTS wht_alert_outbox_subscription "
        "ON wht_alert_outbox (subscription_id, created_epoch)",
        "CREATE TABLE IF NOT EXISTS wht_alert_attempts (delivery_id TEXT NOT NULL, "
        "attempt INTEGER NOT NULL, at TEXT NOT NULL, status_code INTEGER, error TEXT, "
        "PRIMARY KEY (delivery_id, attempt))",
        "CREATE TABLE IF NOT EXISTS wht_alert_sweep (program_id TEXT PRIMARY KEY, "
        "swept_on TEXT NOT NULL)",
    ]


class AlertStore(TrackingRecorder):
    """The alert tables' queries, for both stores (`?` placeholders; PostgreSQL's `%s`)."""

    sqlite = True
    sealing: Sealing = Sealing()
    datastore: Any

    def _insert_tracking(self, curs: Any, tracking: Tracking) -> None:
        # The backend's own (the library's SQLite and PostgreSQL tracking recorders).
        raise NotImplementedError

    @contextmanager
    def _tx(self, commit: bool) -> Iterator[Any]:
        with self.datastore.transaction(commit=commit) as curs:
            yield curs

    def _sql(self, sql: str) -> str:
        return sql if self.sqlite else sql.replace("?", "%s")

    def _rows(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        with self._tx(commit=False) as curs:
            curs.execute(self._sql(sql), tuple(params))
            return list(curs.fetchall())

    # ---- subscriptions ----

    def add_subscription(self, subscription: Subscription, secret: str) -> None:
        with self._tx(commit=True) as curs:
            curs.execute(
                self._sql(
                    f"INSERT INTO wht_subscriptions ({SUBSCRIPTION_COLUMNS}, secret) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                ),
                (
                    subscription.subscription_id,
                    subscription.url,
                    ",".join(subscription.kinds),
                    subscription.provider_id,
                    subscription.lead_days,
                    subscription.created_at,
                    subscription.created_by,
                    subscription.from_position,
                    None,
                    self.sealing.seal(secret),
                ),
            )

    @staticmethod
    def _subscription(row: Any) -> Subscription:
        return Subscription(
            row["subscription_id"],
            row["url"],
            tuple(k for k in row["kinds"].split(",") if k),
            row["provider_id"],
            int(row["lead_days"]),
            row["created_at"],
            row["created_by"],
            int(row["from_position"]),
            row["deleted_at"],
        )

    def subscriptions(self, *, active_only: bool = True) -> list[Subscription]:
        """Every subscription, oldest first (only those not deleted, by default)."""
        where = "WHERE deleted_at IS NULL " if active_only else ""
        rows = self._rows(
            f"SELECT {SUBSCRIPTION_COLUMNS} FROM wht_subscriptions {where}"
            "ORDER BY created_at, subscription_id"
        )
        return [self._subscription(r) for r in rows]

    def subscription(self, subscription_id: str) -> Subscription | None:
        rows = self._rows(
            f"SELECT {SUBSCRIPTION_COLUMNS} FROM wht_subscriptions WHERE subscription_id = ?",
            (subscription_id,),
        )
        return self._subscription(rows[0]) if rows else None

    def delete_subscription(self, subscription_id: str, at: str) -> None:
        """Stop it: no new alerts, and its pending deliveries are cancelled."""
        with self._tx(commit=True) as curs:
            curs.execute(
                self._sql(
                    "UPDATE wht_subscriptions SET deleted_at = ? "
                    "WHERE subscription_id = ? AND deleted_at IS NULL"
                ),
                (at, subscription_id),
            )
            curs.execute(
                self._sql(
                    "UPDATE wht_alert_outbox SET status = ? WHERE subscription_id = ? "
                    "AND status = ?"
                ),
                (CANCELLED, subscription_id, PENDING),
            )

    # ---- the outbox ----

    def _insert_alerts(self, curs: Any, alerts: Sequence[Alert], at: str, epoch: float) -> None:
        # A delivery id names its cause, so storing one again changes nothing.
        for alert in alerts:
            curs.execute(
                self._sql(
                    "INSERT INTO wht_alert_outbox (delivery_id, subscription_id, kind, "
                    "program_id, body, created_at, created_epoch, status, attempts, "
                    "next_attempt) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0, ?) "
                    "ON CONFLICT (delivery_id) DO NOTHING"
                ),
                (
                    alert.delivery_id,
                    alert.subscription_id,
                    alert.kind,
                    alert.program_id,
                    self.sealing.seal(alert.body),
                    at,
                    epoch,
                    PENDING,
                    epoch,
                ),
            )

    def record_alerts(
        self, alerts: Sequence[Alert], tracking: Tracking, at: str, epoch: float
    ) -> None:
        """Store the alerts of events up to `tracking` and that position, in one
        transaction (the library refuses a position already recorded)."""
        with self._tx(commit=True) as curs:
            self._insert_alerts(curs, alerts, at, epoch)
            self._insert_tracking(curs, tracking)

    def record_sweep(
        self, alerts: Sequence[Alert], program_id: str, swept_on: str, at: str, epoch: float
    ) -> None:
        """Store a program's time-driven alerts and the local date swept, in one
        transaction."""
        with self._tx(commit=True) as curs:
            self._insert_alerts(curs, alerts, at, epoch)
            curs.execute(
                self._sql(
                    "INSERT INTO wht_alert_sweep (program_id, swept_on) VALUES (?, ?) "
                    "ON CONFLICT (program_id) DO UPDATE SET swept_on = excluded.swept_on"
                ),
                (program_id, swept_on),
            )

    def swept(self) -> dict[str, str]:
        """The last local date each program was swept on."""
        rows = self._rows("SELECT program_id, swept_on FROM wht_alert_sweep")
        return {r["program_id"]: r["swept_on"] for r in rows}

    def due(self, epoch: float, limit: int = 50) -> list[Due]:
        """Pending deliveries of live subscriptions whose next attempt is due."""
        rows = self._rows(
            "SELECT o.delivery_id, s.url, s.secret, o.body, o.attempts, o.created_epoch "
            "FROM wht_alert_outbox o JOIN wht_subscriptions s "
            "ON s.subscription_id = o.subscription_id "
            "WHERE o.status = ? AND o.next_attempt <= ? AND s.deleted_at IS NULL "
            "ORDER BY o.next_attempt, o.created_epoch, o.delivery_id LIMIT ?",
            (PENDING, epoch, limit),
        )
        return [
            Due(
                r["delivery_id"],
                r["url"],
                self.sealing.unseal(r["secret"]),
                self.sealing.unseal(r["body"]),
                int(r["attempts"]),
                float(r["created_epoch"]),
            )
            for r in rows
        ]

    def record_attempt(
        self,
        due: Due,
        at: str,
        status_code: int | None,
        error: str | None,
        status: str,
        next_attempt: float,
    ) -> None:
        """One attempt of `due` and what it leaves: delivered, failed for good, or the
        time of the next attempt."""
        with self._tx(commit=True) as curs:
            curs.execute(
                self._sql(
                    "INSERT INTO wht_alert_attempts (delivery_id, attempt, at, status_code, "
                    "error) VALUES (?, ?, ?, ?, ?) ON CONFLICT (delivery_id, attempt) DO NOTHING"
                ),
                (due.delivery_id, due.attempts + 1, at, status_code, error),
            )
            curs.execute(
                self._sql(
                    "UPDATE wht_alert_outbox SET attempts = ?, status = ?, next_attempt = ?, "
                    "delivered_at = ? WHERE delivery_id = ? AND status = ?"
                ),
                (
                    due.attempts + 1,
                    status,
                    next_attempt,
                    at if status == DELIVERED else None,
                    due.delivery_id,
                    PENDING,
                ),
            )

    def deliveries(self, subscription_id: str, limit: int = 100) -> list[dict[str, Any]]:
        """A subscription's deliveries, newest first, each with every attempt."""
        rows = self._rows(
            "SELECT delivery_id, kind, program_id, body, created_at, status, attempts, "
            "next_attempt, delivered_at FROM wht_alert_outbox WHERE subscription_id = ? "
            "ORDER BY created_epoch DESC, delivery_id LIMIT ?",
            (subscription_id, limit),
        )
        ids = [r["delivery_id"] for r in rows]
        attempts: dict[str, list[dict[str, Any]]] = {i: [] for i in ids}
        if ids:
            marks = ", ".join("?" for _ in ids)
            for a in self._rows(
                "SELECT delivery_id, attempt, at, status_code, error FROM wht_alert_attempts "
                f"WHERE delivery_id IN ({marks}) ORDER BY delivery_id, attempt",
                ids,
            ):
                attempts[a["delivery_id"]].append(
                    {
                        "attempt": int(a["attempt"]),
                        "at": a["at"],
                        "status_code": a["status_code"],
                        "error": a["error"],
                    }
                )
        return [
            {
                "delivery_id": r["delivery_id"],
                "kind": r["kind"],
                "program_id": r["program_id"],
                "created_at": r["created_at"],
                "status": r["status"],
                "attempts": attempts[r["delivery_id"]],
                "delivered_at": r["delivered_at"],
                "body": self.sealing.unseal(r["body"]),
            }
            for r in rows
        ]
