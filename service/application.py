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
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.persistence import (
    IntegrityError,
    MapperDeserialisationError,
    PersistenceError,
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
from domain.policy import PolicyCatalog, PolicyPack
from domain.program import Program, format_instant
from projections.compliance import Assessment, assess
from projections.due import DueList, due
from projections.referrals import (
    ReferralSpan,
    programs_before,
    referral_spans,
    standing_referral,
)
from service.integrity import TrailDamaged, verify_program
from service.persistence import IndexedRecorder, IndexRow

SAVE_ATTEMPTS = 20
RECENT_ASSESSMENTS = 2000
ALWAYS = datetime.max.replace(tzinfo=UTC)  # a `known_at` later than any record time
Referrals = dict[str, list[tuple[UUID, datetime]]]


@dataclass(frozen=True)
class Receipt:
    """What an ingest answers: `status` 201 for a new event, 200 for a repeat."""

    status: int
    body: dict[str, Any]


@dataclass(frozen=True)
class View:
    """A program as known at one instant: its trail and how it is judged."""

    program: Program
    known_at: datetime
    pack: PolicyPack
    pack_in_force: bool
    earlier_programs: list[str]

    def today(self) -> date:
        referral = self.program.referral
        zone = getattr(referral.data, "time_zone", None) if referral else None
        return datetime.now(stored_zone(zone)).date()

    def assess(self, as_of: date | None = None) -> Assessment:
        return assess(
            self.program.trail,
            self.pack,
            as_of or self.today(),
            pack_in_force=self.pack_in_force,
            earlier_programs_same_referral=self.earlier_programs,
        )

    def due(self, as_of: date | None = None) -> DueList:
        """What the program owes and has left as of `as_of` (default: today)."""
        return due(self.program.trail, self.pack, as_of or self.today())


def _fork_and_project(program: Program | None, events: Iterable[Any]) -> Program | None:
    # The library's fast-forward, copy on write: a program already handed out
    # (cached) is never changed; new events go to a fork of it.
    pending = list(events)
    if not pending:
        return program
    current: Any = program.fork() if program is not None else None
    for event in pending:
        current = event.mutate(current)
    return current  # type: ignore[no-any-return]


def _stored_version(program: Program | None, event_id: str) -> int | None:
    # The version at which the trail holds `event_id` (ids are lower-case UUIDs).
    if program is None:
        return None
    return next((f.version for f in program.trail if f.event_id == event_id), None)


def receipt_date(program: Program | None, occurred_on: date) -> date:
    """The business date a receipt is judged at (DOMAIN.md R11): the later of the
    event's `occurred_on` and the latest `occurred_on` already in the program."""
    if program is None or not program.trail:
        return occurred_on
    return max(occurred_on, max(fact.occurred_on for fact in program.trail))


# How many programs a tracker keeps in memory between requests (least recently used
# first out), unless told otherwise (WHT_PROGRAM_CACHE_SIZE).
PROGRAM_CACHE_SIZE = 2000


class Tracker(Application[UUID]):
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

    @property
    def index(self) -> IndexedRecorder:
        return self.recorder  # type: ignore[return-value]

    # ---- commands ----

    def ingest(self, program_id: UUID, event: NewEvent) -> Receipt:
        """Record one event (idempotent by event_id); answer as API.md's 201/200."""
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
        programs: dict[UUID, Program | None] = {}
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
                    receipts.append(self._repeat(prior, sha))
                    continue
                if program_id not in programs:
                    programs[program_id] = self._load(program_id)
                program = programs[program_id]
                stored = _stored_version(program, event.event_id)
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

    def _remember(self, program_id: UUID, version: int, today: date, after: Assessment) -> None:
        # The assessment after the last ingest is the "before" of the next one
        # (if nothing else was recorded meanwhile): half the work per event.
        self._recent[program_id] = (version, today, after)
        while len(self._recent) > RECENT_ASSESSMENTS:
            self._recent.pop(next(iter(self._recent)), None)

    def _repeat(self, prior: IndexRow, sha: str) -> Receipt:
        if prior.body_sha != sha:
            # Nothing of the program it went to: it may be another provider's.
            raise EventIdConflict(
                f"event_id {prior.event_id} was already recorded with a different body. Use a "
                "new event_id for a new event, or EntryRetracted to correct the old one."
            )
        try:
            body = json.loads(prior.result)
            if not isinstance(body, dict):
                raise ValueError("not an object")
        except ValueError:  # a garbled stored receipt: answer it again from the trail
            body = self._receipt_again(prior.program_id, prior.version)
        return Receipt(200, body)

    def _repeat_from_trail(
        self, program_id: UUID, program: Program | None, version: int, sha: str
    ) -> Receipt:
        assert program is not None
        fact = program.trail[version - 1]
        stored = NewEvent(fact.event_id, fact.type, fact.occurred_on, fact.data)
        if stored.body_sha(program_id) != sha:
            raise EventIdConflict(
                f"event_id {fact.event_id} was already recorded with a different body. Use a "
                "new event_id for a new event, or EntryRetracted to correct the old one."
            )
        return Receipt(200, self._receipt_again(program_id, version))

    def _receipt_again(self, program_id: UUID, version: int) -> dict[str, Any]:
        """The receipt of the event at `version`, derived again from the trail (the same
        judging as when it was recorded: before and after it, at R11's date)."""
        program = self.program(program_id)
        fact = program.trail[version - 1]
        earlier = program.at_version(version - 1) if version > 1 else None
        judged_on = receipt_date(earlier, fact.occurred_on)
        after = self._view(program.at_version(version), fact.recorded_at).assess(judged_on)
        old: set[tuple[str, str, date]] = set()
        if earlier is not None:
            before = self._view(earlier, fact.recorded_at).assess(judged_on)
            old = {f.key() for f in before.findings}
        return {
            "program_id": str(program_id),
            "event_id": fact.event_id,
            "version": version,
            "recorded_at": format_instant(fact.recorded_at),
            "findings": [f.as_dict() for f in after.findings if f.key() not in old],
        }

    def program(self, program_id: UUID) -> Program:
        """The program at its latest stored version, shared: read it, never change it.

        The library fast-forwards a cached aggregate in place with the events
        other processes stored, while other threads of this one may be copying
        or reading it ("dictionary changed size during iteration"). Here new
        events are applied to a fork instead, which then replaces the cached
        program: a program handed out is never changed after. Raises
        `AggregateNotFoundError` for an unknown program.
        """
        try:
            program: Program = self.repository.get(
                program_id, projector_func=_fork_and_project, deepcopy_from_cache=False
            )
        except (AggregateNotFoundError, TrackerError, PersistenceError):
            raise  # unknown program, a refusal, the store unreachable: not damage
        except Exception as exc:  # the stored trail no longer replays
            raise self.damaged(program_id, exc) from None
        cache = self.repository.cache
        if cache is not None:
            try:
                cached = cache.get(program_id)
            except KeyError:
                cached = None
            if cached is not program and (cached is None or cached.version < program.version):
                cache.put(program_id, program)
        return program

    def damaged(self, program_id: UUID, exc: BaseException) -> TrailDamaged:
        """The refusal for a program whose stored trail no longer replays: where the
        hash chain breaks, so that nobody is answered from a trail that was altered."""
        report = verify_program(self.recorder, self.mapper, program_id, self.index)
        # Encrypted events that no longer decrypt: altered, or read with another key.
        hint = (
            " (or WHT_CIPHER_KEY is not the key its events were stored with)"
            if self.mapper.cipher is not None and isinstance(exc, MapperDeserialisationError)
            else ""
        )
        return TrailDamaged(
            f"The stored trail of program {program_id} cannot be replayed ({type(exc).__name__})"
            f"; its hash chain is broken at version {report.first_bad_version}{hint}. "
            f"GET /v1/programs/{program_id}/integrity lists the damage.",
            first_bad_version=report.first_bad_version,
        )

    def _load(self, program_id: UUID) -> Program | None:
        try:
            cached = self.program(program_id)
        except AggregateNotFoundError:
            return None
        # Commands work on a fork: the cached program is shared with readers and
        # must not show an event until it is saved.
        return cached.fork()

    def _apply(
        self,
        program_id: UUID,
        program: Program | None,
        event: NewEvent,
        sha: str,
        views: dict[UUID, Assessment | None],
        referrals: Referrals,
        pending: dict[UUID, Program | None],
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

    def _view(
        self,
        program: Program,
        known_at: datetime,
        referrals: Referrals | None = None,
        pending: dict[UUID, Program | None] | None = None,
    ) -> View:
        """`program` judged as known at `known_at`. `referrals` caches, per physician
        referral id, every program on it with its first record time (as of any time);
        `pending` holds a batch's programs not saved yet."""
        referral = program.referral
        if referral is None:
            pack = self.catalog.packs[self.catalog.default_id]
            return View(program, known_at, pack, True, [])
        data: ProgramReferred = referral.data  # type: ignore[assignment]
        pack, in_force = self.catalog.for_referral(referral.occurred_on, data.policy)
        earlier = self.earlier_programs(program, known_at, referrals, pending)
        return View(program, known_at, pack, in_force, earlier)

    def earlier_programs(
        self,
        program: Program,
        known_at: datetime,
        referrals: Referrals | None = None,
        pending: dict[UUID, Program | None] | None = None,
    ) -> list[str]:
        """The other programs standing on `program`'s physician referral id as known
        at `known_at` whose referral came first (COV-1, DOMAIN.md R5): first in
        business time, then record time, then program id. Retracted and re-posted
        referrals count as they stood at `known_at`."""
        mine = standing_referral(referral_spans(program.id, program.trail), known_at)
        if mine is None:
            return []
        others: list[ReferralSpan] = []
        for pid in self.programs_on_referral(mine.key, known_at, referrals, pending):
            if pid != program.id:
                others.extend(self.referral_spans_of(pid, pending))
        return programs_before(mine, others, known_at)

    def programs_on_referral(
        self,
        key: str,
        known_at: datetime,
        referrals: Referrals | None = None,
        pending: dict[UUID, Program | None] | None = None,
    ) -> list[UUID]:
        """Every program that named physician referral id `key` in a referral recorded
        by `known_at` (standing or not: `earlier_programs` decides)."""
        if referrals is None:
            rows = self.index.programs_with_referral(key, known_at)
        else:
            if key not in referrals:
                referrals[key] = self.index.programs_with_referral(key, ALWAYS)
            # MIN(recorded_at) over rows up to known_at is the overall first when
            # that is up to known_at, and there is none otherwise.
            rows = [(pid, first) for pid, first in referrals[key] if first <= known_at]
        found = [pid for pid, _ in rows]
        for pid, program in (pending or {}).items():
            on_key = program is not None and any(
                span.key == key for span in referral_spans(pid, program.trail)
            )
            if on_key and pid not in found:
                found.append(pid)
        return found

    def referral_spans_of(
        self, program_id: UUID, pending: dict[UUID, Program | None] | None = None
    ) -> list[ReferralSpan]:
        """The referrals of a stored (or pending) program that name a referral id."""
        # The whole stored trail: spans carry their record and retraction times,
        # so `standing(known_at)` cuts them at any instant.
        program = (pending or {}).get(program_id)
        if program is None:
            program = self.program(program_id)
        return referral_spans(program_id, program.trail)

    def judged(
        self, program: Program, known_at: datetime, referrals: Referrals | None = None
    ) -> View:
        """How `program` (at its loaded version) is judged as known at `known_at`:
        its pack, whether the pack was in force, and the earlier programs on the
        same physician referral (COV-1). The read model judges each version so.
        `referrals` may cache the programs on each referral id across calls, when
        no program can be stored meanwhile with a record time up to `known_at`."""
        return self._view(program, known_at, referrals)

    def view(self, program_id: UUID, known_at: datetime | None = None) -> View:
        """The program as the tracker knew it at `known_at` (default: now)."""
        instant = known_at or self.clock()
        version = self.index.version_known_at(program_id, instant)
        if version is None:
            raise ProgramNotFound(
                f"Program {program_id} is not known"
                + (f" at {format_instant(instant)}." if known_at else ".")
            )
        program = self.program(program_id)
        if version < program.version:
            program = program.at_version(version)
        elif version > program.version:  # another writer, between the two reads
            program = self.repository.get(program_id, version=version)
        return self._view(program, instant)

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
