"""Running the read model's projection: in `wht serve`, or alone in `wht project`.

The runner feeds `ComplianceReadModel` every event of the tracker's
notification log after the position the read model has tracked, with the
library's `Tracking` objects, so each event is applied once, in the
transaction that records its tracking (`catch_up`, which `wht rebuild` and
`wht project --once` use, records up to `RECORD_BATCH` events a transaction, a
rebuild `REBUILD_BATCH`,
tracked at the last of them). On PostgreSQL it LISTENs on the events' channel
(the library NOTIFYs it with every insert) and catches up each time it is
notified, and at least every `LISTEN_POLL` seconds; SQLite recorders cannot
subscribe in eventsourcing 9.5, so there it follows the log
(`select_notifications` from the tracked position, `mapper.to_domain_event`).
Either way the events are applied by `catch_up`, batched (a commit per event was
the projector's limit on PostgreSQL).

It does not use the library's `ApplicationSubscription`: in eventsourcing 9.5.6
that selects what is stored in one thread and starts its LISTEN in another, later,
so events stored in between are not notified, and a runner started just before
they were stored waited for the next event, for ever (issue 20: a test that
seeded right after `start()` timed out). Here LISTEN is in force before the
first catch-up, and the poll bounds what a lost notification could cost.

Only one projector writes at a time, across processes: the runner first takes
a lock (a PostgreSQL advisory lock, or an flock beside the SQLite file) and
stands by while another process holds it. Were two to write anyway, the
single-row tracking record refuses the second write of any position, the
loser's transaction rolls back, and it resumes from the tracked position.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from uuid import UUID

import psycopg
from eventsourcing.persistence import Notification, Tracking
from eventsourcing.sqlite import SQLiteApplicationRecorder
from psycopg.sql import SQL, Identifier

from domain.program import Program
from projections.referrals import lookup_keys, spans_of
from service.application import Referrals, Tracker
from service.persistence.schema import conninfo_of
from service.readmodel.locks import ProjectorLock, partition_lock
from service.readmodel.partitions import LayoutMismatch, Partition, lost, partitions_of
from service.readmodel.projection import PROGRAM_CACHE_SIZE, ComplianceReadModel, Judged
from service.readmodel.view import ReadModelRecorder

log = logging.getLogger("wht.projection")
# Failed attempts in a row, with nothing recorded between, after which a projection
# is stuck: /readyz answers 503 (a lost connection recovers well before).
STUCK_AFTER = 3
BATCH = 500  # notifications read at a time
# Events recorded per transaction by `catch_up`; the projection's caches must
# hold a whole batch's programs (see `ComplianceReadModel`).
RECORD_BATCH = 100
# A rebuild's (`wht rebuild`): on a store of 10,000 programs a commit cost ~34 ms,
# a third of the rebuild; 500 events a commit made it ~20 % faster.
REBUILD_BATCH = 500
# On PostgreSQL, the longest the projector waits for a notification before it looks
# for new events anyway (a notification can be lost: a connection that drops).
LISTEN_POLL = 1.0
assert max(RECORD_BATCH, REBUILD_BATCH) <= min(PROGRAM_CACHE_SIZE, BATCH)
REFERRAL_CACHE_SIZE = 65536  # index keys (workers: COV-1) whose programs a catch-up keeps


class TrackerJudge:
    """The tracker as the projection needs it: a program at a version, and its judging."""

    def __init__(self, tracker: Tracker) -> None:
        self.tracker = tracker
        self._referrals: Referrals | None = None

    def load(self, program_id: UUID, version: int) -> Program:
        program: Program = self.tracker.repository.get(program_id, version=version)
        return program

    def judged(self, program: Program, known_at: datetime) -> Judged:
        # Within `stored_only`, the tracker's cached judging (as in its batch
        # ingest): the same answer, with one query per index key (COV-1), not per event.
        return self.tracker.judged(program, known_at, self._referrals)

    def on_same_referral(self, program: Program, known_at: datetime) -> list[UUID]:
        # Every program filed under one of this program's index keys (its workers:
        # COV-1, docs/domain.md R16), as recorded by `known_at`: the retracted
        # referral's and the new one's. A superset of those on its injury: a program
        # whose judgement did not change gives no change (`_rejudged`).
        keys = lookup_keys(spans_of(program.id, program.referrals, program.retractions))
        found: set[UUID] = set()
        for key in keys:
            found.update(self.tracker.programs_on_referral(key, known_at, self._referrals))
        found.discard(program.id)
        return sorted(found, key=str)

    @contextmanager
    def stored_only(self) -> Iterator[None]:
        """Judge, within, only events that were stored when it was entered.

        Who else is filed under an index key (a worker: COV-1) as known at such an
        event's `recorded_at` is then settled (every program first recorded by then
        is stored), so each key's programs are read once and kept (see
        `Tracker.judged`). An event stored after entering could be judged
        against a program stored since, which the kept list would lack.
        """
        self._referrals = _Referrals()
        try:
            yield
        finally:
            self._referrals = None


class _Referrals(Referrals):
    """The cache of `TrackerJudge.stored_only`, bounded: the oldest key goes first."""

    def __setitem__(self, key: str, value: list[tuple[UUID, datetime]]) -> None:
        super().__setitem__(key, value)
        if len(self) > REFERRAL_CACHE_SIZE:
            del self[next(iter(self))]


def open_read_model(tracker: Tracker) -> ReadModelRecorder:
    """The read model in the tracker's own store (same file or database), tables created;
    projected again from the start when its rows are gone but its position is kept."""
    from service.readmodel.postgres import PostgresReadModel
    from service.readmodel.sqlite import SQLiteReadModel

    view: ReadModelRecorder
    if isinstance(tracker.recorder, SQLiteApplicationRecorder):
        view = tracker.factory.tracking_recorder(SQLiteReadModel)  # type: ignore[assignment]
    else:
        view = tracker.factory.tracking_recorder(PostgresReadModel)  # type: ignore[assignment]
    if lost(view, tracker.name):
        # Served as it is, every list would be empty and say it is up to date.
        log.warning("the read model's rows are gone but its position is kept: projecting again")
        view.reset(tracker.name)
    return view


class ReadModelRunner:
    """Keeps the read model up to date with the tracker's notification log."""

    def __init__(
        self,
        tracker: Tracker,
        view: ReadModelRecorder,
        *,
        lock: ProjectorLock | None = None,
        idle_poll: float = 0.1,
        standby_poll: float = 1.0,
        partition: Partition | None = None,
        stopping: threading.Event | None = None,
        record_batch: int = RECORD_BATCH,
    ) -> None:
        self.tracker = tracker
        self.view = view
        self.partition = partition if partition is not None else Partition(0, 1)
        self.judge = TrackerJudge(tracker)
        self.projection = ComplianceReadModel(view, self.judge, self.partition)
        self.lock = lock if lock is not None else partition_lock(tracker, self.partition)
        self.idle_poll = idle_poll
        self.standby_poll = standby_poll
        self.record_batch = record_batch  # events a transaction in `catch_up`
        self.state = "stopped"
        self.errors = 0
        # Failed attempts since a batch was last recorded, and the last one's error:
        # `failing()` tells readiness the projection is stuck (docs/operations.md).
        self.failures = 0
        self.last_error: str | None = None
        # Set to stop: shared with a `PartitionsRunner` that runs this one's catch-ups.
        self._stopping = stopping if stopping is not None else threading.Event()
        self._thread: threading.Thread | None = None
        # The position this runner last applied, for ingests that keep pace (`keep_pace`).
        self._applied = threading.Condition()
        self._applied_at = 0

    @property
    def name(self) -> str:
        """The tracking name: the tracker's, or its partition's (`partitions.tracking_name`)."""
        return self.partition.tracking_name(self.tracker.name)

    def position(self) -> int:
        """The last notification id this runner's partition has applied (0: none)."""
        return self.view.max_tracking_id(self.name) or 0

    def latest(self) -> int:
        """The last notification id in the tracker's log (0: empty)."""
        return self.tracker.recorder.max_notification_id() or 0

    def catch_up(
        self, until: int | None = None, progress: Callable[[int], None] | None = None
    ) -> int:
        """Apply the events after the tracked position, up to `until` (default: all
        recorded now), in this thread. Returns how many were applied."""
        stored = self.latest()
        end = stored if until is None else until
        if end > stored:  # events yet to be stored: judge each as it comes
            return self._catch_up(end, progress)
        with self.judge.stored_only():
            return self._catch_up(end, progress)

    def _catch_up(self, end: int, progress: Callable[[int], None] | None) -> int:
        done = 0
        position = self.position()
        with self._applied:
            self._applied_at = max(self._applied_at, position)
        while position < end and not self._stopping.is_set():
            notifications = self.tracker.recorder.select_notifications(
                start=position, limit=BATCH, stop=end, inclusive_of_start=False
            )
            if not notifications:
                break
            for at in range(0, len(notifications), self.record_batch):
                batch = notifications[at : at + self.record_batch]
                self._apply(batch)
                position = batch[-1].id
                with self._applied:
                    self._applied_at = position
                    self._applied.notify_all()
                done += len(batch)
                if progress is not None:
                    progress(position)
        return done

    def _apply(self, notifications: Sequence[Notification]) -> None:
        """Project consecutive notifications and record them in one transaction.

        One commit per event is most of a rebuild's time on PostgreSQL. On any
        failure nothing of the batch is recorded, and the projection forgets
        what it cached for it.
        """
        try:
            changes = [
                change
                for notification in notifications
                for change in self.projection.changes_for(
                    self.tracker.mapper.to_domain_event(notification)
                )
            ]
            self.view.record_many(changes, Tracking(self.name, notifications[-1].id))
        except BaseException:
            self.projection.forget()
            raise
        self.failures = 0

    def failed(self, error: Exception) -> None:
        """Count a failed attempt (the caller resumes from the tracked position)."""
        self.errors += 1
        self.failures += 1
        self.last_error = f"{type(error).__name__}: {error}"[:500]

    def failing(self) -> ReadModelRunner | None:
        """This runner, when its last `STUCK_AFTER` attempts all failed."""
        return self if self.failures >= STUCK_AFTER else None

    def start(self) -> None:
        """Run the projection in a background thread until `stop()`."""
        self._stopping.clear()
        self._thread = threading.Thread(target=self._run, name="wht-projection", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def run_forever(self) -> None:
        """Run the projection in this thread until `stop()` is called from another."""
        self._stopping.clear()
        self._run()

    def _run(self) -> None:
        try:
            while not self._stopping.is_set():
                if not self.lock.acquire():
                    # Another process projects meanwhile: what this one cached goes stale.
                    self.projection.forget()
                    self._set_state("standby")
                    self._stopping.wait(self.standby_poll)
                    continue
                if partitions_of(self.view) != self.partition.count:
                    # `wht rebuild --partitions N` changed the layout under this runner.
                    log.error(
                        "projection stopped: %s",
                        LayoutMismatch(partitions_of(self.view), self.partition.count),
                    )
                    break
                self._set_state("active")
                try:
                    if self.partition.count > 1 or isinstance(
                        self.tracker.recorder, SQLiteApplicationRecorder
                    ):
                        self._follow()
                    else:
                        self._subscribe()
                except Exception as error:
                    # A lost connection, or another projector applied an event first
                    # (the tracking record refused ours): resume from the tracked position.
                    self.failed(error)
                    self._set_state("failing")  # ingests keeping pace stop waiting for it
                    self.projection.forget()
                    log.exception("projection failed; resuming from the tracked position")
                    self._stopping.wait(min(0.2 * 2 ** min(self.failures, 5), 5.0))
        finally:
            self.lock.release()
            self.state = "stopped"
            with self._applied:
                self._applied.notify_all()

    def _set_state(self, state: str) -> None:
        if state != self.state and state != "failing":  # a failure is logged where caught
            try:
                position: int | str = self.position()
            except Exception:  # the store is down: retried after "failing", never fatal here
                position = "?"
            log.info(
                "projection %s at %s (another process projects while this one stands by)"
                if state == "standby"
                else "projection %s at %s",
                state,
                position,
            )
        self.state = state
        with self._applied:  # an ingest keeping pace waits only for an active runner
            self._applied.notify_all()

    def _follow(self) -> None:
        while not self._stopping.is_set():
            if self.catch_up() == 0:
                self._stopping.wait(self.idle_poll)
                if not self.lock.acquire():
                    return

    def _subscribe(self) -> None:
        # LISTEN first, on a connection of its own, then catch up: every event stored
        # after the LISTEN is notified, every one before it is caught up. Each
        # notification wakes one catch-up of everything stored so far (batched, a
        # transaction per RECORD_BATCH events); the ones that queued meanwhile are
        # drained, and a quiet LISTEN_POLL seconds also catches up, so a lost
        # notification costs at most that.
        recorder = self.tracker.recorder
        channel = SQL("LISTEN {0}").format(Identifier(recorder.channel_name))  # type: ignore[attr-defined]
        conninfo = conninfo_of(recorder.datastore)  # type: ignore[attr-defined]
        with psycopg.connect(**conninfo, autocommit=True) as conn:
            conn.execute(channel)
            while not self._stopping.is_set():
                self.catch_up()
                for _ in conn.notifies(timeout=LISTEN_POLL, stop_after=1):
                    pass
                for _ in conn.notifies(timeout=0.0):  # drain what queued meanwhile
                    pass
                if self._stopping.is_set() or not self.lock.acquire():
                    return

    def wait_for(self, notification_id: int | None, timeout: float) -> None:
        """Block until the read model has applied `notification_id` (TimeoutError if not)."""
        self.view.wait(self.name, notification_id, timeout=timeout)

    def keep_pace(self, latest: int, max_behind: int, timeout: float) -> bool:
        """Block until this runner has applied events up to `latest - max_behind`, for
        at most `timeout` seconds; whether it did. Answers at once unless this runner
        is the active projector (another process projecting is not waited for).

        `wht serve` calls it after each ingest (WHT_INGEST_MAX_LAG), so that the
        projection thread, which shares the process (and its interpreter lock) with
        every request thread, keeps up with its own server's ingest.
        """
        return self.wait_applied(latest - max_behind, timeout, lambda: self.state == "active")

    def wait_applied(self, target: int, timeout: float, active: Callable[[], bool]) -> bool:
        """Block while `active()` until this runner has applied `target`, at most
        `timeout` seconds; whether it has (or is no longer active)."""
        with self._applied:
            return self._applied.wait_for(
                lambda: self._applied_at >= target or not active(), timeout
            )
