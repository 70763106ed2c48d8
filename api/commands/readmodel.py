"""`wht project`, `wht rebuild`, `wht import`: the read model and bulk loading.

`project` runs the regulator's read model projection as its own process (for
scale-out, beside `wht serve --no-projection`); `rebuild` drops the read model
and projects every stored event again; `import` feeds a file of events through
the batch ingestion, 1,000 at a time, safe to run again after an interruption.
"""

from __future__ import annotations

import json
import logging
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from types import FrameType
from typing import Annotated, Any
from uuid import UUID

import typer
from eventsourcing.persistence import PersistenceError
from pydantic import ValidationError
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from api.schemas import BatchItemIn
from api.terminal import fail, settings_of, tracker_session
from domain.errors import BatchRejected, InvalidEvent, TrackerError
from domain.intake import NewEvent, parse_event
from service.application import Tracker
from service.readmodel.runner import ReadModelRunner, open_read_model

CHUNK = 1000


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        transient=False,
    )


def _take_lock(runner: ReadModelRunner, wait: float) -> None:
    deadline = time.monotonic() + wait
    while not runner.lock.acquire():
        if time.monotonic() > deadline:
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


def project(
    ctx: typer.Context,
    once: Annotated[
        bool, typer.Option("--once", help="Catch up with every event stored now, then exit.")
    ] = False,
    wait: Annotated[
        float, typer.Option(help="With --once: seconds to wait for another projector to let go.")
    ] = 30.0,
) -> None:
    """Keep the regulator's read model up to date, as its own process."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    with tracker_session(settings_of(ctx)) as tracker:
        runner = ReadModelRunner(tracker, open_read_model(tracker))
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


def rebuild(
    ctx: typer.Context,
    wait: Annotated[
        float, typer.Option(help="Seconds to wait for a running projector to let go.")
    ] = 10.0,
) -> None:
    """Drop the read model and project every stored event again."""
    with tracker_session(settings_of(ctx)) as tracker:
        view = open_read_model(tracker)
        runner = ReadModelRunner(tracker, view)
        _take_lock(runner, wait)
        try:
            began = time.monotonic()
            view.reset(tracker.name)
            done = _catch_up(runner, "rebuilding")
        finally:
            runner.lock.release()
        view.analyze()
        counts = view.counts()
        typer.echo(
            f"rebuilt the read model from {done} events in {time.monotonic() - began:.1f} s: "
            f"{counts['wht_rm_program']} programs, {counts['wht_rm_state']} state rows, "
            f"{counts['wht_rm_finding']} finding rows"
        )


def _lines(path: Path) -> Iterator[tuple[int, str]]:
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if line.strip():
                yield number, line


def parse_line(text: str) -> tuple[UUID, NewEvent]:
    """One NDJSON line as a batch item; InvalidEvent says what is wrong with it."""
    try:
        raw: Any = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidEvent(f"not JSON ({exc.msg} at column {exc.colno})") from None
    try:
        item = BatchItemIn.model_validate(raw)
    except ValidationError as exc:
        where = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()[:5]
        )
        raise InvalidEvent(f"not a valid event ({where})") from None
    return item.program_id, parse_event(
        item.event_id, item.type, item.occurred_on, item.data, item.expected_version, ["line"]
    )


def _explain(error: TrackerError) -> str:
    if isinstance(error, InvalidEvent) and error.errors and error.errors[0].get("loc"):
        where = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'][1:]) or 'event'}: {e['msg']}"
            for e in error.errors[:5]
        )
        return f"{error.detail} ({where})"
    return error.detail


def _send(tracker: Tracker, chunk: list[tuple[int, UUID, NewEvent]]) -> tuple[int, int]:
    receipts = tracker.ingest_batch([(pid, event) for _, pid, event in chunk])
    new = sum(1 for receipt in receipts if receipt.status == 201)
    return new, len(receipts) - new


def import_events(
    ctx: typer.Context,
    file: Annotated[
        Path,
        typer.Argument(
            exists=True,
            dir_okay=False,
            readable=True,
            help="One JSON event a line: program_id, event_id, type, occurred_on, data.",
        ),
    ],
) -> None:
    """Ingest a file of events in batches of 1,000 (all or nothing each); safe to rerun."""
    total = sum(1 for _ in _lines(file))
    new = repeated = 0
    problems: list[str] = []
    with tracker_session(settings_of(ctx)) as tracker, _progress() as progress:
        task = progress.add_task(f"importing {file.name}", total=total)
        chunk: list[tuple[int, UUID, NewEvent]] = []
        try:
            for number, text in _lines(file):
                try:
                    program_id, event = parse_line(text)
                except InvalidEvent as error:
                    problems.append(f"line {number}: {_explain(error)}")
                    break
                chunk.append((number, program_id, event))
                if len(chunk) == CHUNK:
                    added, again = _send(tracker, chunk)
                    new, repeated = new + added, repeated + again
                    progress.advance(task, len(chunk))
                    chunk = []
            if chunk:
                added, again = _send(tracker, chunk)
                new, repeated = new + added, repeated + again
                progress.advance(task, len(chunk))
        except BatchRejected as rejected:
            problems += [
                f"line {chunk[f['index']][0]}: {_explain(f['error'])}" for f in rejected.items
            ]
            problems.append(f"nothing from line {chunk[0][0]} on was stored")
        except PersistenceError as error:
            problems.append(
                f"the store failed ({error}); nothing from line {chunk[0][0]} on was stored"
            )
    summary = f"{new + repeated} events from {file}: {new} new, {repeated} already stored"
    if problems:
        for line in problems:
            typer.echo(f"error: {line}", err=True)
        typer.echo(
            f"stopped after {summary}; correct what is named above if need be and "
            "run the same command again: events already stored are recognised by "
            "event_id and not stored twice",
            err=True,
        )
        raise typer.Exit(1)
    typer.echo(f"imported {summary}")
