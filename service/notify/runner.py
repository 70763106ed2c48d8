"""Running the alerts: in `wht serve` (a background thread), or alone in `wht notify`.

One loop does three things in turn, then waits `poll` seconds when none had work:
follow the event log into the outbox (`AlertFollower`), sweep programs whose local
date moved on (`Sweep`, at most every `sweep_every` seconds), and attempt the
deliveries due (`Sender`). Only one notifier works at a time across the processes
sharing a store: it first takes a lock (a PostgreSQL advisory lock, or an flock on
`<file>.notifier.lock` beside the SQLite database) and stands by while another holds
it. Were two to work anyway, the tracking record refuses the second write of a
position and delivery ids refuse a second alert; a delivery could then go out twice,
with the same id, which at-least-once allows.
"""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path
from typing import Any

from eventsourcing.sqlite import SQLiteApplicationRecorder

from service.application import Tracker
from service.notify.destinations import Destinations
from service.notify.follower import AlertFollower
from service.notify.sender import RetryPolicy, Sender
from service.notify.store import AlertStore
from service.notify.sweep import ObligationsFor, Sweep, obligations_for
from service.readmodel.locks import AdvisoryLock, FileLock, NoLock, ProjectorLock

log = logging.getLogger("wht.alerts")
NOTIFIER_LOCK = 0x77687404  # pg advisory lock key of the one active notifier


def notifier_lock(tracker: Tracker) -> ProjectorLock:
    """The lock that elects one notifier among the processes sharing the store."""
    recorder: Any = tracker.recorder
    if isinstance(recorder, SQLiteApplicationRecorder):
        name = tracker.env.get("SQLITE_DBNAME") or ""
        if "memory" in name:
            return NoLock()
        return FileLock(Path(f"{name}.notifier.lock"))
    return AdvisoryLock(dict(recorder.datastore.pool.kwargs), key=NOTIFIER_LOCK)


class Notifier:
    """Follows, sweeps and delivers until stopped (see the module doc)."""

    def __init__(
        self,
        tracker: Tracker,
        store: AlertStore,
        *,
        policy: RetryPolicy | None = None,
        poll: float = 0.5,
        sweep_every: float = 60.0,
        obligations: ObligationsFor = obligations_for,
        lock: ProjectorLock | None = None,
        destinations: Destinations | None = None,
    ) -> None:
        self.tracker = tracker
        self.store = store
        self.follower = AlertFollower(tracker, store)
        self.sweep = Sweep(tracker, store, obligations)
        self.sender = Sender(tracker, store, policy or RetryPolicy(), destinations)
        self.poll = poll
        self.sweep_every = sweep_every
        self.lock = lock if lock is not None else notifier_lock(tracker)
        self.state = "stopped"
        self.errors = 0
        self._last_sweep = float("-inf")
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def step(self) -> int:
        """Follow, sweep when due, deliver: once, in this thread. Returns the work done."""
        work = self.follower.catch_up()
        if time.monotonic() - self._last_sweep >= self.sweep_every:
            work += self.sweep.run()
            self._last_sweep = time.monotonic()
        work += self.sender.send_due()
        return work

    def start(self) -> None:
        """Run in a background thread until `stop()`."""
        self._stopping.clear()
        self._thread = threading.Thread(target=self._run, name="wht-alerts", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def run_forever(self) -> None:
        """Run in this thread until `stop()` is called from another (or a signal)."""
        self._stopping.clear()
        self._run()

    def _run(self) -> None:
        failures = 0
        try:
            while not self._stopping.is_set():
                if not self.lock.acquire():
                    self._set_state("standby")
                    self._stopping.wait(1.0)
                    continue
                self._set_state("active")
                try:
                    if self.step() == 0:
                        self._stopping.wait(self.poll)
                    failures = 0
                except Exception:
                    # A lost connection, or another notifier recorded a position first:
                    # resume from the tracked position after a pause.
                    self.errors += 1
                    failures += 1
                    log.exception("alerts failed; resuming from the tracked position")
                    self._stopping.wait(min(0.2 * 2 ** min(failures, 5), 5.0))
        finally:
            self.lock.release()
            self.state = "stopped"

    def _set_state(self, state: str) -> None:
        if state != self.state:
            log.info("alerts %s at %d", state, self.follower.position())
        self.state = state
