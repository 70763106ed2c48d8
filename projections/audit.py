"""The audit replay: how a program's figures and findings moved, event by event.

An auditor asks "what did the tracker make of this program after each thing
it was told?". Given a program's facts in record order, `replay` gives the
assessment of every prefix of the trail (the first event, the first two, ...)
as of one business date, or each as of its own receipt date (docs/domain.md R21),
and diffs each assessment's findings against the one before by `Finding.key()`:
what that event added and what it resolved. Each
prefix is what `assess` makes of it: the program's fold (`projections.fold`),
cut at that date, takes the events one at a time, so a trail of n events costs
about n steps, not n whole-trail assessments.

Which pack judges each step is decided the way the tracker decides it for a
whole trail: by the referral in force in that prefix (the latest
`ProgramReferred` not retracted), looked up in a catalog (`catalog_judge`).
The replay is pure, so a dispute bundle re-derives it offline.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from uuid import UUID

from domain.events import EntryRetracted, ProgramReferred
from domain.facts import Fact
from domain.policy import PolicyCatalog
from domain.program import StandingDates
from projections.compliance import Assessment, Finding
from projections.fold import HORIZON, Context, Fold

__all__ = [
    "Context",
    "Judge",
    "Step",
    "catalog_judge",
    "occurred_by",
    "receipt_dates",
    "replay",
]

Judge = Callable[[Sequence[Fact]], Context]


@dataclass(frozen=True)
class Step:
    """One event of the replay, with the assessment after it and what changed."""

    fact: Fact
    assessment: Assessment
    findings_added: tuple[Finding, ...]
    findings_resolved: tuple[Finding, ...]
    # How many leading findings of `assessment` are the previous step's very objects
    # (0 for the first step): what serialises the steps need not do again.
    shared: int = field(default=0, compare=False)


def _normalised(event_id: str) -> str:
    # Retractions name their target however the client spelled the UUID.
    try:
        return str(UUID(event_id))
    except ValueError:
        return event_id.strip().lower()


def referral_in_force(facts: Sequence[Fact]) -> Fact | None:
    """The latest `ProgramReferred` of the trail that no retraction in it removed."""
    retracted = {
        _normalised(str(fact.data.target_event_id))
        for fact in facts
        if isinstance(fact.data, EntryRetracted)
    }
    for fact in reversed(facts):
        if isinstance(fact.data, ProgramReferred) and _normalised(fact.event_id) not in retracted:
            return fact
    return None


def occurred_by(facts: Sequence[Fact], as_of: date) -> list[Fact]:
    """The trail as of a business date: the events that occurred by `as_of`, and
    the retractions of those (a retraction corrects the record whatever its date)."""
    kept = {
        _normalised(f.event_id)
        for f in facts
        if f.occurred_on <= as_of and not isinstance(f.data, EntryRetracted)
    }
    return [
        f
        for f in facts
        if _normalised(
            str(f.data.target_event_id) if isinstance(f.data, EntryRetracted) else f.event_id
        )
        in kept
    ]


def catalog_judge(
    catalog: PolicyCatalog, earlier_by_referral: Mapping[str, Sequence[str]] | None = None
) -> Judge:
    """Judge a trail by the pack its referral asks for (or the default pack).

    `earlier_by_referral` maps a referral's event id to the other programs on
    the same client's injury that were referred before it (COV-1, docs/domain.md
    R16; as `projections.referrals.earlier_entry` names them): the store knows
    them, the trail alone does not.
    """
    earlier = earlier_by_referral or {}

    def judge(facts: Sequence[Fact]) -> Context:
        referral = referral_in_force(facts)
        if referral is None:
            return Context(catalog.packs[catalog.default_id], True)
        data = referral.data
        requested = data.policy if isinstance(data, ProgramReferred) else None
        pack, in_force = catalog.for_referral(referral.occurred_on, requested)
        return Context(pack, in_force, tuple(earlier.get(referral.event_id, ())))

    return judge


def receipt_dates(facts: Sequence[Fact]) -> list[date]:
    """Each fact's receipt date (docs/domain.md R11, R14): the later of its `occurred_on`
    and the latest `occurred_on` of the facts standing before it, counted as the program
    counts them (`domain.program.StandingDates`: retracted facts and retractions do not
    count)."""
    dates = StandingDates()
    standing: dict[str, date] = {}  # event id -> occurred_on, of standing facts
    found: list[date] = []
    for fact in facts:
        latest = dates.latest
        found.append(fact.occurred_on if latest is None else max(fact.occurred_on, latest))
        if isinstance(fact.data, EntryRetracted):
            on = standing.pop(str(fact.data.target_event_id), None)
            if on is not None:
                dates.remove(on)
            continue
        standing[fact.event_id] = fact.occurred_on
        dates.add(fact.occurred_on)
    return found


def replay(facts: Sequence[Fact], judge: Judge, as_of: date | Sequence[date]) -> list[Step]:
    """Every event in record order with the assessment after it and the findings it
    added and resolved, compared by `Finding.key()`: all as of `as_of`, or, given one
    date per event (`receipt_dates`: docs/domain.md R21), each step as of its own date,
    compared with the trail just before it at that date, as its receipt was.

    `judge` must depend only on the trail's referrals and retractions (the
    catalog's does: the referral in force picks the pack); it is asked again
    only after one of those, and a new answer folds the trail anew."""
    one = isinstance(as_of, date)
    days = [as_of] * len(facts) if isinstance(as_of, date) else list(as_of)
    until = as_of if isinstance(as_of, date) else HORIZON
    steps: list[Step] = []
    previous: tuple[Finding, ...] = ()
    fold: Fold | None = None
    for end, (fact, day) in enumerate(zip(facts, days, strict=True), start=1):
        if not one:  # the trail before this event, at this step's own date
            previous = fold.findings_at(day) if fold is not None else ()
        context = fold.context if fold is not None else None
        if context is None or isinstance(fact.data, ProgramReferred | EntryRetracted):
            context = judge(facts[:end])
        if fold is None or context != fold.context:
            fold = Fold.of(facts[:end], context, until=until)
        else:
            fold.add(fact)
        assessment = fold.at(day, shared_json=False)
        findings = assessment.findings
        shared = fold.kept_from(previous, day)
        # Findings before `shared` are the previous step's own: diff only the rest.
        before = {f.key(): f for f in previous[shared:]}
        after = {f.key(): f for f in findings[shared:]}
        steps.append(
            Step(
                fact=fact,
                assessment=assessment,
                findings_added=tuple(f for k, f in after.items() if k not in before),
                findings_resolved=tuple(f for k, f in before.items() if k not in after),
                shared=shared,
            )
        )
        previous = findings
    return steps
