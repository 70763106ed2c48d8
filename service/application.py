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
from datetime import UTC, datetime, timedelta
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
    TrailGap,
    VersionConflict,
)
from domain.events import EntryRetracted, ProgramReferred, dump_data
from domain.facts import Fact
from domain.intake import NewEvent, refuse_future_dates, stored_zone, time_zone
from domain.policy import PolicyCatalog
from domain.program import Program, format_instant
from projections.fold import Fold, added, changes
from projections.referrals import index_key, lookup_keys, spans_of
from service.integrity import TrailDamaged
from service.judging import ALWAYS, Batch, Folds, Referrals, View
from service.persistence import IndexRow
from service.readmodel.projection import provider_of
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
        # Each program's fold at its latest version (`projections.fold`): an ingest
        # folds its event into it, a read answers from it.
        self.folds = Folds(program_cache_size)
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
        folds: dict[UUID, Fold] = {}  # the batch's programs' folds, after their last event
        seen: dict[str, tuple[str, int]] = {}
        receipts: list[Receipt | None] = []
        rows: dict[tuple[UUID, int], IndexRow] = {}
        failures: list[dict[str, Any]] = []
        # One query for every event id of the batch, and one per COV-1 index key (a
        # worker): the batch writes nothing before its save, so neither answer changes.
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
                    program_id, program, event, sha, folds, referrals, programs
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
            try:
                self.save(*touched, index_rows=rows)
            except TrailGap:
                # The store lost versions this server had read: read them afresh.
                for program in touched:
                    self.forget_program(program.id)
                raise
            for program in touched:
                fold = folds.get(program.id)
                if fold is not None and fold.version == program.version:
                    self.folds.put(program.id, fold)
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

    def _apply(
        self,
        program_id: UUID,
        program: Program | None,
        event: NewEvent,
        sha: str,
        folds: dict[UUID, Fold],
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
        before: Fold | None = None
        if program is None:
            program = Program.refer(
                program_id, event.event_id, event.occurred_on, event.payload, recorded_at
            )
        else:
            # The program's fold before the event, judged as known now: the batch's,
            # the shared one, or folded now.
            context = self._view(program, recorded_at, referrals, pending).context
            before = folds.get(program_id)
            if before is None or before.version != program.version or before.context != context:
                before = self.folds.get(program, context) or Fold.of(program.trail, context)
            program.record(
                event.type, event.event_id, event.occurred_on, event.payload, recorded_at
            )
        # Only a referral or a retraction can change how the program is judged (its
        # pack, COV-1's earlier programs); any other event is folded into the fold.
        if before is None or isinstance(event.data, ProgramReferred | EntryRetracted):
            context = self._view(program, recorded_at, referrals, pending).context
        if before is not None and before.context == context:
            after = before.with_fact(program.trail[-1])
        else:
            after = Fold.of(program.trail, context)
        folds[program_id] = after
        found = changes(before, after, judged_on)
        body: dict[str, Any] = {
            "program_id": str(program_id),
            "event_id": event.event_id,
            "version": program.version,
            "recorded_at": format_instant(recorded_at),
            "findings": [f.as_dict() for f in found],
        }
        key = None
        if isinstance(event.data, ProgramReferred):
            key = index_key(event.data)  # its worker (COV-1, docs/domain.md R16)
            pending.note_referral(program_id, key)
        if isinstance(event.data, ProgramReferred | EntryRetracted):
            pending[program_id] = program  # the other programs are judged with it
            others = self._others(program, recorded_at, referrals, pending, folds)
            if others:
                body["others"] = others
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

    def _others(
        self,
        program: Program,
        recorded_at: datetime,
        referrals: Referrals,
        pending: Batch,
        folds: dict[UUID, Fold],
    ) -> list[dict[str, Any]]:
        """The findings a referral or a retraction added to *other* programs (R13): those
        of the same worker (any of its referrals') whose earlier programs (COV-1,
        docs/domain.md R16) it changed, each judged at its own receipt date (R11),
        just before and as of this event. Each entry names the other program's
        provider, for `visible_others` and the alerts; the HTTP answer leaves it out."""
        keys = lookup_keys(spans_of(program.id, program.referrals, program.retractions))
        just_before = recorded_at - timedelta(microseconds=1)
        found: list[dict[str, Any]] = []
        seen: set[UUID] = {program.id}
        for key in keys:
            for other_id in self.programs_on_referral(key, recorded_at, referrals, pending):
                if other_id in seen:
                    continue
                seen.add(other_id)
                other = pending.get(other_id) or self.program(other_id)
                was = self._view(other, just_before, referrals, pending).context
                now = self._view(other, recorded_at, referrals, pending).context
                if was == now or not other.trail:
                    continue
                before = folds.get(other_id)
                if before is None or before.version != other.version or before.context != was:
                    before = self.folds.get(other, was) or Fold.of(other.trail, was)
                after = Fold.of(other.trail, now)
                on = receipt_date(other, other.trail[-1].occurred_on)
                changed = added(before.findings_at(on), after.findings_at(on))
                if changed:
                    found.append(
                        {
                            "program_id": str(other_id),
                            "provider_id": provider_of(other),
                            "findings": [f.as_dict() for f in changed],
                        }
                    )
        return found

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
