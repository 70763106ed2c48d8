"""Projecting a partitioned read model: take whatever partitions are free, and project them.

`PartitionsRunner` holds up to `most` partition locks (`wht serve`'s thread:
every partition it can; a worker of `wht project --partitions N`: one), and
catches each held partition up in turn, each with its own `ReadModelRunner`
(its own projection, caches and tracking name). While it holds fewer than
`most`, it looks for a free partition every `standby_poll` seconds: when a
projector process dies, the server releases its advisory lock (or the kernel
its flock), and the next look takes that partition over, from its tracked
position. With one partition, `make_runner` answers the plain `ReadModelRunner`.
"""

from __future__ import annotations

import logging
import os
import threading
import time

from service.application import Tracker
from service.readmodel import partitions
from service.readmodel.partitions import LayoutMismatch, Partition
from service.readmodel.runner import ReadModelRunner
from service.readmodel.view import ReadModelRecorder

log = logging.getLogger("wht.projection")


class PartitionsRunner:
    """Keeps the partitions it can lock up to date (see the module doc)."""

    def __init__(
        self,
        tracker: Tracker,
        view: ReadModelRecorder,
        count: int,
        *,
        most: int | None = None,
        first: int = 0,
        idle_poll: float = 0.1,
        standby_poll: float = 1.0,
    ) -> None:
        self.tracker = tracker
        self.view = view
        self.count = count
        self.most = count if most is None else most
        # Look for free partitions from `first` on, so that workers spread out.
        order = [(first + k) % count for k in range(count)]
        self._stopping = threading.Event()  # stops this runner's catch-ups too
        self.runners = [
            ReadModelRunner(tracker, view, partition=Partition(k, count), stopping=self._stopping)
            for k in order
        ]
        self.idle_poll = idle_poll
        self.standby_poll = standby_poll
        self.state = "stopped"
        self.errors = 0
        self.held: list[ReadModelRunner] = []
        self.refused: LayoutMismatch | None = None  # the layout changed: stopped for good
        self._thread: threading.Thread | None = None

    @property
    def name(self) -> str:
        return self.tracker.name

    def failing(self) -> ReadModelRunner | None:
        """A held partition's runner whose projection is stuck, if any."""
        return next((r for r in self.held if r.failing() is not None), None)

    def position(self) -> int:
        """Where the read model is: the least position over every partition."""
        return partitions.position(self.view, self.name)

    def latest(self) -> int:
        return self.tracker.recorder.max_notification_id() or 0

    def wait_for(self, notification_id: int | None, timeout: float) -> None:
        partitions.wait(self.view, self.name, notification_id, timeout)

    def keep_pace(self, latest: int, max_behind: int, timeout: float) -> bool:
        """`ReadModelRunner.keep_pace` over the partitions this process holds (the
        others are projected, and waited for, elsewhere)."""
        deadline = time.monotonic() + timeout
        for runner in list(self.held):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False

            def active(runner: ReadModelRunner = runner) -> bool:
                return self.state == "active" and runner in self.held

            if not runner.wait_applied(latest - max_behind, remaining, active):
                return False
        return True

    def start(self) -> None:
        self._stopping.clear()
        self._thread = threading.Thread(target=self._run, name="wht-projection", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stopping.set()  # a catch-up stops between batches
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def run_forever(self) -> None:
        self._stopping.clear()
        self._run()

    def _take(self) -> None:
        for runner in self.runners:
            if len(self.held) >= self.most:
                return
            if runner not in self.held and runner.lock.acquire():
                runner.projection.forget()  # another process may have projected meanwhile
                self.held.append(runner)
                log.info(
                    "projection partition %s active in process %d at %d",
                    runner.partition,
                    os.getpid(),
                    runner.position(),
                )

    def _run(self) -> None:
        looked = 0.0
        try:
            while not self._stopping.is_set():
                if len(self.held) < self.most and time.monotonic() - looked >= self.standby_poll:
                    looked = time.monotonic()
                    if partitions.partitions_of(self.view) != self.count:
                        recorded = partitions.partitions_of(self.view)
                        self.refused = LayoutMismatch(recorded, self.count)
                        log.error("projection stopped: %s", self.refused)
                        return
                    self._take()
                if not self.held:
                    self.state = "standby"
                    self._stopping.wait(self.standby_poll)
                    continue
                self.state = "active"
                if self._round() == 0:
                    self._stopping.wait(self.idle_poll)
        finally:
            for runner in self.held:
                runner.lock.release()
            self.held = []
            self.state = "stopped"

    def _round(self) -> int:
        """Catch every held partition up once; a partition whose lock is lost is let go."""
        done = 0
        for runner in list(self.held):
            if self._stopping.is_set():
                break
            try:
                done += runner.catch_up()
            except Exception as error:
                # A lost connection, or another projector applied a batch first (the
                # tracking record refused ours): resume from the tracked position.
                self.errors += 1
                runner.failed(error)
                runner.projection.forget()
                log.exception("projection of partition %s failed; resuming", runner.partition)
                self._stopping.wait(0.5)
            if not runner.lock.acquire():
                runner.lock.release()
                self.held.remove(runner)
                log.info("projection partition %s let go", runner.partition)
        return done


def make_runner(
    tracker: Tracker, view: ReadModelRecorder, *, most: int | None = None, first: int = 0
) -> ReadModelRunner | PartitionsRunner:
    """The runner for the read model's recorded layout: with one partition, the plain
    `ReadModelRunner` (today's projector); else a `PartitionsRunner`."""
    count = partitions.partitions_of(view)
    if count == 1:
        return ReadModelRunner(tracker, view)
    return PartitionsRunner(tracker, view, count, most=most, first=first)
