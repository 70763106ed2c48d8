"""Properties of the derived figures over generated programs.

Each example: a referral, an admission, then about twelve weeks of sessions
(0.25 to 12 hours, some days twice), absences and tardiness, sometimes
re-evaluations and a discharge, assessed on a random date.
"""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain.facts import Fact
from projections.calendar import week_last_day, week_number
from projections.compliance import Assessment
from tests.oracles.assess import assess

from .builders import PACK, Program

LIMITS = PACK.limits
WEEKS = 12
PROPERTY_SETTINGS = settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


@dataclass(frozen=True)
class Generated:
    program: Program
    admitted_on: date
    discharged_on: date | None
    as_of: date

    def assess(self, facts: list[Fact] | None = None) -> Assessment:
        return assess(self.program.facts if facts is None else facts, PACK, self.as_of)


quarter_hours = st.integers(min_value=1, max_value=48).map(lambda q: Decimal(q) / 4)
offsets = st.integers(min_value=-7, max_value=7 * WEEKS)


@st.composite
def programs(draw: st.DrawFn) -> Generated:
    admitted_on = draw(st.dates(min_value=date(2022, 1, 1), max_value=date(2027, 12, 31)))
    program = Program()
    program.referred(admitted_on - timedelta(days=draw(st.integers(0, 10))))
    program.admitted(admitted_on)
    for week in range(WEEKS):
        for weekday in sorted(draw(st.sets(st.integers(0, 6), max_size=7))):
            on = admitted_on + timedelta(days=7 * week + weekday)
            for hours in draw(st.lists(quarter_hours, min_size=1, max_size=2)):
                program.session(on, hours)
    for offset, excused in draw(st.lists(st.tuples(offsets, st.booleans()), max_size=8)):
        program.absence(admitted_on + timedelta(days=offset), excused=excused)
    for offset in draw(st.lists(offsets, max_size=25)):
        program.tardy(admitted_on + timedelta(days=offset), draw(st.integers(1, 90)))
    for offset in draw(st.lists(st.integers(1, 7 * WEEKS), max_size=4)):
        flags = draw(st.sampled_from(["goals_met", "plateau", "return_to_work_ready"]))
        # Now and then a re-evaluation finds the program no longer appropriate (R18).
        appropriate = draw(st.sampled_from([True, True, True, False]))
        program.reevaluated(
            admitted_on + timedelta(days=offset),
            **{flags: draw(st.booleans()), "appropriate_to_continue": appropriate},
        )
    discharged_on = None
    if draw(st.booleans()):
        discharged_on = admitted_on + timedelta(days=draw(st.integers(0, 7 * WEEKS)))
        program.discharged(discharged_on, draw(st.sampled_from(["goals_met", "non_compliance"])))
    as_of = admitted_on + timedelta(days=draw(st.integers(0, 7 * WEEKS + 14)))
    return Generated(program, admitted_on, discharged_on, as_of)


