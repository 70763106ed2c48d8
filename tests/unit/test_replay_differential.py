"""The audit replay, derived step from step, answers what assessing every prefix answers.

`projections.audit.replay` folds facts in as they come (`projections.fold`,
cut at the replay's as_of), which re-runs, after each event, only what it can
change. The oracle is the replay as it was: the whole-trail
`assess` of every prefix, diffed by `Finding.key()`. Over generated histories
(backdated events, retractions and re-posts of admissions, discharges and
referrals, late documents, a second program on one physician referral, every
pack, in force or not) every step must be equal: figures, findings with their
messages, billing, and the findings each event added and resolved.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain.facts import Fact
from domain.policy import PolicyCatalog, PolicyPack
from projections.audit import Context, Judge, Step, catalog_judge, replay
from projections.filing import Filing
from projections.model import Finding
from tests.histories import as_facts, histories
from tests.oracles.assess import assess_trail
from tests.oracles.filed_facts import FiledFacts

from .builders import Program, day, weekdays

CATALOG = PolicyCatalog.load()
PACKS = sorted(CATALOG.packs.values(), key=lambda pack: pack.id)
EARLIER = "0b6f3d1e-1111-4222-8333-444455556666"
DIFFERENTIAL = settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


def replay_by_prefix(facts: Sequence[Fact], judge: Judge, as_of: date) -> list[Step]:
    """The oracle: every prefix assessed from scratch (the replay before issue 13)."""
    steps: list[Step] = []
    before: dict[tuple[str, str, date], Finding] = {}
    for end in range(1, len(facts) + 1):
        assessment = assess_trail(facts[:end], judge, as_of)
        after = {finding.key(): finding for finding in assessment.findings}
        steps.append(
            Step(
                fact=facts[end - 1],
                assessment=assessment,
                findings_added=tuple(f for k, f in after.items() if k not in before),
                findings_resolved=tuple(f for k, f in before.items() if k not in after),
            )
        )
        before = after
    return steps


def assert_same_steps(facts: Sequence[Fact], judge: Judge, as_of: date) -> None:
    expected = replay_by_prefix(facts, judge, as_of)
    for step, oracle in zip(replay(facts, judge, as_of), expected, strict=True):
        where = f"version {step.fact.version} ({step.fact.type}), as of {as_of}"
        assert step.assessment == oracle.assessment, where
        assert step.findings_added == oracle.findings_added, where
        assert step.findings_resolved == oracle.findings_resolved, where


def fixed(pack: PolicyPack, in_force: bool, earlier: Sequence[str]) -> Judge:
    return lambda facts: Context(pack, in_force, tuple(earlier))


@st.composite
def judges(draw: st.DrawFn, facts: list[Fact]) -> Judge:
    """The catalog's judge (the pack follows the referral in force), or one pack for all."""
    earlier = draw(st.lists(st.just(EARLIER), max_size=1))
    if draw(st.booleans()):
        referrals = [f.event_id for f in facts if f.type == "ProgramReferred"]
        return catalog_judge(CATALOG, {event_id: earlier for event_id in referrals})
    return fixed(draw(st.sampled_from(PACKS)), draw(st.booleans()), earlier)


@st.composite
def as_of_dates(draw: st.DrawFn, facts: list[Fact]) -> date:
    """A business date from before the first fact to well after the last."""
    days = sorted(f.occurred_on for f in facts)
    return days[0] + timedelta(days=draw(st.integers(-3, (days[-1] - days[0]).days + 90)))


@DIFFERENTIAL
@given(st.data(), histories())
def test_every_step_of_the_replay_is_the_assessment_of_its_prefix(
    data: st.DataObject, bodies: list[dict[str, object]]
) -> None:
    facts = as_facts(bodies)
    assert_same_steps(facts, data.draw(judges(facts), "judge"), data.draw(as_of_dates(facts)))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data(), histories())
def test_facts_filed_one_at_a_time_make_the_record_filed_at_once(
    data: st.DataObject, bodies: list[dict[str, object]]
) -> None:
    facts = as_facts(bodies)
    as_of = data.draw(as_of_dates(facts))
    filing = Filing()
    for end, fact in enumerate(facts, start=1):
        filing.add(fact)
        record, expected = filing.record(as_of), FiledFacts(facts[:end]).record(as_of)
        assert record == expected, end
        assert record.session_days == expected.session_days, end


def test_a_long_program_of_several_sessions_a_day_replays_as_its_prefixes() -> None:
    # Past week 8 and over the daily cap, as the benchmark's long programs are:
    # every session adds findings, and each week's sixth day goes over the cap.
    program = Program()
    program.referred(day("2026-01-05"))
    program.admitted(day("2026-01-12"))
    for on in weekdays(day("2026-01-12"), 70):
        program.session(on, hours="5")
        program.session(on, hours="4")
    program.absence(day("2026-02-03"))
    program.session(day("2026-01-17"), hours="3")  # a Saturday, backdated: a sixth day
    program.reevaluated(day("2026-02-20"))
    program.retract(program.facts[10], day("2026-01-16"))
    judge = catalog_judge(CATALOG)
    assert_same_steps(program.facts, judge, day("2026-06-30"))
    assert_same_steps(program.facts, judge, day("2026-02-18"))
