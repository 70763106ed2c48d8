"""`wht import`: a file of events through the batch ingestion, 1,000 at a time, safe to
run again after an interruption."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any
from uuid import UUID

import typer
from eventsourcing.persistence import PersistenceError
from pydantic import ValidationError

from api.commands.readmodel import _progress
from api.schemas import BatchItemIn
from api.terminal import settings_of, tracker_session
from domain.errors import BatchRejected, InvalidEvent, TrackerError
from domain.intake import NewEvent, parse_event
from service.application import Tracker

CHUNK = 1000


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
