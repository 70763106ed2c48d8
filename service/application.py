"""The tracker: the application service that records facts and answers questions.

Commands (`ingest`, `ingest_batch`) validate, refuse only what cannot be a
fact, and save events with their index rows in one transaction. Queries return
plain data, never aggregates; every query takes `known_at` (system time) and
the derived ones `as_of` (business date).
"""

from __future__ import annotations

import json
import random
import threading
import time
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID

from eventsourcing.persistence import (
    IntegrityError,
)
from eventsourcing.utils import EnvType

from domain.errors import (
    BatchRejected,
    EventIdConflict,
    InvalidEvent,
    ProgramNotFound,
    TrackerError,
    VersionConflict,
)
from domain.events import ProgramReferred, dump_data
from domain.facts import Fact
from domain.intake import NewEvent, refuse_future_dates, stored_zone, time_zone
from domain.policy import PolicyCatalog
from domain.program import Program, format_instant
from projections.compliance import Assessment
from service.integrity import TrailDamaged
from service.judging import ALWAYS, Batch, Referrals, View
from service.persistence import IndexRow
from service.receipts import Receipt, Receipts, receipt_date, stored_version

__all__ = [
    "ALWAYS",
    "PROGRAM_CACHE_SIZE",
    "Receipt",
    "Referrals",
    "Tracker",
    "View",
    "receipt_date",
]

SAVE_ATTEMPTS = 20
RECENT_ASSESSMENTS = 2000


# How many programs a tracker keeps in memory between requests (least recently used
# first out), unless told otherwise (WHT_PROGRAM_CACHE_SIZE).
PROGRAM_CACHE_SIZE = 2000


