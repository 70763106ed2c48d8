"""The regulator's read model: every program's timeline, on both time axes.

A regulator asks "which programs of provider X were over the daily cap as of
March 1, as we knew it on March 15?" across thousands of programs. Folding
each program's trail per request does not scale, so this projection keeps,
for each program, its timeline (`projections.timeline`) as rows:

- business time: each row holds for `[valid_from, valid_to)`;
- system time: each row was recorded at `recorded_from` (the recorded_at of
  the event that produced it) and holds until `superseded_at` (the recorded_at
  of the event that changed it), "infinity" while current.

On each event the program's new timeline is diffed against its current rows:
changed rows are superseded, new ones inserted, unchanged ones left alone.
The rows and the library's tracking record are written in one transaction
(for one event, or for a batch of consecutive events tracked at the last),
so each event is applied exactly once and a restarted projection resumes
after the last event it recorded.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import replace
from datetime import date, datetime
from typing import Any, Protocol, TypeVar
from uuid import UUID

from eventsourcing.persistence import Tracking
from eventsourcing.projection import Projection

from domain.events import ProgramReferred
from domain.policy import PolicyPack
from domain.program import Program
from projections import due
from projections.fold import Context, Fold
from projections.timeline import FindingSegment, StateSegment, Timeline
from service.readmodel.partitions import Partition
from service.readmodel.view import CurrentProgram, ProgramChange, ReadModelRecorder

PROGRAM_CACHE_SIZE = 2048
# Events that can change another program's judgement (COV-1 across programs).
REJUDGING_TYPES = frozenset({"ProgramReferred", "EntryRetracted"})
T = TypeVar("T")


class Judged(Protocol):
    """What judging a program needs besides its facts (see `Tracker.judged`)."""

    @property
    def pack(self) -> PolicyPack: ...

    @property
    def pack_in_force(self) -> bool: ...

    @property
    def earlier_programs(self) -> Sequence[str]: ...

    @property
    def context(self) -> Context:
        """The three above, as the program's fold takes them."""
        ...


class Judge(Protocol):
    """The application, as the projection sees it: load a program, judge it."""

    def load(self, program_id: UUID, version: int) -> Program: ...

    def judged(self, program: Program, known_at: datetime) -> Judged: ...

    def on_same_referral(self, program: Program, known_at: datetime) -> list[UUID]:
        """Other programs that may share an injury with any referral `program` made
        (COV-1, docs/domain.md R16: the same worker): a superset is fine."""
        ...


def provider_of(program: Program) -> str:
    """The provider of the referral in force, else of the first referral (as api/auth does)."""
    referral = program.referral
    if referral is None:
        referral = program.referrals[0] if program.referrals else None
    if referral is None or not isinstance(referral.data, ProgramReferred):
        return ""
    return referral.data.provider_id


def diff(
    program_id: UUID,
    current: CurrentProgram | None,
    program: Program,
    provider: str,
    inputs: str,
    timeline: Timeline,
) -> ProgramChange:
    """The rows to supersede and to add to go from `current` to `timeline`.

    Rows carry the provider (for the provider filter), so a new provider
    changes every row; otherwise only the segments that differ change.
    """
    new_states = set(timeline.state_segments())
    new_findings = set(timeline.finding_segments())
    old_states: set[StateSegment] = set()
    old_findings: set[FindingSegment] = set()
    if current is not None:
        old_states = set(current.timeline.state_segments())
        old_findings = set(current.timeline.finding_segments())
    if current is not None and current.provider_id != provider:
        retired_states, added_states = old_states, new_states
        retired_findings, added_findings = old_findings, new_findings
    else:
        retired_states, added_states = old_states - new_states, new_states - old_states
        retired_findings, added_findings = old_findings - new_findings, new_findings - old_findings
    return ProgramChange(
        program_id,
        program.version,
        program.modified_on,
        provider,
        inputs,
        timeline,
        tuple(sorted(retired_states, key=_state_key)),
        tuple(sorted(added_states, key=_state_key)),
        tuple(sorted(retired_findings, key=_finding_key)),
        tuple(sorted(added_findings, key=_finding_key)),
    )


def _state_key(segment: StateSegment) -> date:
    return segment.valid_from


def _finding_key(segment: FindingSegment) -> tuple[str, date]:
    return (segment.code, segment.valid_from)


