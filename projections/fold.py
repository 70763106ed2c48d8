"""The one judge: a program's facts folded, one at a time, into what its rules find.

Every answer about a program reads a `Fold`: the receipt of an event (the finding
changes it caused), `/compliance` (the state at `as_of`), the regulator's read
model (the program's timeline), the audit replay (the state after each event).
`assess` (tests/oracles/assess.py) defines the answer; it judges a whole trail at
one date and is kept, in the tests, as the oracle this is held to.

**Epochs.** docs/domain.md R1 dates a finding the day its breach happened and
judges it from the facts of that day or before. The rules keep that for every
fact but the program's singletons (referral, admission, evaluation, discharge,
report), which they read whatever their date (COV-1's finding is dated the
admission but needs the referral, a discharge closes every window). Between two
singleton dates (an epoch) the singletons on record stay the same, and for
D <= E in one epoch the findings as of D are exactly those as of E dated on or
before D (each rule is causal and monotone there). So a fold judges each epoch
once, at its last day E (the last epoch at `until`: far in the future unless
the fold is cut), and answers any date of it by cutting at D. The messages of
findings may quote later facts ("the next came on ..."), so a cut is exact when
the epoch holds no fact dated after D; the fold judges the facts up to D anew
otherwise (`at`).

**Per fact.** A new fact dated X (a retraction: its target's date) leaves every
epoch that ends before X as it was. In the others, the rules that read sessions
(`Rule.week_local`) read, for a finding, only the sessions of its own program
week besides the singletons: they run again on the sessions from the first day
of X's program week (W) on, and their findings dated before W stay. The other
rules run again when a type they read changed (`Rule.reads`), and answer as
before otherwise. A singleton, a referral, or a retraction of one changes the
epochs themselves: every epoch is judged again. Epochs are judged lazily, when
an answer first needs them: `/compliance` today judges one.

**What a fact changed** (`changes`): the findings as of the receipt date before
and after, compared by (code, clause, severity, date): a warning that becomes a
violation on the same date is a change (docs/domain.md R13).
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from decimal import Decimal
from operator import attrgetter, itemgetter
from typing import Any, NamedTuple

from domain.events import SessionLogged
from domain.facts import Fact
from domain.policy import PolicyPack
from projections.calendar import week_first_day, week_number
from projections.compliance import (
    ATTENDANCE_READS,
    RULES,
    RuleInputs,
    assessment_of,
    merge_findings,
    status_of,
)
from projections.filing import EVERY_DATE, Changed, Filing
from projections.model import Assessment, BillingDay, Finding
from projections.record import ProgramRecord
from projections.rules.attendance import Attendance, attendance
from projections.rules.coding import billing_days
from projections.rules.coverage import DayLedger, day_ledger
from projections.rules.discharge import discharge_reasons, reason_dates
from projections.timeline import BEGINNING, State, Timeline

__all__ = [
    "BEGINNING",
    "HORIZON",
    "Context",
    "Fold",
    "State",
    "Timeline",
    "added",
    "window_start",
]

# Where an uncut fold judges its last epoch: past every clock any fact can start
# (the longest runs a pack's weeks from admission), and far from date.max.
HORIZON = date(9000, 1, 1)
ONE_DAY = timedelta(days=1)

Tagged = tuple[int, Finding]  # a finding and the index in RULES of the rule that found it
Dated = tuple[date, int, Finding]  # the same, with its date first, for bisection
_first = itemgetter(0)
_finding_date = attrgetter("occurred_on")
SESSION_KINDS = frozenset([SessionLogged])


@dataclass(frozen=True)
class Context:
    """How a trail is judged besides its facts: the pack, whether it was in force on
    the referral date, and the earlier programs on its client's injury (COV-1, as
    `projections.referrals.earlier_entry` names them)."""

    pack: PolicyPack
    in_force: bool = True
    earlier_programs: tuple[str, ...] = ()


class _Billed(NamedTuple):
    day: date
    hours: Decimal
    billing: BillingDay | None


@dataclass(frozen=True)
class _Judged:
    """One epoch judged at its last day: every rule's findings, and what the figures
    need. Never changed: a new fact makes a new one."""

    on: date  # the epoch's last day, the date it is judged at
    week_local: tuple[Dated, ...]  # the session rules' findings, by date (stable)
    others: tuple[Tagged, ...]  # every other rule's findings
    counts: Attendance
    billed: tuple[_Billed, ...]  # COV-2's reimbursable days and their billing, by date
    findings: tuple[Finding, ...]  # merged, by (date, code, clause)
    dates: tuple[date, ...]  # each merged finding's date, for bisection
    base: tuple[Finding, ...] | None  # the findings of the judgement this one followed
    kept: int  # how many lead `findings` that are the very ones leading `base`
    # Discharge reasons by date, filled as dates are asked for. They read no session,
    # so a judgement that only sessions changed shares its predecessor's.
    reasons: dict[date, tuple[str, ...]] = field(default_factory=dict, compare=False)

    def findings_json(self) -> list[dict[str, Any]]:
        """Each finding's `as_dict`, made once for every read of this judgement."""
        made: list[dict[str, Any]] | None = self.__dict__.get("_json")
        if made is None:
            made = [finding.as_dict() for finding in self.findings]
            object.__setattr__(self, "_json", made)
        return made


