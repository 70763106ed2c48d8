"""The audit replay's steps, each derived from the step before it.

The replay judges every prefix of a trail as of one business date. Judging
each prefix from scratch costs the prefix's length, every step: quadratic in
the trail. Here one `Filing` takes the facts one at a time, and each step
re-runs only what the new fact can change:

- a fact that files or retracts a singleton (referral, admission, evaluation,
  discharge, report), or that changes the pack the trail is judged by, may
  change every date: that step is judged whole, as `assess` would;
- any other fact changes the record from one date X on (its own date; for a
  retraction, its target's). The rules that read sessions (`RULES` marked
  `week_local` in `projections.compliance`) read, for a finding, only the sessions of its
  own program week besides the singletons, so they are re-run on the
  sessions from the first day of X's program week (W) on, and their findings
  dated before W are the previous step's. The other rules read no session;
  each is re-run on the whole record when a type it reads changed
  (`Rule.reads`: a late re-evaluation may change the message of a finding
  dated long before it), and answers as before otherwise;
- merged findings dated before W are the previous step's as long as those
  other rules' findings dated before W are unchanged (checked); the COV-2
  ledger's reimbursable days (at most the pack's days a week times its weeks)
  are kept the same way, for the figures and the billing.

The oracle is the whole-trail `assess` on each prefix: the differential test
compares every step with it, findings, messages, figures and billing.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from operator import attrgetter, itemgetter
from typing import NamedTuple

from domain.events import EntryRetracted, ProgramReferred, SessionLogged
from domain.facts import Fact
from domain.policy import PolicyPack
from projections.calendar import week_first_day, week_number
from projections.compliance import (
    ATTENDANCE_READS,
    REASONS_READS,
    RULES,
    RuleInputs,
    assessment_of,
    merge_findings,
)
from projections.filing import Changed, Filing
from projections.model import Assessment, BillingDay, Finding
from projections.record import ProgramRecord
from projections.rules.attendance import Attendance, attendance
from projections.rules.coding import billing_days
from projections.rules.coverage import DayLedger, day_ledger
from projections.rules.discharge import discharge_reasons

Tagged = tuple[int, Finding]  # a finding and the index in RULES of the rule that found it
Dated = tuple[date, int, Finding]  # the same, with its date first, for bisection
_first = itemgetter(0)
_finding_date = attrgetter("occurred_on")
SESSION_KINDS = frozenset([SessionLogged])


@dataclass(frozen=True)
class Judgement:
    """How a trail is judged: the pack, whether it was in force, and COV-1's context."""

    pack: PolicyPack
    in_force: bool
    earlier_programs: tuple[str, ...] = ()


@dataclass(frozen=True)
class Stepped:
    """One prefix's assessment, and how many of its leading (merged) findings are
    the very ones of the prefix before (all of them when the step changed nothing)."""

    assessment: Assessment
    shared: int


@dataclass(frozen=True)
class _State:
    """One step's judgement, kept for the next step."""

    judged: Judgement
    week_local: tuple[Dated, ...]  # the session rules' findings, by date (stable)
    others: tuple[Tagged, ...]  # every other rule's findings
    counts: Attendance
    reasons: tuple[str, ...]
    billed: tuple[_Billed, ...]  # COV-2's reimbursable days and their billing, by date
    assessment: Assessment
    shared: int  # leading findings that are the previous step's


class _Billed(NamedTuple):
    day: date
    hours: Decimal
    billing: BillingDay | None


def window_start(record: ProgramRecord, day: date) -> date:
    """The first day of `day`'s program week; `day` itself before admission (outside
    the program each date stands alone)."""
    start = record.admitted_on
    if start is None or day < start:
        return day
    return week_first_day(start, week_number(start, day))


def _week_local(given: RuleInputs) -> list[Tagged]:
    # The session rules' findings, each tagged with its rule's place in RULES.
    return [
        (index, finding)
        for index, rule in enumerate(RULES)
        if rule.week_local
        for finding in rule.find(given)
    ]


def _others(
    given: RuleInputs, changed: frozenset[type] | None, kept: Sequence[Tagged]
) -> list[Tagged]:
    # The other rules' findings: a rule that reads none of the `changed` types
    # (None: every type) answers as before, in `kept`.
    found: list[Tagged] = []
    for index, rule in enumerate(RULES):
        if rule.week_local:
            continue
        if changed is None or rule.reads & changed:
            found.extend((index, finding) for finding in rule.find(given))
        else:
            found.extend(pair for pair in kept if pair[0] == index)
    return found


def _merged(tagged: Sequence[Tagged]) -> tuple[Finding, ...]:
    # In RULES order, as `judge` lists them: merging joins a key's messages in that order.
    return merge_findings([finding for _, finding in sorted(tagged, key=_first)])