class ComplianceReadModel(Projection[ReadModelRecorder]):
    """Projects each program event into the regulator's read model (see the module doc).

    It keeps, per program, the `Program` at its last projected version and
    what it last wrote for it (its `CurrentProgram`), so the next event of the
    program neither reloads the aggregate nor reads the row back. `change_for`
    advances both before the change is written, so that several changes of one
    program can be written in one transaction; whoever writes them must call
    `forget()` if the write fails.
    """

    name = "wht_compliance"

    def __init__(
        self, view: ReadModelRecorder, judge: Judge, partition: Partition | None = None
    ) -> None:
        super().__init__(view)
        self.judge = judge
        # Only this partition's programs are projected (`service.readmodel.partitions`).
        self.partition = partition if partition is not None else Partition(0, 1)
        self._programs: OrderedDict[UUID, Program] = OrderedDict()
        self._current: OrderedDict[UUID, CurrentProgram] = OrderedDict()
        # Each program's fold at its last projected version: the next event is
        # folded into it (`projections.fold`), not the whole trail judged again.
        self._folds: OrderedDict[UUID, Fold] = OrderedDict()

    def forget(self) -> None:
        """Drop the cached programs (after a failed transaction, before resuming)."""
        self._programs.clear()
        self._current.clear()
        self._folds.clear()

    def process_event(self, domain_event: Any, tracking: Tracking) -> None:
        """Re-derive the program's timeline at this version; record the difference."""
        changes = self.changes_for(domain_event)
        try:
            self.view.record_many(changes, tracking)
        except BaseException:
            for change in changes:
                self._programs.pop(change.program_id, None)
                self._current.pop(change.program_id, None)
                self._folds.pop(change.program_id, None)
            raise

    def changes_for(self, domain_event: Any) -> list[ProgramChange]:
        """The event's own change, then those of the programs it re-judges (COV-1).

        A referral, or a retraction (of a referral, perhaps), can change which
        program came first on one client's injury (the same worker's physician
        referral id or claim number: docs/domain.md R5, R16), and so the COV-1
        finding of every other program of that worker, as of this event's record
        time: each such program's timeline is judged again then.
        """
        owns = self.partition.owns
        if owns(domain_event.originator_id):
            change = self.change_for(domain_event)
            if domain_event.type not in REJUDGING_TYPES:
                return [change]
            program = self._programs[change.program_id]
            changes = [change]
        elif domain_event.type in REJUDGING_TYPES:
            # Another partition's program: read only for its referrals, so that this
            # partition re-judges its own programs of the same worker, at this event.
            program = self._foreign(domain_event)
            changes = []
        else:
            return []
        known_at = program.modified_on
        for other in self.judge.on_same_referral(program, known_at):
            if owns(other):
                again = self._rejudged(other, known_at)
                if again is not None:
                    changes.append(again)
        return changes

    def _foreign(self, domain_event: Any) -> Program:
        # Another partition's program at this event's version (never cached here).
        version: int = domain_event.originator_version
        if version == 1:
            program: Program = domain_event.mutate(None)
            return program
        return self.judge.load(domain_event.originator_id, version)

    def _rejudged(self, program_id: UUID, known_at: datetime) -> ProgramChange | None:
        # The program at the version last projected for it, judged as known at
        # `known_at`; None when it has no rows yet (its own events will judge it).
        current = self._current.get(program_id) or self.view.current(program_id)
        if current is None:
            return None
        cached = self._programs.get(program_id)
        program = (
            cached
            if cached is not None and cached.version == current.version
            else self.judge.load(program_id, current.version)
        )
        judged = self.judge.judged(program, known_at)
        inputs = json.dumps([judged.pack.id, judged.pack_in_force, sorted(judged.earlier_programs)])
        if inputs == current.inputs:
            return None
        fold = Fold.of(program.trail, judged.context)
        _remember(self._folds, program_id, fold)
        timeline = fold.timeline()
        change = replace(
            diff(program_id, current, program, provider_of(program), inputs, timeline),
            recorded_at=known_at,
        )
        _remember(self._programs, program_id, program)
        _remember(
            self._current,
            program_id,
            CurrentProgram(change.version, change.provider_id, change.inputs, change.timeline),
        )
        return change

    def change_for(self, domain_event: Any) -> ProgramChange:
        """The read model's change for one event, to be recorded next (see the class doc)."""
        program_id: UUID = domain_event.originator_id
        program = self._program(program_id, domain_event)
        judged = self.judge.judged(program, program.modified_on)
        inputs = json.dumps([judged.pack.id, judged.pack_in_force, sorted(judged.earlier_programs)])
        provider = provider_of(program)
        current = self._current_of(program_id, program.version)
        fold = self._fold(program, judged.context)
        change = diff(program_id, current, program, provider, inputs, fold.timeline())
        # Due dates depend on the facts and the pack only: re-derived for the program's
        # own events, never when another program re-judges it (COV-1), and only for
        # the facts the due list reads (a session leaves it as it was).
        if current is None or current.inputs != inputs or domain_event.type in due.READS:
            change = replace(change, due=due.due_segments(program.trail, judged.pack, fold.filing))
        _remember(
            self._current,
            program_id,
            CurrentProgram(change.version, change.provider_id, change.inputs, change.timeline),
        )
        return change

    def _fold(self, program: Program, context: Context) -> Fold:
        # The program's fold at its version: the cached one with the new event
        # folded in when it is at the version before and judged alike, else anew.
        cached = self._folds.pop(program.id, None)
        if cached is not None and cached.context == context:
            if cached.version == program.version - 1:
                cached.add(program.trail[-1])
                fold = cached
            elif cached.version == program.version:
                fold = cached
            else:
                fold = Fold.of(program.trail, context)
        else:
            fold = Fold.of(program.trail, context)
        _remember(self._folds, program.id, fold)
        return fold

    def _current_of(self, program_id: UUID, version: int) -> CurrentProgram | None:
        # What the read model holds for the program before `version`. The cache
        # is trusted only when it holds the version just before (what this
        # projection last wrote or is about to); anything else is read back.
        cached = self._current.pop(program_id, None)
        if cached is not None and cached.version == version - 1:
            return cached
        return self.view.current(program_id)

    def _program(self, program_id: UUID, domain_event: Any) -> Program:
        version: int = domain_event.originator_version
        cached = self._programs.pop(program_id, None)
        program: Program | None = None
        if version == 1:
            program = domain_event.mutate(None)
        elif cached is not None and cached.version == version - 1:
            program = domain_event.mutate(cached)
        if program is None:
            program = self.judge.load(program_id, version)
        _remember(self._programs, program_id, program)
        return program


def _remember(cache: OrderedDict[UUID, T], program_id: UUID, value: T) -> None:
    # Most recently used last; the least recently used go past PROGRAM_CACHE_SIZE.
    cache[program_id] = value
    while len(cache) > PROGRAM_CACHE_SIZE:
        cache.popitem(last=False)