def window_start(record: ProgramRecord, day: date) -> date:
    """The first day of `day`'s program week; `day` itself before admission (outside
    the program each date stands alone)."""
    start = record.admitted_on
    if start is None or day < start:
        return day
    return week_first_day(start, week_number(start, day))


def _inputs(
    record: ProgramRecord, context: Context, ledger: DayLedger, counts: Attendance
) -> RuleInputs:
    return RuleInputs(
        record, context.pack, ledger, counts, context.in_force, context.earlier_programs
    )


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


def _merged(tagged: Iterable[Tagged]) -> tuple[Finding, ...]:
    # In RULES order, as `judge` lists them: merging joins a key's messages in that order.
    return merge_findings([finding for _, finding in sorted(tagged, key=_first)])


def _billed(day: date, ledger: DayLedger, pack: PolicyPack) -> _Billed:
    # One reimbursable day, billed as `billing_days` bills it.
    hours = ledger.day_hours[day]
    ancillary = {day: ledger.ancillary[day]} if day in ledger.ancillary else {}
    found = billing_days(DayLedger({day: hours}, (day,), (), (), (), (), ancillary), pack)
    return _Billed(day, hours, found[0] if found else None)


def _judge(
    filing: Filing, context: Context, on: date, changed: Changed, previous: _Judged | None
) -> _Judged:
    """The epoch judged at `on` after a change; `previous` None (or `changed.since`
    None): judged whole."""
    pack = context.pack
    record = filing.record(on)
    since = changed.since
    window = None if previous is None or since is None else window_start(record, since)
    local_record = record if window is None else filing.record(on, sessions_since=window)
    ledger = day_ledger(local_record, pack)
    kinds = None if window is None else changed.kinds
    reasons: dict[date, tuple[str, ...]] = {}
    if kinds is None or previous is None:
        counts = attendance(record, pack)
        others = tuple(_others(_inputs(record, context, ledger, counts), None, ()))
    elif kinds <= SESSION_KINDS:  # the rules that read no session answer as before
        others, counts = previous.others, previous.counts
        reasons = previous.reasons
    else:
        counts = attendance(record, pack) if kinds & ATTENDANCE_READS else previous.counts
        others = tuple(_others(_inputs(record, context, ledger, counts), kinds, previous.others))
    found = _week_local(_inputs(local_record, context, ledger, counts))
    dated = sorted(((finding.occurred_on, i, finding) for i, finding in found), key=_first)
    billed = [_billed(day, ledger, pack) for day in ledger.reimbursable]
    kept = 0  # leading findings that are the previous judgement's very ones
    if window is None or previous is None:
        week_local = tuple(dated)
        merged = _merged([*others, *((i, f) for _, i, f in week_local)])
        dates = tuple(f.occurred_on for f in merged)
    else:
        kept = bisect_left(previous.week_local, window, key=_first)
        week_local = (*previous.week_local[:kept], *(x for x in dated if x[0] >= window))
        billed = [
            *(b for b in previous.billed if b.day < window),
            *(b for b in billed if b.day >= window),
        ]
        merged, kept = _merged_from(previous, others, week_local, window)
        tail = merged[kept:]
        dates = (*previous.dates[:kept], *(f.occurred_on for f in tail))
    return _Judged(
        on,
        week_local,
        others,
        counts,
        tuple(billed),
        merged,
        dates,
        previous.findings if previous is not None else None,
        kept,
        reasons,
    )