def _judge(
    filing: Filing,
    judged: Judgement,
    as_of: date,
    changed: Changed,
    previous: _State | None,
) -> _State:
    """The state after a fact; `previous` None (or `changed.since` None): judged whole."""
    pack = judged.pack
    record = filing.record(as_of)
    since = changed.since
    window = None if previous is None or since is None else window_start(record, since)
    local_record = record if window is None else filing.record(as_of, sessions_since=window)
    ledger = day_ledger(local_record, pack)
    kinds = None if previous is None or window is None else changed.kinds
    if kinds is None or previous is None:
        counts = attendance(record, pack)
        reasons = discharge_reasons(record, pack, counts)
        others = tuple(_others(_inputs(record, judged, ledger, counts), None, ()))
    elif kinds <= SESSION_KINDS:  # the rules that read no session answer as before
        others, counts, reasons = previous.others, previous.counts, previous.reasons
    else:
        counts = previous.counts
        if kinds & ATTENDANCE_READS:
            counts = attendance(record, pack)
        reasons = previous.reasons
        if kinds & REASONS_READS:
            reasons = discharge_reasons(record, pack, counts)
        given = _inputs(record, judged, ledger, counts)
        others = tuple(_others(given, kinds, previous.others))
    found = _week_local(_inputs(local_record, judged, ledger, counts))
    dated = sorted(((finding.occurred_on, i, finding) for i, finding in found), key=_first)
    billed = [_billed(day, ledger.day_hours[day], pack) for day in ledger.reimbursable]
    if window is None or previous is None:
        week_local = tuple(dated)
        merged, shared = _merged([*others, *((i, f) for _, i, f in week_local)]), 0
    else:
        kept = bisect_left(previous.week_local, window, key=_first)
        week_local = (*previous.week_local[:kept], *(x for x in dated if x[0] >= window))
        billed = [
            *(b for b in previous.billed if b.day < window),
            *(b for b in billed if b.day >= window),
        ]
        merged, shared = _merged_from(previous, others, week_local, window)
    hours = {b.day: b.hours for b in billed}
    assessment = assessment_of(
        record,
        pack,
        DayLedger(hours, tuple(hours), (), (), ()),
        counts,
        reasons,
        merged,
        tuple(b.billing for b in billed if b.billing is not None),
    )
    return _State(judged, week_local, others, counts, reasons, tuple(billed), assessment, shared)


def _inputs(
    record: ProgramRecord, judged: Judgement, ledger: DayLedger, counts: Attendance
) -> RuleInputs:
    return RuleInputs(record, judged.pack, ledger, counts, judged.in_force, judged.earlier_programs)


def _billed(day: date, hours: Decimal, pack: PolicyPack) -> _Billed:
    # One reimbursable day, billed as `billing_days` bills it.
    found = billing_days(DayLedger({day: hours}, (day,), (), (), ()), pack)
    return _Billed(day, hours, found[0] if found else None)


def _merged_from(
    previous: _State, others: tuple[Tagged, ...], week_local: tuple[Dated, ...], window: date
) -> tuple[tuple[Finding, ...], int]:
    """The merged findings, and how many lead them unchanged: the previous step's
    before `window` when nothing found before it changed, merged afresh from `window` on."""

    def before(tagged: Sequence[Tagged]) -> list[Tagged]:
        return [pair for pair in tagged if pair[1].occurred_on < window]

    if before(others) != before(previous.others):
        return _merged([*others, *((i, f) for _, i, f in week_local)]), 0
    old = previous.assessment.findings
    kept = bisect_left(old, window, key=_finding_date)
    start = bisect_left(week_local, window, key=_first)
    tail = [pair for pair in others if pair[1].occurred_on >= window]
    tail.extend((i, f) for _, i, f in week_local[start:])
    return (*old[:kept], *_merged(tail)), kept


def assessments(
    facts: Sequence[Fact], judge: Callable[[Sequence[Fact]], Judgement], as_of: date
) -> list[Stepped]:
    """The assessment of each prefix of `facts` as of `as_of`: what `assess` gives
    for `facts[:1]`, `facts[:2]`, ..., judged as `judge` judges that prefix.

    `judge` must depend only on the trail's referrals and retractions (the
    catalog's does: the referral in force picks the pack); it is asked again
    only after one of those.
    """
    filing = Filing()
    state: _State | None = None
    out: list[Stepped] = []
    for end, fact in enumerate(facts, start=1):
        changed = filing.add(fact)
        since = changed.since
        judged = state.judged if state is not None else None
        if judged is None or isinstance(fact.data, ProgramReferred | EntryRetracted):
            judged = judge(facts[:end])
        if state is None or judged != state.judged:
            state = _judge(filing, judged, as_of, changed, None)
        elif since is None or since <= as_of:
            state = _judge(filing, judged, as_of, changed, state)
        else:  # the fact changed nothing on or before as_of
            out.append(Stepped(state.assessment, len(state.assessment.findings)))
            continue
        out.append(Stepped(state.assessment, state.shared))
    return out
