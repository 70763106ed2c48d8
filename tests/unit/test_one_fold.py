"""The fold (`projections.fold`) is the one judge: it answers what `assess` answers.

`tests.oracles.assess.assess` judges a whole trail at one date; it is the
oracle. Over generated histories (backdated events, retractions and re-posts of
admissions, discharges and referrals, late documents, a second program on one
physician referral, known_at cuts as trail prefixes, every pack) the fold,
built event by event as the tracker builds it, must give after every event the
same assessment as `assess` (figures, findings with their messages and
severities, billing) on the dates an answer is asked at, the same receipt
findings as the difference of two `assess` answers, and on every day the state
the regulator's list shows.
"""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain.facts import Fact
from domain.policy import PolicyCatalog, PolicyPack
from projections.fold import Context, Fold, State, changes
from tests.histories import as_facts, histories
from tests.oracles.assess import assess
from tests.oracles.breakpoints import breakpoints

from .builders import PACK as BUILDER_PACK
from .builders import Program, day, weekdays

PACKS = sorted(PolicyCatalog.load().packs.values(), key=lambda pack: pack.id)
DIFFERENTIAL = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
# A second program on the same physician referral, referred earlier (COV-1).
earlier_programs = st.lists(st.just("0b6f3d1e-1111-4222-8333-444455556666"), max_size=1)


def oracle(facts: list[Fact], context: Context, on: date):  # type: ignore[no-untyped-def]
    return assess(
        facts,
        context.pack,
        on,
        pack_in_force=context.in_force,
        earlier_programs_same_referral=context.earlier_programs,
    )


def receipt_date(facts: list[Fact]) -> date:
    return max(fact.occurred_on for fact in facts)


def every_day(facts: list[Fact], pack: PolicyPack) -> list[date]:
    """From before the first fact to well past the last date anything can change."""
    dates = breakpoints(facts, pack)
    first, last = dates[0] - timedelta(days=3), dates[-1] + timedelta(days=10)
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def key(finding):  # type: ignore[no-untyped-def]
    return (finding.code, finding.clause, finding.severity, finding.occurred_on)


@DIFFERENTIAL
@given(histories(), st.sampled_from(PACKS), st.booleans(), earlier_programs)
def test_the_fold_built_event_by_event_answers_as_assess_after_every_event(
    bodies: list[dict[str, object]], pack: PolicyPack, in_force: bool, earlier: list[str]
) -> None:
    facts = as_facts(bodies)
    context = Context(pack, in_force, tuple(earlier))
    fold = Fold(context)
    for count in range(1, len(facts) + 1):
        before = fold
        fold = fold.with_fact(facts[count - 1])
        prefix = facts[:count]
        on = receipt_date(prefix)
        after = oracle(prefix, context, on)
        assert fold.at(on) == after
        # The receipt: what the event added, severity included (R13).
        old = {key(f) for f in oracle(prefix[:-1], context, on).findings} if count > 1 else set()
        assert changes(before, fold, on) == [f for f in after.findings if key(f) not in old]
        # A date before the latest fact: the fold judges the facts up to it anew.
        earlier_on = prefix[-1].occurred_on - timedelta(days=1)
        assert fold.at(earlier_on) == oracle(prefix, context, earlier_on)
    # The fold it grew into is the fold of the whole trail at once, on every day.
    whole = Fold.of(facts, context)
    for on in every_day(facts, pack):
        assert fold.at(on) == oracle(facts, context, on), on
        assert whole.at(on) == fold.at(on), on


@DIFFERENTIAL
@given(st.data(), histories(), st.sampled_from(PACKS), st.booleans(), earlier_programs)
def test_the_timeline_of_any_known_at_cut_is_the_oracle_on_every_day(
    data: st.DataObject,
    bodies: list[dict[str, object]],
    pack: PolicyPack,
    in_force: bool,
    earlier: list[str],
) -> None:
    # A known_at cut of the trail is a prefix of it in record order; the fold is
    # built event by event, as the read model builds it.
    facts = as_facts(bodies)[: data.draw(st.integers(1, len(bodies)), "known")]
    context = Context(pack, in_force, tuple(earlier))
    fold = Fold(context)
    for fact in facts:
        fold = fold.with_fact(fact)
    timeline = fold.timeline()
    assert timeline == Fold.of(facts, context).timeline()
    for on in every_day(facts, pack):
        found = oracle(facts, context, on)
        expected = State(
            found.status, found.discharge_eligible, frozenset(f.code for f in found.findings)
        )
        assert timeline.at(on) == expected, on


@DIFFERENTIAL
@given(histories(), st.sampled_from(PACKS))
def test_a_fold_cut_at_a_date_answers_that_date_as_assess(
    bodies: list[dict[str, object]], pack: PolicyPack
) -> None:
    # The audit replay folds a trail cut at its as_of: later facts count for nothing.
    facts = as_facts(bodies)
    context = Context(pack)
    for on in sorted({fact.occurred_on for fact in facts})[::3]:
        fold = Fold(context, until=on)
        for count, fact in enumerate(facts, start=1):
            fold.add(fact)
            assert fold.at(on) == oracle(facts[:count], context, on)


def test_eligibility_turns_on_the_day_absences_first_exceed_the_limit() -> None:
    # Non-compliance (DIS-5a) makes the client discharge-eligible from the day the
    # absence equivalents first go over the pack's limit, between any other dates.
    program = Program()
    program.referred(day("2026-03-02"))
    program.admitted(day("2026-03-09"))
    program.sessions(weekdays(day("2026-03-09"), 3))
    limit = BUILDER_PACK.limits.max_unexcused_absences
    for offset in range(limit + 2):
        program.absence(day("2026-03-16") + timedelta(days=offset))
    program.sessions(weekdays(day("2026-03-30"), 5))
    timeline = Fold.of(program.facts, Context(BUILDER_PACK)).timeline()
    exceeded = day("2026-03-16") + timedelta(days=limit)
    assert not timeline.at(exceeded - timedelta(days=1)).discharge_eligible
    assert timeline.at(exceeded).discharge_eligible
    for on in every_day(program.facts, BUILDER_PACK):
        found = oracle(program.facts, Context(BUILDER_PACK), on)
        assert timeline.at(on).discharge_eligible == found.discharge_eligible, on


def test_a_referral_reposted_after_admission_starts_its_epoch_on_its_own_date() -> None:
    # The one rule that dates a finding before a fact it reads: COV-1 is dated
    # the admission but needs the referral. Re-posted after the admission, the
    # referral starts an epoch; until its date there is no referral at all.
    program = Program()
    first = program.referred(day("2026-03-02"))
    program.admitted(day("2026-03-09"))
    program.retract(first, day("2026-03-02"))
    program.referred(day("2026-03-12"))
    program.sessions(weekdays(day("2026-03-09"), 8))
    context = Context(BUILDER_PACK, True, ("0b6f3d1e-1111-4222-8333-444455556666",))
    timeline = Fold.of(program.facts, context).timeline()
    assert "repeat_program_without_review" not in timeline.at(day("2026-03-11")).findings
    assert "repeat_program_without_review" in timeline.at(day("2026-03-12")).findings
    for on in every_day(program.facts, BUILDER_PACK):
        found = oracle(program.facts, context, on)
        assert timeline.at(on).findings == {f.code for f in found.findings}, on
