"""The floor: what the eventsourcing library alone does with the same events.

A plain `Application` with a trivial aggregate (`Trail`) whose events carry
what a program event carries (type, event_id, occurred_on, data), on the
library's own recorders and the same kind of store; nothing is validated,
judged, indexed or chained. For rebuilds, the floor reads the tracker's
notification log and decodes every event with the library's mapper.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from datetime import date
from typing import Any
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.domain import Aggregate

from api.bootstrap import cipher_env, store_env
from bench.workload import Event


class Trail(Aggregate):
    """A trivial aggregate: events appended, nothing derived."""

    class Started(Aggregate.Created):
        type: str
        event_id: str
        occurred_on: str
        data: dict[str, Any]

    class Recorded(Aggregate.Event):
        type: str
        event_id: str
        occurred_on: str
        data: dict[str, Any]

        def apply(self, aggregate: Any) -> None:
            pass

    @classmethod
    def start(
        cls, trail_id: UUID, kind: str, event_id: str, on: date, data: dict[str, Any]
    ) -> Trail:
        return cls._create(
            cls.Started,
            id=trail_id,
            type=kind,
            event_id=event_id,
            occurred_on=on.isoformat(),
            data=data,
        )

    def record(self, kind: str, event_id: str, on: date, data: dict[str, Any]) -> None:
        self.trigger_event(
            self.Recorded, type=kind, event_id=event_id, occurred_on=on.isoformat(), data=data
        )


def library_env(url: str) -> dict[str, str]:
    """The tracker's store settings, with the library's own recorder, in the clear."""
    env = {**store_env(url), **cipher_env("")}
    env.pop("APPLICATION_RECORDER_TOPIC", None)
    return env


class Floor(Application[UUID]):
    name = "floor"


class Reader(Application[UUID]):
    """The tracker's store (same name, so the same tables), read by the library alone."""

    name = "wht"


def _append(trails: dict[UUID, Trail], event: Event) -> Trail:
    pid, event_id, kind, on, data = event
    trail = trails.get(pid)
    if trail is None:
        trail = trails[pid] = Trail.start(pid, kind, event_id, on, data)
    else:
        trail.record(kind, event_id, on, data)
    return trail


def save_single(url: str, clients: Sequence[Sequence[Event]]) -> dict[str, Any]:
    """Each event saved by its own `Application.save`, one thread per client."""
    app = Floor(env=library_env(url))
    barrier = threading.Barrier(len(clients) + 1)
    done = [0] * len(clients)
    failures: list[BaseException] = []

    def run(index: int, events: Sequence[Event]) -> None:
        trails: dict[UUID, Trail] = {}
        barrier.wait()
        try:
            for event in events:
                app.save(_append(trails, event))
                done[index] += 1
        except BaseException as error:  # reported below, not lost in the thread
            failures.append(error)

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(clients)]
    for thread in threads:
        thread.start()
    barrier.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - began
    app.close()
    if failures:
        raise RuntimeError(f"the floor failed to save: {failures[0]!r}") from failures[0]
    return {
        "events": sum(done),
        "seconds": elapsed,
        "events_per_s": sum(done) / elapsed,
        "threads": len(clients),
    }


def save_batches(url: str, events: Sequence[Event], size: int) -> dict[str, Any]:
    """The events in batches of `size`, each batch one `Application.save` (one transaction)."""
    app = Floor(env=library_env(url))
    trails: dict[UUID, Trail] = {}
    began = time.perf_counter()
    for first in range(0, len(events), size):
        touched = {id(t): t for t in (_append(trails, e) for e in events[first : first + size])}
        app.save(*touched.values())
    elapsed = time.perf_counter() - began
    app.close()
    return {"events": len(events), "seconds": elapsed, "events_per_s": len(events) / elapsed}


def read_log(url: str, page: int = 500) -> dict[str, Any]:
    """Every notification of the tracker's log, selected `page` at a time and decoded."""
    app = Reader(env=library_env(url))
    began = time.perf_counter()
    position, count = 0, 0
    while True:
        notifications = app.recorder.select_notifications(
            start=position, limit=page, inclusive_of_start=False
        )
        if not notifications:
            break
        for notification in notifications:
            app.mapper.to_domain_event(notification)
            position = notification.id
            count += 1
    elapsed = time.perf_counter() - began
    app.close()
    return {"events": count, "seconds": elapsed, "events_per_s": count / elapsed}
