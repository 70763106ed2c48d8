"""Tamper evidence for one program: recompute its hash chain from the raw store.

Verification reads the stored rows themselves (the recorder's
`select_events` and the application's mapper), never the aggregate, so a
row that no longer decodes is reported, not raised. Beside the chain's own
checks (`domain.chain`: gaps, edited content, broken `prev_hash`), each event
is compared with the tracker's event index, written in the same transaction:
an event the index records differently or not at all (swapped, rewritten
with fresh hashes, inserted behind the tracker) and a deleted tail show there.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID

from eventsourcing.persistence import AggregateRecorder, Mapper, StoredEvent
from eventsourcing.utils import get_topic

from domain.chain import BadRow, IntegrityReport, Link, Problem, chain_problems
from domain.errors import Conflict, ProgramNotFound
from domain.events import EVENT_MODELS
from domain.intake import NewEvent
from domain.program import Program, format_instant
from service.persistence import IndexedRecorder

TOPICS = {get_topic(Program.Referred), get_topic(Program.Recorded)}
END_OF_TIME = datetime.max.replace(tzinfo=UTC)
__all__ = ["BadRow", "IntegrityReport", "Link", "Problem", "verify_chain", "verify_program"]


class TrailDamaged(Conflict):
    """The stored trail no longer replays: its chain report says where and why."""

    title = "Stored trail damaged"


def _link_from_event(version: int, event: Any) -> Link:
    data = event.data
    if not isinstance(data, dict):
        raise ValueError("data is not an object")
    recorded_at = event.timestamp
    if not isinstance(recorded_at, datetime):
        raise ValueError("timestamp is not an instant")
    texts = [event.type, event.event_id, event.occurred_on, event.prev_hash, event.hash]
    if not all(isinstance(t, str) for t in texts):
        raise ValueError("a chained field is not text")
    return Link(
        version,
        event.type,
        event.event_id,
        event.occurred_on,
        recorded_at,
        data,
        event.prev_hash,
        event.hash,
    )


def read_link(stored: StoredEvent, mapper: Mapper[UUID]) -> Link | BadRow:
    """Decode one stored row into a `Link`, or say why it cannot be."""
    version = stored.originator_version
    if stored.topic not in TOPICS:
        # Never resolve a topic the tracker did not write: it names a module to import.
        return BadRow(version, f"unexpected topic {stored.topic!r}")
    try:
        return _link_from_event(version, mapper.to_domain_event(stored))
    except Exception as exc:  # any undecodable row is a finding, never a crash
        return BadRow(version, f"cannot be decoded ({type(exc).__name__}: {exc})"[:300])


def read_links(
    recorder: AggregateRecorder,
    mapper: Mapper[UUID],
    program_id: UUID,
    up_to_version: int | None = None,
) -> tuple[list[Link | BadRow], list[str]]:
    """A program's stored rows as links, in version order, with their topics."""
    rows = recorder.select_events(program_id, lte=up_to_version)
    return [read_link(row, mapper) for row in rows], [row.topic for row in rows]


def index_problems(
    program_id: UUID, links: Sequence[Link | BadRow], index: IndexedRecorder
) -> list[Problem]:
    """Cross-check the chain with the event index written in the same transaction."""
    problems: list[Problem] = []
    for link in links:
        if isinstance(link, BadRow):
            continue
        row = index.find_event(link.event_id)
        if row is None:
            problems.append(
                Problem(
                    link.version, "not in the tracker's event index (written outside the tracker?)"
                )
            )
            continue
        model = EVENT_MODELS.get(link.type)
        try:
            if model is None:
                raise ValueError(f"unknown event type {link.type!r}")
            body = NewEvent(
                link.event_id,
                link.type,
                date.fromisoformat(link.occurred_on),
                model.model_validate(link.data),
            )
            body_sha = body.body_sha(program_id)
        except Exception:
            problems.append(Problem(link.version, f"data is not a valid {link.type}"))
            continue
        same = (
            row.program_id == program_id
            and row.version == link.version
            and row.type == link.type
            and row.body_sha == body_sha
            and format_instant(row.recorded_at) == format_instant(link.recorded_at)
        )
        if not same:
            problems.append(
                Problem(
                    link.version,
                    "differs from what the event index recorded "
                    f"for event {link.event_id} (swapped or rewritten)",
                )
            )
    last = max((link.version for link in links), default=0)
    indexed = index.version_known_at(program_id, END_OF_TIME)
    if indexed is not None and indexed > last:
        problems.append(
            Problem(
                last + 1,
                f"the event index records versions up to {indexed}, "
                f"the store only up to {last} (deleted?)",
            )
        )
    return problems


def verify_chain(
    program_id: UUID,
    links: Sequence[Link | BadRow],
    topics: Sequence[str] | None = None,
    index: IndexedRecorder | None = None,
) -> IntegrityReport:
    """Recompute a chain; with an index, cross-check every event against it too."""
    problems = chain_problems(program_id, links, topics)
    if index is not None:
        problems += index_problems(program_id, links, index)
    good = [link for link in links if isinstance(link, Link)]
    head = good[-1].hash if good and good[-1] is links[-1] else None
    unique = {(p.version, p.reason): p for p in problems}
    return IntegrityReport(program_id, len(links), head, tuple(unique.values()))


def verify_program(
    recorder: AggregateRecorder,
    mapper: Mapper[UUID],
    program_id: UUID,
    index: IndexedRecorder | None = None,
) -> IntegrityReport:
    """Recompute one program's chain from the raw store (docs/reference/http.md, integrity)."""
    links, topics = read_links(recorder, mapper, program_id)
    if not links and (index is None or index.version_known_at(program_id, END_OF_TIME) is None):
        raise ProgramNotFound(f"Program {program_id} is not in the store.")
    return verify_chain(program_id, links, topics, index)
