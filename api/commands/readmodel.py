"""`wht project`, `wht rebuild`: the regulator's read model.

`project` runs the read model's projection as its own process (for scale-out,
beside `wht serve --no-projection`), or, with the read model in N partitions, N
projector processes (`api.commands.workers`); `rebuild` drops the read model and
projects every stored event again, in this process or in N workers.
(`wht import` is `api.commands.importing`.)
"""

from __future__ import annotations

import logging
import signal
import time
from types import FrameType
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from api.commands import workers
from api.settings import Settings
from api.terminal import fail, settings_of, tracker_session
from service.application import Tracker
from service.readmodel import partitions as layout
from service.readmodel.locks import NoLock, ProjectorLock, partition_lock
from service.readmodel.partitions import Partition
from service.readmodel.runner import REBUILD_BATCH, ReadModelRunner, open_read_model
from service.readmodel.view import ReadModelRecorder


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        transient=False,
    )


def _take_lock(runner: ReadModelRunner, wait: float) -> None:
    _take_locks([runner.lock], wait)


def _take_locks(locks: list[ProjectorLock], wait: float) -> None:
    deadline = time.monotonic() + wait
    for lock in locks:
        while not lock.acquire():
            if time.monotonic() > deadline:
                for taken in locks:
                    taken.release()
                raise fail(
                    "another projector is running on this store (a `wht serve` or "
                    "`wht project`); stop it, or run the servers with --no-projection."
                )
            time.sleep(0.5)


def _catch_up(runner: ReadModelRunner, label: str) -> int:
    start, latest = runner.position(), runner.latest()
    with _progress() as progress:
        task = progress.add_task(label, total=max(latest - start, 0))
        return runner.catch_up(
            until=latest, progress=lambda at: progress.update(task, completed=at - start)
        )


PartitionsOption = Annotated[
    int | None,
    typer.Option(
        "--partitions",
        min=1,
        help="Partitions of the read model (programs split by id; default: the count the "
        "read model records, else 1). With N > 1, N projector processes each take one "
        "free partition, and take over a partition whose projector died.",
    ),
]


def project(
    ctx: typer.Context,
    once: Annotated[
        bool, typer.Option("--once", help="Catch up with every event stored now, then exit.")
    ] = False,
    wait: Annotated[
        float, typer.Option(help="With --once: seconds to wait for another projector to let go.")
    ] = 30.0,
    partitions: PartitionsOption = None,
) -> None:
    """Keep the regulator's read model up to date, as its own process (or N of them)."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    settings = settings_of(ctx)
    with tracker_session(settings) as tracker:
        view = open_read_model(tracker)
        try:
            count = layout.claim_layout(view, tracker.name, partitions)
        except layout.LayoutMismatch as mismatch:
            raise fail(str(mismatch)) from None
        if count > 1:
            _project_partitions(tracker, view, settings, count, once=once, wait=wait)
            return
        runner = ReadModelRunner(tracker, view)
        if once:
            _take_lock(runner, wait)
            try:
                done = _catch_up(runner, "projecting")
            finally:
                runner.lock.release()
            typer.echo(f"projected {done} events; the read model is at {runner.position()}")
            return

        def stop(signum: int, frame: FrameType | None) -> None:
            runner.stop()

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        typer.echo(
            f"wht project: following the store from {runner.position()} "
            f"(latest {runner.latest()}); Ctrl-C to stop",
            err=True,
        )
        runner.run_forever()
        typer.echo(f"wht project: stopped at {runner.position()}", err=True)


def _project_partitions(
    tracker: Tracker,
    view: ReadModelRecorder,
    settings: Settings,
    count: int,
    *,
    once: bool,
    wait: float,
) -> None:
    if once:  # each partition in turn, in this process
        done = 0
        for k in range(count):
            runner = ReadModelRunner(tracker, view, partition=Partition(k, count))
            _take_lock(runner, wait)
            try:
                done = max(done, _catch_up(runner, f"projecting partition {k + 1} of {count}"))
            finally:
                runner.lock.release()
        where = layout.position(view, tracker.name)
        typer.echo(f"projected {done} events; the read model is at {where}")
        return
    typer.echo(
        f"wht project: {count} projector processes following the store from "
        f"{layout.position(view, tracker.name)} (latest "
        f"{tracker.recorder.max_notification_id() or 0}); Ctrl-C to stop",
        err=True,
    )
    status = workers.supervise(settings, count)
    typer.echo(f"wht project: stopped at {layout.position(view, tracker.name)}", err=True)
    if status:
        raise fail(
            "the read model's partition count changed (`wht rebuild --partitions`); "
            "start `wht project` again",
            status,
        )


def rebuild(
    ctx: typer.Context,
    wait: Annotated[
        float, typer.Option(help="Seconds to wait for a running projector to let go.")
    ] = 10.0,
    worker_count: Annotated[
        int,
        typer.Option(
            "--workers",
            min=1,
            help="Processes that project a share of the programs each (default 1: this one).",
        ),
    ] = 1,
    partitions: Annotated[
        int | None,
        typer.Option(
            "--partitions",
            min=1,
            help="Partitions to record for `wht project` (default: the count recorded, else 1).",
        ),
    ] = None,
) -> None:
    """Drop the read model and project every stored event again."""
    settings = settings_of(ctx)
    with tracker_session(settings) as tracker:
        view = open_read_model(tracker)
        old = layout.partitions_of(view)
        count = partitions or old
        locks = _all_locks(tracker, {old, count})
        _take_locks(locks, wait)
        try:
            began = time.monotonic()
            view.reset(tracker.name)
            layout.record_partitions(view, count)
            if worker_count == 1:  # in this process, every program
                runner = ReadModelRunner(tracker, view, lock=NoLock(), record_batch=REBUILD_BATCH)
                done = _catch_up(runner, "rebuilding")
                end = runner.position()
            else:  # the latest event now: each worker projects its share up to it
                end = tracker.recorder.max_notification_id() or 0
                done = _rebuild_in_workers(settings, worker_count, end)
            if count > 1 or worker_count > 1:
                layout.settle(view, tracker.name, count, end)
        finally:
            for lock in locks:
                lock.release()
        view.analyze()
        counts = view.counts()
        typer.echo(
            f"rebuilt the read model from {done} events in {time.monotonic() - began:.1f} s: "
            f"{counts['wht_rm_program']} programs, {counts['wht_rm_state']} state rows, "
            f"{counts['wht_rm_finding']} finding rows"
        )


def _all_locks(tracker: Tracker, counts: set[int]) -> list[ProjectorLock]:
    """Every partition's lock of these layouts, each once (on PostgreSQL, partition k
    of any P > 1 has the same key)."""
    found: dict[str, ProjectorLock] = {}
    for count in sorted(counts):
        for k in range(count):
            lock = partition_lock(tracker, Partition(k, count))
            found.setdefault(repr(getattr(lock, "path", None) or getattr(lock, "keys", k)), lock)
    return list(found.values())


def _rebuild_in_workers(settings: Settings, count: int, latest: int) -> int:
    with _progress() as progress:
        task = progress.add_task(f"rebuilding ({count} workers)", total=latest * count)
        try:
            workers.rebuild_in(
                settings, count, latest, lambda done: progress.update(task, completed=done)
            )
        except RuntimeError as error:
            raise fail(f"{error}; the read model is incomplete: run `wht rebuild` again") from None
    return latest