def _merged_from(
    previous: _Judged, others: tuple[Tagged, ...], week_local: tuple[Dated, ...], window: date
) -> tuple[tuple[Finding, ...], int]:
    """The merged findings, and how many lead them unchanged: the previous ones before
    `window` when nothing found before it changed, merged afresh from `window` on."""

    def before(tagged: Sequence[Tagged]) -> list[Tagged]:
        return [pair for pair in tagged if pair[1].occurred_on < window]

    if before(others) != before(previous.others):
        return _merged([*others, *((i, f) for _, i, f in week_local)]), 0
    kept = bisect_left(previous.dates, window)
    start = bisect_left(week_local, window, key=_first)
    tail = [pair for pair in others if pair[1].occurred_on >= window]
    tail.extend((i, f) for _, i, f in week_local[start:])
    return (*previous.findings[:kept], *_merged(tail)), kept


class Fold:
    """One program's judgement: its facts filed, and each epoch judged at its last day.

    `until` cuts the fold: facts after it count for nothing, and it answers dates up
    to it. A fold is changed only by `add` on one nobody else holds; `with_fact`
    gives a new one and leaves this one as it was, so that a fold can be shared.
    """

    def __init__(self, context: Context, until: date = HORIZON) -> None:
        self.context = context
        self.until = until
        self.filing = Filing()
        self._facts: list[Fact] = []
        self._starts: list[date] = [BEGINNING]
        self._judged: list[_Judged | None] = [None]

    @classmethod
    def of(cls, facts: Iterable[Fact], context: Context, until: date = HORIZON) -> Fold:
        """The fold of a trail (in record order)."""
        fold = cls(context, until)
        for fact in facts:
            fold.filing.add(fact)
            fold._facts.append(fact)
        fold._epochs_again()
        return fold

    def copy(self) -> Fold:
        """A fold of the same facts that can be changed without changing this one."""
        other = Fold.__new__(Fold)
        other.context = self.context
        other.until = self.until
        other.filing = self.filing.copy()
        other._facts = list(self._facts)
        other._starts = list(self._starts)
        other._judged = list(self._judged)
        return other

    def with_fact(self, fact: Fact) -> Fold:
        """A new fold: this one's facts and `fact` after them."""
        other = self.copy()
        other.add(fact)
        return other

    @property
    def version(self) -> int:
        """How many facts are folded in: the program version it judges."""
        return len(self._facts)

    def add(self, fact: Fact) -> None:
        """Fold the next fact of the trail in (see the module docstring)."""
        changed = self.filing.add(fact)
        self._facts.append(fact)
        since = changed.since
        if since is None:
            self._epochs_again()
            return
        if since > self.until:
            return
        for index in range(len(self._starts)):
            judged = self._judged[index]
            if judged is not None and judged.on >= since:
                self._judged[index] = _judge(self.filing, self.context, judged.on, changed, judged)

    def _epochs_again(self) -> None:
        starts = [
            BEGINNING,
            *(d for d in self.filing.singleton_dates() if BEGINNING < d <= self.until),
        ]
        self._starts = starts
        self._judged = [None] * len(starts)

    def _epoch(self, as_of: date) -> int:
        return bisect_right(self._starts, as_of) - 1

    def _end(self, index: int) -> date:
        return self._starts[index + 1] - ONE_DAY if index + 1 < len(self._starts) else self.until

    def _judged_epoch(self, index: int) -> _Judged:
        judged = self._judged[index]
        if judged is None:
            judged = _judge(self.filing, self.context, self._end(index), EVERY_DATE, None)
            self._judged[index] = judged
        return judged

    def _exact(self, as_of: date) -> bool:
        # The epoch of `as_of` holds no fact dated after it (up to its last day).
        if as_of > self.until:
            return False
        end = self._end(self._epoch(as_of))
        return end <= as_of or not self.filing.any_between(as_of, end)

    def _held(self, as_of: date) -> _Judged | None:
        # The judgement `findings_at(as_of)` cut, when it cut one this fold holds.
        if not self._exact(as_of):
            return None
        return self._judged[self._epoch(as_of)]

    def findings_at(self, as_of: date) -> tuple[Finding, ...]:
        """The merged findings as of `as_of`, as `assess` lists them."""
        if not self._exact(as_of):
            return self.at(as_of).findings
        judged = self._judged_epoch(self._epoch(as_of))
        return judged.findings[: bisect_right(judged.dates, as_of)]

    def at(self, as_of: date, *, shared_json: bool = True) -> Assessment:
        """What `assess` answers for these facts as of `as_of`.

        With `shared_json`, the assessment hands out the findings' JSON kept with the
        judgement (and so keeps the judgement alive as long as itself): what a read
        wants; the audit replay, which holds an assessment per step, does not."""
        if not self._exact(as_of):
            return Fold.of(self._facts, self.context, until=as_of).at(as_of)
        judged = self._judged_epoch(self._epoch(as_of))
        pack = self.context.pack
        record = self.filing.record(as_of)
        cut = bisect_right(judged.dates, as_of)
        billed = judged.billed[: bisect_right(judged.billed, as_of, key=_first)]
        hours = {b.day: b.hours for b in billed}
        counts = judged.counts
        return assessment_of(
            record,
            pack,
            DayLedger(hours, tuple(hours), (), (), ()),
            counts,
            self._reasons(judged, record, counts),
            judged.findings[:cut],
            tuple(b.billing for b in billed if b.billing is not None),
            (lambda: judged.findings_json()[:cut]) if shared_json else None,
        )

    def _reasons(
        self, judged: _Judged, record: ProgramRecord, counts: Attendance
    ) -> tuple[str, ...]:
        # `discharge_reasons` as of the record's date, kept with the judgement.
        found = judged.reasons.get(record.as_of)
        if found is None:
            found = judged.reasons[record.as_of] = discharge_reasons(
                record, self.context.pack, counts
            )
        return found

    def kept_from(self, previous: Sequence[Finding], as_of: date) -> int:
        """How many leading findings as of `as_of` are the very objects leading
        `previous`, the findings this fold gave one fact earlier (the audit replay's
        steps share them): what the fold kept, or counted when it cannot tell."""
        findings = self.findings_at(as_of)
        held = self._held(as_of)
        if held is not None and held.base is previous:
            return min(held.kept, len(previous), len(findings))
        count = 0
        for old, new in zip(previous, findings, strict=False):
            if old is not new:
                break
            count += 1
        return count

    def timeline(self) -> Timeline:
        """The state on every business date, each epoch judged once."""
        pack = self.context.pack
        changes: list[tuple[date, State]] = []
        for index, start in enumerate(self._starts):
            judged = self._judged_epoch(index)
            end = self._end(index)
            record = self.filing.record(end)
            status = status_of(record)
            # Eligibility changes only on the dates its rule names; the codes on
            # their findings' dates.
            turns = {start}
            turns.update(d for d in reason_dates(record, pack, judged.counts) if start < d <= end)
            dates = {d for d in judged.dates if start < d <= end} | turns
            codes: set[str] = set()
            taken = 0
            eligible = False
            for day in sorted(dates):
                while taken < len(judged.dates) and judged.dates[taken] <= day:
                    codes.add(judged.findings[taken].code)
                    taken += 1
                if day in turns:
                    at_day = replace(record, as_of=day)
                    eligible = bool(discharge_reasons(at_day, pack, judged.counts))
                state = State(status, eligible, frozenset(codes))
                if not changes or changes[-1][1] != state:
                    changes.append((day, state))
        return Timeline(tuple(changes))


def changes(before: Fold | None, after: Fold, as_of: date) -> list[Finding]:
    """The findings as of `as_of` that `after` holds and `before` (the fold it was made
    from, one fact earlier) did not: what that fact added (`added`). Findings the fold
    kept as they were (the same objects, leading both) are not compared again."""
    new = after.findings_at(as_of)
    if before is None:
        return list(new)
    old = before.findings_at(as_of)
    skip = 0
    mine, theirs = after._held(as_of), before._held(as_of)
    if mine is not None and theirs is not None:
        if mine is theirs:
            return []
        if mine.base is theirs.findings:
            skip = min(mine.kept, len(old), len(new))
    return added(old[skip:], new[skip:])


def added(before: Sequence[Finding], after: Sequence[Finding]) -> list[Finding]:
    """The findings of `after` that `before` lacks, compared by (code, clause, severity,
    date): a warning that becomes a violation on the same date is added (R13)."""
    old = {(f.code, f.clause, f.severity, f.occurred_on) for f in before}
    return [f for f in after if (f.code, f.clause, f.severity, f.occurred_on) not in old]
