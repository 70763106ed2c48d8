"""Properties of DOMAIN.md revision 2 over generated histories (`tests.histories`).

(a) R1: adding any fact other than a retraction, dated Y, leaves every
    finding dated before Y as it was (code, clause, date, severity);
(b) R1: for as_of D1 <= D2, every finding at D1 is a finding at D2;
(c) R2: the attendance figures count only dates from admission to
    discharge, as a tiny model written here (from the bodies, not the code
    under test) counts them.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain.facts import Fact
from projections.compliance import Assessment
from tests.histories import (
    DOMAINS,
    LATEST,
    LICENSED,
    SECTIONS,
    UNLICENSED,
    as_facts,
    body,
    histories,
)
from tests.oracles.assess import assess
from tests.oracles.breakpoints import breakpoints

from .builders import PACK

Body = dict[str, Any]
Key = tuple[str, str, date, str]
PROPERTY_SETTINGS = settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


def keys(assessment: Assessment) -> set[Key]:
    return {(f.code, f.clause, f.occurred_on, f.severity) for f in assessment.findings}


def standing(bodies: list[Body]) -> list[Body]:
    """The bodies no retraction removed, retractions left out."""
    gone = {b["data"]["target_event_id"] for b in bodies if b["type"] == "EntryRetracted"}
    return [b for b in bodies if b["type"] != "EntryRetracted" and b["event_id"] not in gone]


def on(b: Body) -> date:
    return date.fromisoformat(b["occurred_on"])


def span(bodies: list[Body]) -> tuple[date, date]:
    days = [on(b) for b in bodies]
    return min(days) - timedelta(days=5), max(days) + timedelta(days=40)


@st.composite
def extra_facts(draw: st.DrawFn, bodies: list[Body]) -> Body:
    """One more fact a clinic could send: any type but a referral or a retraction."""
    first, last = span(bodies)
    when = draw(st.dates(first, min(last, LATEST)))
    kinds = [
        "SessionLogged",
        "AbsenceRecorded",
        "TardinessRecorded",
        "InitialEvaluationDocumented",
        "ProgressReEvaluated",
        "StaffConferenceHeld",
        "MedicalConditionChanged",
        "DischargeReportFiled",
        "RepeatProgramApproved",
    ]
    present = {b["type"]: on(b) for b in standing(bodies)}
    # A clinic can send a missing admission or discharge, but not one out of order
    # with the standing other (the tracker refuses it: docs/domain.md R17).
    admitted, discharged = present.get("ProgramAdmitted"), present.get("ProgramDischarged")
    if "ProgramAdmitted" not in present and (discharged is None or when <= discharged):
        kinds.append("ProgramAdmitted")
    if "ProgramDischarged" not in present and (admitted is None or when >= admitted):
        kinds.append("ProgramDischarged")
    kind = draw(st.sampled_from(kinds))
    documented = draw(st.integers(-1, 14))
    data: dict[str, Body] = {
        "SessionLogged": {
            "hours": draw(st.sampled_from([1, 3.5, 6, 9])),
            "provider": draw(st.sampled_from([LICENSED, UNLICENSED])),
            "documented": draw(st.booleans()),
        },
        "AbsenceRecorded": {"excused": draw(st.booleans())},
        "TardinessRecorded": {"minutes_late": draw(st.integers(1, 90))},
        "InitialEvaluationDocumented": {
            "evaluator": draw(st.sampled_from([LICENSED, UNLICENSED])),
            "domains": DOMAINS if draw(st.booleans()) else DOMAINS[:3],
            "measures": {"lift_kg": 10},
            "goals": ["lift"],
            "documented_on": min(when + timedelta(days=documented), LATEST).isoformat(),
        },
        "ProgressReEvaluated": {draw(st.sampled_from(["goals_met", "plateau"])): True},
        "StaffConferenceHeld": {"attendees": ["PT"]},
        "MedicalConditionChanged": {"description": "flare"},
        "DischargeReportFiled": {s: "text" if draw(st.booleans()) else "" for s in SECTIONS},
        "RepeatProgramApproved": {"reviewer": "Dr. Kim"},
        "ProgramAdmitted": {"criteria": {"informed_consent": True}},
        "ProgramDischarged": {
            "reason": draw(st.sampled_from(["goals_met", "plateau", "non_compliance"]))
        },
    }
    return body(kind, when, data[kind])


def assessed(facts: list[Fact], as_of: date, earlier: list[str]) -> Assessment:
    return assess(facts, PACK, as_of, earlier_programs_same_referral=earlier)


earlier_programs = st.lists(st.just("0b6f3d1e-1111-4222-8333-444455556666"), max_size=1)


@PROPERTY_SETTINGS
@given(st.data(), histories(), earlier_programs)
def test_a_new_fact_dated_y_leaves_every_finding_dated_before_y_unchanged(
    data: st.DataObject, bodies: list[Body], earlier: list[str]
) -> None:
    extra = data.draw(extra_facts(bodies), "extra")
    first, last = span(bodies)
    as_of = data.draw(st.dates(first, last + timedelta(days=60)), "as_of")
    y = on(extra)
    before = keys(assessed(as_facts(bodies), as_of, earlier))
    after = keys(assessed(as_facts([*bodies, extra]), as_of, earlier))
    assert {k for k in after if k[2] < y} == {k for k in before if k[2] < y}


@PROPERTY_SETTINGS
@given(st.data(), histories(), earlier_programs)
def test_every_finding_as_of_a_date_is_still_a_finding_as_of_any_later_date(
    data: st.DataObject, bodies: list[Body], earlier: list[str]
) -> None:
    facts = as_facts(bodies)
    # Every date where something may change (the facts' dates and the rules'
    # deadlines), a few days either side, and one drawn date: each step's
    # findings are kept by the next.
    first, last = span(bodies)
    drawn = data.draw(st.dates(first, last + timedelta(days=60)), "as_of")
    dates = {drawn, last + timedelta(days=60)}
    for point in breakpoints(facts, PACK):
        dates |= {point + timedelta(days=n) for n in (-1, 0, 1)}
    previous: set[Key] = set()
    for as_of in sorted(dates):
        now = keys(assessed(facts, as_of, earlier))
        assert previous <= now, (as_of, previous - now)
        previous = now


def model_attendance(bodies: list[Body], as_of: date) -> dict[str, int]:
    """R2 told independently: distinct dates from admission to discharge (and as_of)."""
    kept = standing(bodies)
    if not any(b["type"] == "ProgramReferred" for b in kept):
        return dict.fromkeys(("unexcused", "excused", "tardy", "equivalents"), 0)  # R10
    live = [b for b in kept if on(b) <= as_of]
    admitted = sorted(on(b) for b in live if b["type"] == "ProgramAdmitted")
    discharged = sorted(on(b) for b in live if b["type"] == "ProgramDischarged")
    inside: set[date] = set()
    if admitted:
        end = min([as_of, *discharged[:1]])
        inside = {admitted[0] + timedelta(days=n) for n in range((end - admitted[0]).days + 1)}
    absences = [b for b in live if b["type"] == "AbsenceRecorded" and on(b) in inside]
    unexcused = {on(b) for b in absences if not b["data"].get("excused", False)}
    excused = {on(b) for b in absences if b["data"].get("excused", False)}
    tardy = {on(b) for b in live if b["type"] == "TardinessRecorded" and on(b) in inside}
    return {
        "unexcused": len(unexcused),
        "excused": len(excused),
        "tardy": len(tardy),
        "equivalents": len(unexcused) + len(tardy) // 5,
    }


@PROPERTY_SETTINGS
@given(st.data(), histories())
def test_attendance_figures_count_only_dates_from_admission_to_discharge(
    data: st.DataObject, bodies: list[Body]
) -> None:
    first, last = span(bodies)
    # Absences and tardiness anywhere, inside and outside the program.
    for when in data.draw(st.lists(st.dates(first, min(last, LATEST)), max_size=8), "more"):
        kind = data.draw(st.sampled_from(["AbsenceRecorded", "TardinessRecorded"]), "kind")
        detail = {"excused": False} if kind == "AbsenceRecorded" else {"minutes_late": 5}
        bodies = [*bodies, body(kind, when, detail)]
    as_of = data.draw(st.dates(first, last + timedelta(days=30)), "as_of")
    assessment = assess(as_facts(bodies), PACK, as_of)
    assert {
        "unexcused": assessment.unexcused_absences,
        "excused": assessment.excused_absences,
        "tardy": assessment.tardy_days,
        "equivalents": assessment.absence_equivalents,
    } == model_attendance(bodies, as_of)
