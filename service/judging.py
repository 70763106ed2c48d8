"""How a program is judged as known at an instant, and the programs the tracker shares.

One place decides what judging a program needs besides its facts (its policy pack,
whether the pack was in force on the referral date, and the earlier programs on
its client's injury, COV-1): `/compliance`, receipts, the audit replay, bundles
and the read model all go through `Judging._view`. Programs are read from the
library's cache, shared between requests and never changed once handed out.
"""

from __future__ import annotations

import contextlib
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.persistence import MapperDeserialisationError, PersistenceError

from domain.chain import check_stored_event
from domain.errors import ProgramNotFound, TrackerError
from domain.events import ProgramReferred
from domain.intake import stored_zone
from domain.policy import PolicyCatalog, PolicyPack
from domain.program import GENESIS_HASH, Program, format_instant
from projections.compliance import Assessment
from projections.due import DueList, due_list
from projections.fold import Context, Fold
from projections.referrals import (
    ReferralSpan,
    programs_before,
    spans_of,
    standing_referral,
)
from service.integrity import TrailDamaged, verify_program
from service.persistence import IndexedRecorder

ALWAYS = datetime.max.replace(tzinfo=UTC)  # a `known_at` later than any record time
PAST_FOLDS = 256  # folds of earlier versions kept for known_at reads
Referrals = dict[str, list[tuple[UUID, datetime]]]


class Folds:
    """Programs' folds (`projections.fold`), shared between requests and threads.

    At most `size` of them, the least recently used dropped first. A fold handed
    out is never changed: an ingest folds its event into a copy (`Fold.with_fact`)
    and puts that here once the event is stored.
    """

    def __init__(self, size: int, past: int = PAST_FOLDS) -> None:
        self.size = size
        self.past = past
        self._folds: OrderedDict[UUID, Fold] = OrderedDict()
        # Folds of earlier versions (`known_at` reads: an auditor's page, its report
        # and its bundle read one version several times), fewer of them.
        self._past: OrderedDict[tuple[UUID, int], Fold] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, program: Program, context: Context) -> Fold | None:
        """The fold of `program` at its version judged by `context`, if held."""
        with self._lock:
            fold = self._folds.get(program.id)
            if fold is not None and fold.version == program.version:
                self._folds.move_to_end(program.id)
            else:
                fold = self._past.get((program.id, program.version))
                if fold is not None:
                    self._past.move_to_end((program.id, program.version))
            return fold if fold is not None and fold.context == context else None

    def forget(self, program_id: UUID) -> None:
        """Drop every fold of a program (its stored trail was found to differ)."""
        with self._lock:
            self._folds.pop(program_id, None)
            for key in [k for k in self._past if k[0] == program_id]:
                del self._past[key]

    def put(self, program_id: UUID, fold: Fold) -> None:
        with self._lock:
            held = self._folds.get(program_id)
            if held is not None and held.version > fold.version:
                # An older version (a known_at read) never replaces the latest.
                self._past[(program_id, fold.version)] = fold
                self._past.move_to_end((program_id, fold.version))
                while len(self._past) > self.past:
                    self._past.popitem(last=False)
                return
            self._folds[program_id] = fold
            self._folds.move_to_end(program_id)
            while len(self._folds) > self.size:
                self._folds.popitem(last=False)

    def fold(self, program: Program, context: Context) -> Fold:
        """The fold of `program` judged by `context`: held, or folded now and held."""
        found = self.get(program, context)
        if found is None:
            found = Fold.of(program.trail, context)
            self.put(program.id, found)
        return found


@dataclass(frozen=True)
class View:
    """A program as known at one instant: its trail and how it is judged."""

    program: Program
    known_at: datetime
    pack: PolicyPack
    pack_in_force: bool
    earlier_programs: list[str]
    folds: Folds | None = field(default=None, compare=False, repr=False)

    @property
    def context(self) -> Context:
        """How the program is judged, as its fold takes it."""
        return Context(self.pack, self.pack_in_force, tuple(self.earlier_programs))

    def today(self) -> date:
        referral = self.program.referral
        zone = getattr(referral.data, "time_zone", None) if referral else None
        return datetime.now(stored_zone(zone)).date()

    def fold(self) -> Fold:
        """The program's fold: the one judge every answer about it reads."""
        if self.folds is None:
            return Fold.of(self.program.trail, self.context)
        return self.folds.fold(self.program, self.context)

    def assess(self, as_of: date | None = None) -> Assessment:
        """The program's figures, findings and billing as of `as_of` (default: today)."""
        return self.fold().at(as_of or self.today())

    def due(self, as_of: date | None = None) -> DueList:
        """What the program owes and has left as of `as_of` (default: today)."""
        return due_list(self.fold().filing.record(as_of or self.today()), self.pack)


def _fork_and_project(program: Program | None, events: Iterable[Any]) -> Program | None:
    # The library's fast-forward, copy on write: a program already handed out
    # (cached) is never changed; new events go to a fork of it. Every event read
    # back from the store must continue the hash chain (ChainBroken otherwise: the
    # caller answers that the trail is damaged, never with an altered fact).
    pending = list(events)
    if not pending:
        return program
    current: Any = program.fork() if program is not None else None
    for event in pending:
        check_stored_event(
            event.originator_id, current.last_hash if current is not None else GENESIS_HASH, event
        )
        current = event.mutate(current)
    return current  # type: ignore[no-any-return]


