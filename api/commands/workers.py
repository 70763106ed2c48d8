"""Worker processes of `wht project --partitions N` and `wht rebuild --workers N`.

Workers are started with multiprocessing's "spawn" (a fresh interpreter each, no
inherited connections or locks) and open the store themselves from the CLI's
settings.

- A projector worker (`project_worker`) runs a `PartitionsRunner` holding at most
  one partition lock; with none it looks for a free one every second. `supervise`
  keeps N of them running: one that dies (kill -9) is started again, and whichever
  worker of any `wht project` finds the dead one's partition free (its PostgreSQL
  session ended, its flock gone with it) takes it over from its tracked position.
- A rebuild worker (`rebuild_worker`) projects share k of N of the programs over
  the notifications (0, latest] under its own tracking name, reporting its
  position to the parent, which shows the sum as the progress bar.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Callable
from multiprocessing.process import BaseProcess
from types import FrameType
from typing import Any

from api.settings import Settings
from api.terminal import open_tracker
from service.readmodel.locks import NoLock
from service.readmodel.partitions import Partition
from service.readmodel.runner import REBUILD_BATCH, ReadModelRunner, open_read_model
from service.readmodel.scaleout import PartitionsRunner

log = logging.getLogger("wht.projection")
REFUSED = 3  # a worker's exit status when the read model's layout is not its own
LOG_FORMAT = "%(asctime)s %(process)d %(name)s %(message)s"


def _spawn() -> Any:
    return multiprocessing.get_context("spawn")


def _exit_with_parent(parent: int, stop: Callable[[], None]) -> None:
    # A worker whose `wht project` was killed stops too (it would project unsupervised).
    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        stop()

    threading.Thread(target=watch, name="wht-parent-watch", daemon=True).start()


def project_worker(settings: Settings, count: int, first: int, parent: int) -> None:
    """One projector process: hold at most one free partition at a time (module doc)."""
    logging.basicConfig(level=logging.INFO, format=LOG_FORMAT)
    tracker = open_tracker(settings)
    try:
        runner = PartitionsRunner(tracker, open_read_model(tracker), count, most=1, first=first)

        def stop(signum: int, frame: FrameType | None) -> None:
            runner.stop(timeout=0)

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        _exit_with_parent(parent, lambda: runner.stop(timeout=0))
        runner.run_forever()
    finally:
        tracker.close()
    if runner.refused is not None:
        raise SystemExit(REFUSED)


def supervise(settings: Settings, count: int) -> int:
    """Run `count` projector workers until SIGTERM/SIGINT, starting again any that dies.
    Returns the exit status: 0, or REFUSED when the read model's layout changed."""
    context = _spawn()
    stopping = threading.Event()

    def stop(signum: int, frame: FrameType | None) -> None:
        stopping.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)

    def start(first: int) -> BaseProcess:
        process: BaseProcess = context.Process(
            target=project_worker,
            args=(settings, count, first, os.getpid()),
            name=f"wht-project-{first}",
        )
        process.start()
        log.info("projector worker %d started (looks from partition %d)", process.pid, first)
        return process

    workers = [start(k) for k in range(count)]
    status = 0
    try:
        while not stopping.wait(1.0):
            for k, worker in enumerate(workers):
                if worker.is_alive():
                    continue
                if worker.exitcode == REFUSED:
                    status = REFUSED
                    stopping.set()
                    break
                log.warning(
                    "projector worker %d ended (exit %s); starting another",
                    worker.pid,
                    worker.exitcode,
                )
                workers[k] = start(k)
    finally:
        for worker in workers:
            if worker.is_alive():
                worker.terminate()  # SIGTERM: it stops between batches
        for worker in workers:
            worker.join(30)
            if worker.is_alive():
                worker.kill()
                worker.join(10)
    return status


def rebuild_worker(settings: Settings, index: int, count: int, latest: int, positions: Any) -> None:
    """Project share `index` of `count` of the programs over (0, latest]; the parent holds
    the projector locks and resets the read model first (`wht rebuild --workers N`)."""
    tracker = open_tracker(settings)
    try:
        view = open_read_model(tracker)
        runner = ReadModelRunner(
            tracker,
            view,
            lock=NoLock(),
            partition=Partition(index, count),
            record_batch=REBUILD_BATCH,
        )

        def progress(at: int) -> None:
            positions[index] = at

        runner.catch_up(until=latest, progress=progress)
        positions[index] = latest
    finally:
        tracker.close()


def rebuild_in(
    settings: Settings, count: int, latest: int, progress: Callable[[int], None]
) -> None:
    """Run `count` rebuild workers to the end; `progress` receives the sum of their
    positions. Raises RuntimeError when one fails (the read model is then incomplete)."""
    context = _spawn()
    positions = context.Array("q", count)
    workers: list[BaseProcess] = [
        context.Process(
            target=rebuild_worker,
            args=(settings, k, count, latest, positions),
            name=f"wht-rebuild-{k}",
        )
        for k in range(count)
    ]
    for worker in workers:
        worker.start()
    try:
        while any(w.is_alive() for w in workers):
            progress(sum(positions[:]))
            if any(w.exitcode not in (None, 0) for w in workers):
                break
            time.sleep(0.2)
        progress(sum(positions[:]))
    finally:
        for worker in workers:
            if worker.is_alive():
                worker.terminate()
            worker.join(30)
    failed = [w for w in workers if w.exitcode != 0]
    if failed:
        raise RuntimeError(
            f"rebuild worker(s) {', '.join(str(w.name) for w in failed)} failed "
            f"(exit {', '.join(str(w.exitcode) for w in failed)})"
        )
