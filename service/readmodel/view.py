"""What the regulator's read model stores and answers: its rows' values and its contract.

`ReadModelRecorder` is the library's `TrackingRecorder` plus the read model's
tables: `readmodel_sqlite` and `readmodel_postgres` implement it, and the
projection (`service.readmodel.projection`) writes to it, one event per transaction
(or, catching up, one batch of events per transaction).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from uuid import UUID

from eventsourcing.persistence import Tracking, TrackingRecorder

from projections.due import DueSegment
from projections.timeline import FindingSegment, StateSegment, Timeline


@dataclass(frozen=True)
class CurrentProgram:
    """What the read model holds now for one program (its latest version)."""

    version: int
    provider_id: str
    inputs: str
    timeline: Timeline


@dataclass(frozen=True)
class ProgramChange:
    """One event's effect on the read model: rows superseded and rows added."""

    program_id: UUID
    version: int
    recorded_at: datetime
    provider_id: str
    inputs: str
    timeline: Timeline
    retired_states: tuple[StateSegment, ...]
    added_states: tuple[StateSegment, ...]
    retired_findings: tuple[FindingSegment, ...]
    added_findings: tuple[FindingSegment, ...]
    # The program's due dates after the event, every segment (the store diffs them
    # against its current rows); None leaves them as they are.
    due: tuple[DueSegment, ...] | None = None


@dataclass(frozen=True)
class ProgramQuery:
    """GET /v1/programs: filters, the two instants, and the page."""

    as_of: date
    known_at: datetime
    status: str | None = None
    finding: str | None = None
    provider_id: str | None = None
    discharge_eligible: bool | None = None
    after: str | None = None  # the last program_id of the previous page
    limit: int = 50


@dataclass(frozen=True)
class ListedProgram:
    """One program of the regulator's list: what its compliance endpoint would say."""

    program_id: str
    provider_id: str
    status: str
    discharge_eligible: bool
    findings: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        return {
            "program_id": self.program_id,
            "provider_id": self.provider_id,
            "status": self.status,
            "discharge_eligible": self.discharge_eligible,
            "findings": list(self.findings),
        }


@dataclass(frozen=True)
class ProgramPage:
    """One page of the regulator's list; `more` when another page follows."""

    programs: tuple[ListedProgram, ...]
    more: bool


@dataclass(frozen=True)
class WorklistQuery:
    """GET /v1/worklist: obligations listed at the two times and due by `due_by`."""

    as_of: date
    known_at: datetime
    due_by: date
    provider_id: str | None = None
    after: tuple[date, str, str] | None = None  # (due_on, program_id, kind) last seen
    limit: int = 50


@dataclass(frozen=True)
class WorkItem:
    """One obligation of one program, as the worklist shows it (status at its as_of)."""

    program_id: str
    provider_id: str
    kind: str
    clause: str
    due_on: date
    violation_on: date | None

    def cursor(self) -> tuple[date, str, str]:
        return (self.due_on, self.program_id, self.kind)


@dataclass(frozen=True)
class WorkPage:
    """One page of the worklist, by (due_on, program_id, kind); `more` when one follows."""

    items: tuple[WorkItem, ...]
    more: bool


class ReadModelRecorder(TrackingRecorder, ABC):
    """The read model's tables, written with the library's tracking records."""

    @abstractmethod
    def current(self, program_id: UUID) -> CurrentProgram | None:
        """The program's current timeline, or None before its first event."""

    def record(self, change: ProgramChange, tracking: Tracking) -> None:
        """Apply one event's change and its tracking record in one transaction."""
        self.record_many((change,), tracking)

    @abstractmethod
    def record_many(self, changes: Sequence[ProgramChange], tracking: Tracking) -> None:
        """Apply consecutive events' changes, in order, and the last one's tracking
        record in one transaction: a catch-up commits once per batch, not per event."""

    @abstractmethod
    def programs(self, query: ProgramQuery) -> ProgramPage:
        """The programs matching the query, by program_id, at most `limit`."""

    @abstractmethod
    def worklist(self, query: WorklistQuery) -> WorkPage:
        """The obligations listed at the query's two times and due by `due_by`."""

    @abstractmethod
    def counts(self) -> dict[str, int]:
        """How many programs, state rows and finding rows the read model holds."""

    @abstractmethod
    def reset(self, application_name: str) -> None:
        """Drop and recreate the tables, and forget the tracked positions (every partition's)."""

    @abstractmethod
    def analyze(self) -> None:
        """Refresh the planner's statistics of the read model's tables (after a rebuild)."""

    @abstractmethod
    def explain(self, query: ProgramQuery) -> list[str]:
        """The database's query plan for `programs(query)`."""
