"""The derivations that cost what changed answer what the whole-trail `assess` answers.

`projections.compliance.assess` judges the whole trail as of one date: it is
the oracle. The read model's timeline judges once per epoch of a program's
singletons (`projections.epochs`) and, event by event, only from the date a
new event can change; the audit replay reuses one filing across its steps.
These differential properties run both over generated histories (backdated
events, retractions and re-posts of admissions, discharges and referrals,
late documents, a second program on one physician referral, known_at cuts as
trail prefixes, every pack) and compare them on every business date.
"""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain.facts import Fact
from domain.policy import PolicyCatalog, PolicyPack
from projections.breakpoints import breakpoints
from projections.compliance import assess
from projections.epochs import State
from projections.timeline import Timeline, build_timeline, changed_from
from tests.histories import as_facts, histories

from .builders import PACK as BUILDER_PACK
from .builders import Program, day, weekdays

PACKS = sorted(PolicyCatalog.load().packs.values(), key=lambda pack: pack.id)
DIFFERENTIAL = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
# A second program on the same physician referral, referred earlier (COV-1).
earlier_programs = st.lists(st.just("0b6f3d1e-1111-4222-8333-444455556666"), max_size=1)


def oracle(
    facts: list[Fact], pack: PolicyPack, day: date, in_force: bool, earlier: list[str]
) -> State:
    """The state the regulator's list shows, cut from the whole-trail assessment."""
    found = assess(facts, pack, day, pack_in_force=in_force, earlier_programs_same_referral=earlier)
    return State(found.status, found.discharge_eligible, frozenset(f.code for f in found.findings))


def every_day(facts: list[Fact], pack: PolicyPack) -> list[date]:
    """From before the first fact to well past the last date anything can change."""
    dates = breakpoints(facts, pack)
    first, last = dates[0] - timedelta(days=3), dates[-1] + timedelta(days=10)
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def assert_timeline_is_the_oracle(
    timeline: Timeline, facts: list[Fact], pack: PolicyPack, in_force: bool, earlier: list[str]
) -> None:
    for on in every_day(facts, pack):
        assert timeline.at(on) == oracle(facts, pack, on, in_force, earlier), on


@DIFFERENTIAL
@given(st.data(), histories(), st.sampled_from(PACKS), st.booleans(), earlier_programs)
def test_the_timeline_of_any_known_at_cut_is_the_oracle_on_every_day(
    data: st.DataObject,
    bodies: list[dict[str, object]],
    pack: PolicyPack,
    in_force: bool,
    earlier: list[str],
) -> None:
    # A known_at cut of the trail is a prefix of it in record order.
    facts = as_facts(bodies)[: data.draw(st.integers(1, len(bodies)), "known")]
    timeline = build_timeline(
        facts, pack, pack_in_force=in_force, earlier_programs_same_referral=earlier
    )
    assert_timeline_is_the_oracle(timeline, facts, pack, in_force, earlier)


@DIFFERENTIAL
@given(histories(), st.sampled_from(PACKS), earlier_programs)
def test_the_timeline_built_event_by_event_is_the_oracle_after_every_event(
    bodies: list[dict[str, object]], pack: PolicyPack, earlier: list[str]
) -> None:
    # As the read model builds it: each event re-judges only from the date it
    # can change (a backdated fact or a retraction from its target's date).
    facts = as_facts(bodies)
    timeline: Timeline | None = None
    for count in range(1, len(facts) + 1):
        since = changed_from(facts[count - 1], facts[: count - 1]) if timeline else None
        timeline = build_timeline(
            facts[:count],
            pack,
            earlier_programs_same_referral=earlier,
            previous=timeline,
            since=since,
        )
        for on in sorted({*breakpoints(facts[:count], pack), facts[count - 1].occurred_on}):
            for near in (on - timedelta(days=1), on):
                assert timeline.at(near) == oracle(facts[:count], pack, near, True, earlier)
    assert timeline is not None
    assert_timeline_is_the_oracle(timeline, facts, pack, True, earlier)


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
    earlier = ["0b6f3d1e-1111-4222-8333-444455556666"]
    pack = BUILDER_PACK
    timeline = build_timeline(program.facts, pack, earlier_programs_same_referral=earlier)
    assert "repeat_program_without_review" not in timeline.at(day("2026-03-11")).findings
    assert "repeat_program_without_review" in timeline.at(day("2026-03-12")).findings
    assert_timeline_is_the_oracle(timeline, program.facts, pack, True, earlier)