def model_reimbursable_hours(generated: Generated) -> Decimal:
    """COV-2 told independently: group by week, keep each week's first days, cap each day.
    A day under the initial 2 hours bills nothing and takes no slot (R19); nor does a
    day after a re-evaluation, the latest before it, that found the program no longer
    appropriate (R18)."""
    hours: dict[date, Decimal] = defaultdict(Decimal)
    verdicts: list[tuple[date, int, bool]] = []
    for fact in generated.program.facts:
        if fact.type == "SessionLogged" and fact.occurred_on <= generated.as_of:
            hours[fact.occurred_on] += fact.data.hours  # type: ignore[attr-defined]
        if fact.type == "ProgressReEvaluated":
            appropriate = fact.data.appropriate_to_continue  # type: ignore[attr-defined]
            verdicts.append((fact.occurred_on, fact.version, appropriate))

    def barred(on: date) -> bool:
        before = sorted(v for v in verdicts if v[0] < on)
        return bool(before) and not before[-1][2]

    end = generated.discharged_on if generated.discharged_on else date.max
    by_week: dict[int, list[date]] = defaultdict(list)
    for on in sorted(hours):
        if hours[on] < PACK.billing.initial_hours or barred(on):
            continue
        if generated.admitted_on <= on <= min(end, generated.as_of):
            by_week[(on - generated.admitted_on).days // 7 + 1].append(on)
    return sum(
        (
            min(hours[on], LIMITS.max_hours_per_day)
            for week, days in by_week.items()
            if week <= LIMITS.max_weeks
            for on in days[: LIMITS.max_days_per_week]
        ),
        Decimal(0),
    )


def test_the_pack_states_the_policy_numbers_these_properties_rely_on() -> None:
    assert LIMITS.max_hours_per_day == Decimal(8)
    assert (LIMITS.max_days_per_week, LIMITS.max_weeks) == (5, 8)
    assert (LIMITS.max_unexcused_absences, LIMITS.tardy_days_per_absence) == (3, 5)


@PROPERTY_SETTINGS
@given(programs())
def test_reimbursable_hours_never_exceed_total_hours_and_match_a_small_model(
    generated: Generated,
) -> None:
    assessment = generated.assess()
    assert Decimal(0) <= assessment.reimbursable_hours <= assessment.total_hours
    assert assessment.reimbursable_hours == model_reimbursable_hours(generated)


@PROPERTY_SETTINGS
@given(programs())
def test_billing_stays_within_eight_hours_a_day_five_days_and_forty_hours_a_week(
    generated: Generated,
) -> None:
    assessment = generated.assess()
    per_week_days: dict[int, int] = defaultdict(int)
    per_week_hours: dict[int, Decimal] = defaultdict(Decimal)
    for billed in assessment.billing:
        assert billed.hours <= LIMITS.max_hours_per_day
        week = week_number(generated.admitted_on, billed.date)
        per_week_days[week] += 1
        per_week_hours[week] += billed.hours
    assert all(days <= LIMITS.max_days_per_week for days in per_week_days.values())
    week_cap = LIMITS.max_hours_per_day * LIMITS.max_days_per_week
    assert all(hours <= week_cap for hours in per_week_hours.values())
    covered_weeks = min(assessment.weeks_used, LIMITS.max_weeks)
    assert assessment.reimbursable_hours <= week_cap * covered_weeks
    dates = [billed.date for billed in assessment.billing]
    assert dates == sorted(set(dates))


@PROPERTY_SETTINGS
@given(programs())
def test_nothing_is_reimbursed_after_week_eight_or_outside_the_program(
    generated: Generated,
) -> None:
    assessment = generated.assess()
    last_covered = week_last_day(generated.admitted_on, LIMITS.max_weeks)
    for billed in assessment.billing:
        assert generated.admitted_on <= billed.date <= min(last_covered, generated.as_of)
        if generated.discharged_on is not None:
            assert billed.date <= generated.discharged_on


@PROPERTY_SETTINGS
@given(programs())
def test_absence_equivalents_add_tardy_sets_and_non_compliance_follows_them(
    generated: Generated,
) -> None:
    assessment = generated.assess()
    # Rev 2 (R2): only dates from admission to discharge (and as_of) count.
    last = min(generated.as_of, generated.discharged_on or generated.as_of)
    counted = [f for f in generated.program.facts if generated.admitted_on <= f.occurred_on <= last]
    tardy_dates = {f.occurred_on for f in counted if f.type == "TardinessRecorded"}
    unexcused_dates = {
        f.occurred_on
        for f in counted
        if f.type == "AbsenceRecorded" and not f.data.excused  # type: ignore[attr-defined]
    }
    assert assessment.tardy_days == len(tardy_dates)
    assert assessment.unexcused_absences == len(unexcused_dates)
    assert assessment.absence_equivalents == (
        assessment.unexcused_absences + assessment.tardy_days // LIMITS.tardy_days_per_absence
    )
    flagged = any(f.code == "non_compliance" for f in assessment.findings)
    assert flagged == (assessment.absence_equivalents > LIMITS.max_unexcused_absences)
    assert ("non_compliance" in assessment.discharge_reasons) == flagged


@PROPERTY_SETTINGS
@given(programs(), st.randoms(use_true_random=False))
def test_the_assessment_does_not_depend_on_the_order_of_the_facts(
    generated: Generated, rnd: random.Random
) -> None:
    referral, *others = generated.program.facts
    rnd.shuffle(others)
    assert generated.assess([referral, *others]) == generated.assess()


@PROPERTY_SETTINGS
@given(programs(), st.randoms(use_true_random=False))
def test_retracting_facts_is_the_same_as_never_recording_them(
    generated: Generated, rnd: random.Random
) -> None:
    referral, *others = generated.program.facts
    dropped = {fact.event_id for fact in others if rnd.random() < 0.2}
    kept = [fact for fact in generated.program.facts if fact.event_id not in dropped]
    for fact in [f for f in others if f.event_id in dropped]:
        generated.program.retract(fact, fact.occurred_on)
    assert generated.assess() == generated.assess(kept)


@PROPERTY_SETTINGS
@given(programs())
def test_findings_are_sorted_unique_by_key_and_json_ready(generated: Generated) -> None:
    assessment = generated.assess()
    keys = [f.key() for f in assessment.findings]
    assert len(keys) == len(set(keys))
    order = [(f.occurred_on, f.code, f.clause) for f in assessment.findings]
    assert order == sorted(order)
    assert all(f.occurred_on <= generated.as_of for f in assessment.findings)
    assert all(f.severity in ("violation", "warning") for f in assessment.findings)
    figures = assessment.figures()
    assert figures["discharge_eligible"] == bool(figures["discharge_reasons"])