class Batch(dict[UUID, Program | None]):
    """A batch's programs by id, not saved yet (None: not found), and which of them
    the batch refers anew, by index key (`projections.referrals.index_key`): those
    referrals are not in the index until the batch is saved (`note_referral` as
    each is applied)."""

    def __init__(self) -> None:
        super().__init__()
        self.referred: dict[str, list[UUID]] = {}

    def note_referral(self, program_id: UUID, key: str | None) -> None:
        if key and program_id not in self.referred.setdefault(key, []):
            self.referred[key].append(program_id)


class Judging(Application[UUID]):
    """The tracker's reads of one program: shared, judged, as known at an instant."""

    catalog: PolicyCatalog
    clock: Callable[[], datetime]
    folds: Folds

    @property
    def index(self) -> IndexedRecorder:
        return self.recorder  # type: ignore[return-value]

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

    def forget_program(self, program_id: UUID) -> None:
        """Drop what this process holds of a program (its cached trail and folds): the
        next read takes it from the store."""
        cache = self.repository.cache
        if cache is not None:
            with contextlib.suppress(KeyError):  # not cached
                cache.get(program_id, evict=True)
        self.folds.forget(program_id)

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

    def _view(
        self,
        program: Program,
        known_at: datetime,
        referrals: Referrals | None = None,
        pending: Batch | None = None,
    ) -> View:
        """`program` judged as known at `known_at`. `referrals` caches, per index key
        (`projections.referrals`), every program filed under it with its first record
        time (as of any time); `pending` holds a batch's programs not saved yet."""
        referral = program.referral
        if referral is None:
            pack = self.catalog.packs[self.catalog.default_id]
            return View(program, known_at, pack, True, [], self.folds)
        data: ProgramReferred = referral.data  # type: ignore[assignment]
        pack, in_force = self.catalog.for_referral(referral.occurred_on, data.policy)
        earlier = self.earlier_programs(program, known_at, referrals, pending)
        return View(program, known_at, pack, in_force, earlier, self.folds)

    def earlier_programs(
        self,
        program: Program,
        known_at: datetime,
        referrals: Referrals | None = None,
        pending: Batch | None = None,
    ) -> list[str]:
        """The other programs standing on `program`'s injury as known at `known_at`
        (the same worker, sharing its physician referral id or claim number: COV-1,
        docs/domain.md R16) whose referral came first (R5): first in business time,
        then record time, then program id. Retracted and re-posted referrals count
        as they stood at `known_at`. Each as `projections.referrals.earlier_entry`
        names it: its id and what it shares."""
        mine = standing_referral(
            spans_of(program.id, program.referrals, program.retractions), known_at
        )
        if mine is None:
            return []
        others: list[ReferralSpan] = []
        seen: set[UUID] = {program.id}
        for key in mine.lookup_keys:
            for pid in self.programs_on_referral(key, known_at, referrals, pending):
                if pid not in seen:
                    seen.add(pid)
                    others.extend(self.referral_spans_of(pid, pending))
        return programs_before(mine, others, known_at)

    def programs_on_referral(
        self,
        key: str,
        known_at: datetime,
        referrals: Referrals | None = None,
        pending: Batch | None = None,
    ) -> list[UUID]:
        """Every program filed under index `key` (`projections.referrals.index_key`: a
        worker) by a referral recorded by `known_at` (standing or not, sharing the
        injury or not: `earlier_programs` decides)."""
        if referrals is None:
            rows = self.index.programs_with_referral(key, known_at)
        else:
            if key not in referrals:
                referrals[key] = self.index.programs_with_referral(key, ALWAYS)
            # MIN(recorded_at) over rows up to known_at is the overall first when
            # that is up to known_at, and there is none otherwise.
            rows = [(pid, first) for pid, first in referrals[key] if first <= known_at]
        found = [pid for pid, _ in rows]
        if isinstance(pending, Batch):
            # Only a referral of this very batch is not in the index yet.
            found += [pid for pid in pending.referred.get(key, ()) if pid not in found]
        return found

    def referral_spans_of(
        self, program_id: UUID, pending: Batch | None = None
    ) -> list[ReferralSpan]:
        """The referrals of a stored (or pending) program that can share an injury."""
        # The whole stored trail: spans carry their record and retraction times,
        # so `standing(known_at)` cuts them at any instant.
        program = pending.get(program_id) if pending is not None else None
        if program is None:
            program = self.program(program_id)
        return spans_of(program_id, program.referrals, program.retractions)

    def judged(
        self, program: Program, known_at: datetime, referrals: Referrals | None = None
    ) -> View:
        """How `program` (at its loaded version) is judged as known at `known_at`:
        its pack, whether the pack was in force, and the earlier programs on the
        same injury (COV-1, docs/domain.md R16). The read model judges each version
        so. `referrals` may cache the programs under each index key across calls,
        when no program can be stored meanwhile with a record time up to `known_at`."""
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