class Tracker(Receipts):
    """Records work hardening programs and derives their compliance."""

    name = "wht"

    def __init__(
        self,
        env: EnvType | None = None,
        catalog: PolicyCatalog | None = None,
        clock: Callable[[], datetime] | None = None,
        *,
        program_cache_size: int = PROGRAM_CACHE_SIZE,
    ) -> None:
        # Programs stay in memory between requests (fast-forwarded from the store on
        # each read, so other processes' writes are seen), at most `program_cache_size`
        # of them: the library's cache is unbounded for a size of 0 or less, so the
        # size is always set here, never left to the environment.
        if program_cache_size < 1:
            raise ValueError(f"program_cache_size must be at least 1, not {program_cache_size}")
        cache = {"AGGREGATE_CACHE_MAXSIZE": str(program_cache_size)}
        super().__init__({**dict(env or {}), **cache})
        self.catalog = catalog or PolicyCatalog.load()
        self.clock = clock or (lambda: datetime.now(UTC))
        self._recent: dict[UUID, tuple[int, date, Assessment]] = {}
        self._stripes = [threading.Lock() for _ in range(64)]

    # ---- commands ----

    def ingest(self, program_id: UUID, event: NewEvent) -> Receipt:
        """Record one event (idempotent by event_id); answer as docs/reference/http.md's 201/200."""
        try:
            return self.ingest_batch([(program_id, event)])[0]
        except BatchRejected as rejected:
            raise rejected.items[0]["error"] from None

    def ingest_batch(self, items: Sequence[tuple[UUID, NewEvent]]) -> list[Receipt]:
        """Record events across programs all or nothing, in one transaction."""
        # Writers in this process take turns per program (locks in one order, so
        # no deadlock); writers in other processes are settled by the store's
        # unique versions and a retry after a short random pause.
        stripes = sorted({hash(pid) % len(self._stripes) for pid, _ in items})
        for stripe in stripes:
            self._stripes[stripe].acquire()
        try:
            for attempt in range(SAVE_ATTEMPTS):
                try:
                    return self._try_batch(items)
                except IntegrityError:
                    time.sleep(random.uniform(0, 0.005 * (attempt + 1)))
        finally:
            for stripe in reversed(stripes):
                self._stripes[stripe].release()
        raise VersionConflict("The programs kept changing while saving; try again.")

    def _try_batch(self, items: Sequence[tuple[UUID, NewEvent]]) -> list[Receipt]:
        programs = Batch()
        views: dict[UUID, Assessment | None] = {}
        seen: dict[str, tuple[str, int]] = {}
        receipts: list[Receipt | None] = []
        rows: dict[tuple[UUID, int], IndexRow] = {}
        failures: list[dict[str, Any]] = []
        # One query for every event id of the batch, and one per physician referral
        # id: the batch writes nothing before its save, so neither answer changes.
        priors = self.index.find_events([event.event_id for _, event in items])
        referrals: Referrals = {}
        for index, (program_id, event) in enumerate(items):
            try:
                sha = event.body_sha(program_id)
                if event.event_id in seen:
                    first_sha, first_index = seen[event.event_id]
                    if first_sha != sha:
                        raise EventIdConflict(
                            f"event_id {event.event_id} appears twice in this batch with "
                            "different bodies."
                        )
                    receipts.append(None)  # filled with the first item's result below
                    continue
                seen[event.event_id] = (sha, index)
                prior = priors.get(event.event_id)
                if prior is not None:
                    if prior.body_sha == sha:  # the same body, so the same program
                        self._still_stored(prior, programs)
                    receipts.append(self._repeat(prior, sha))  # or a conflict
                    continue
                if program_id not in programs:
                    programs[program_id] = self._load(program_id)
                program = programs[program_id]
                stored = stored_version(program, event.event_id)
                if stored is not None:  # in the trail, though its index row is gone
                    receipts.append(self._repeat_from_trail(program_id, program, stored, sha))
                    continue
                receipt, program, row = self._apply(
                    program_id, program, event, sha, views, referrals, programs
                )
                programs[program_id] = program
                rows[(program_id, row.version)] = row
                receipts.append(receipt)
            except TrackerError as error:
                failures.append({"index": index, "error": error})
                receipts.append(None)
        if failures:
            invalid = any(isinstance(f["error"], (InvalidEvent, ProgramNotFound)) for f in failures)
            raise BatchRejected(
                f"{len(failures)} of {len(items)} events were refused; nothing was stored.",
                failures,
                "invalid" if invalid else "conflict",
            )
        touched = [p for p in programs.values() if p is not None and p.pending_events]
        if touched:
            self.save(*touched, index_rows=rows)
            for program in touched:
                after = views.get(program.id)
                if after is not None:
                    self._remember(program.id, program.version, after.as_of, after)
        for i, (_, event) in enumerate(items):
            if receipts[i] is None:
                first = receipts[seen[event.event_id][1]]
                assert first is not None
                receipts[i] = Receipt(200, first.body)
        return [r for r in receipts if r is not None]

    def _still_stored(self, prior: IndexRow, programs: Batch) -> None:
        """Refuse a resend whose event the index names but the trail no longer holds (a
        row deleted from the store): never acknowledge what is not stored."""
        if prior.program_id not in programs:
            programs[prior.program_id] = self._load(prior.program_id)
        if stored_version(programs[prior.program_id], prior.event_id) != prior.version:
            raise TrailDamaged(
                f"event_id {prior.event_id} was recorded at version {prior.version} of "
                f"program {prior.program_id}, but its stored trail no longer holds it; "
                f"nothing was stored. GET /v1/programs/{prior.program_id}/integrity lists "
                "the damage.",
                first_bad_version=prior.version,
            )

    def _remember(self, program_id: UUID, version: int, today: date, after: Assessment) -> None:
        # The assessment after the last ingest is the "before" of the next one
        # (if nothing else was recorded meanwhile): half the work per event.
        self._recent[program_id] = (version, today, after)
        while len(self._recent) > RECENT_ASSESSMENTS:
            self._recent.pop(next(iter(self._recent)), None)

    def _apply(
        self,
        program_id: UUID,
        program: Program | None,
        event: NewEvent,
        sha: str,
        views: dict[UUID, Assessment | None],
        referrals: Referrals,
        pending: Batch,
    ) -> tuple[Receipt, Program, IndexRow]:
        if program is None and event.type != "ProgramReferred":
            raise ProgramNotFound(
                f"Program {program_id} does not exist: its first event must be ProgramReferred."
            )
        version = program.version if program is not None else 0
        if event.expected_version is not None and event.expected_version != version:
            raise VersionConflict(
                f"expected_version {event.expected_version} but program {program_id} is at "
                f"version {version}. Read the program again and resend.",
                current_version=version,
            )
        referral = event.data if isinstance(event.data, ProgramReferred) else None
        if referral is None and program is not None and program.referral is not None:
            referral = program.referral.data  # type: ignore[assignment]
        zone = referral.time_zone if referral else None
        # A referral being posted must name a real region; a stored one is read leniently.
        clock_zone = (
            time_zone(zone) if isinstance(event.data, ProgramReferred) else stored_zone(zone)
        )
        today = datetime.now(clock_zone).date()
        refuse_future_dates(event, today, zone or "UTC")
        requested = event.data.policy if isinstance(event.data, ProgramReferred) else None
        if requested is not None and self.catalog.get(requested) is None:
            raise InvalidEvent(
                f"Unknown policy pack {requested!r}; GET /v1/policies lists them.",
                [{"loc": ["body", "data", "policy"], "msg": "unknown policy pack"}],
            )
        recorded_at = self.clock()
        if program is not None and recorded_at <= program.modified_on:
            recorded_at = program.modified_on + timedelta(microseconds=1)
        # R11: a receipt is judged at the program's own dates (the later of this
        # event's date and the latest date already in the program), not today: a
        # clinic backfilling March in November sees what each fact changed then.
        judged_on = receipt_date(program, event.occurred_on)
        if program is None:
            program = Program.refer(
                program_id, event.event_id, event.occurred_on, event.payload, recorded_at
            )
            before: Assessment | None = None
        else:
            before = views.get(program_id)
            if before is not None and before.as_of != judged_on:
                before = None
            recent = self._recent.get(program_id)
            if before is None and recent and recent[:2] == (program.version, judged_on):
                before = recent[2]
            if before is None:
                before = self._view(program, recorded_at, referrals, pending).assess(judged_on)
            program.record(
                event.type, event.event_id, event.occurred_on, event.payload, recorded_at
            )
        after = self._view(program, recorded_at, referrals, pending).assess(judged_on)
        views[program_id] = after
        old = {f.key() for f in before.findings} if before else set()
        body = {
            "program_id": str(program_id),
            "event_id": event.event_id,
            "version": program.version,
            "recorded_at": format_instant(recorded_at),
            "findings": [f.as_dict() for f in after.findings if f.key() not in old],
        }
        key = None
        if isinstance(event.data, ProgramReferred):
            key = event.data.referral.physician_referral_id or None
            pending.note_referral(program_id, key)
        row = IndexRow(
            event.event_id,
            program_id,
            program.version,
            recorded_at,
            event.type,
            sha,
            key,
            json.dumps(body),
        )
        return Receipt(201, body), program, row

    # ---- queries ----

    @staticmethod
    def describe(fact: Fact) -> dict[str, Any]:
        """One event of the stored trail, as the events endpoint shows it."""
        return {
            "version": fact.version,
            "event_id": fact.event_id,
            "type": fact.type,
            "occurred_on": fact.occurred_on.isoformat(),
            "recorded_at": format_instant(fact.recorded_at),
            "data": dump_data(fact.data),
            "hash": fact.hash,
            "prev_hash": fact.prev_hash,
        }

    def worker_of(self, program_id: UUID, known_at: datetime) -> dict[str, str] | None:
        """The worker's name and claim number on the program's referral as known at
        `known_at` (the worklist's names: the read model holds none); None if unknown."""
        version = self.index.version_known_at(program_id, known_at)
        if version is None:
            return None
        program = self.program(program_id)
        if version < program.version:
            program = program.at_version(version)
        elif version > program.version:
            program = self.repository.get(program_id, version=version)
        referral = program.referral
        if referral is None or not isinstance(referral.data, ProgramReferred):
            return None
        return {
            "worker_name": referral.data.worker.name,
            "claim_number": referral.data.claim.claim_number,
        }
