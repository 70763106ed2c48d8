"""Due dates against findings, over generated histories (`tests.histories`).

API.md revision 2 lists each obligation with the last day it can be met
(`due_on`); DOMAIN.md dates each deadline finding the first day past it. So:

(a) an obligation listed `missed` as of D has its finding as of D, dated the
    day after `due_on` (TS-e: the warning then, and once `violation_on` has
    passed the violation the day after it; COV-2's coverage end is no breach
    by itself: the client is then eligible for discharge, `coverage_exhausted`);
(b) every deadline finding dated F was announced: as of F - 1 the list held
    its obligation, `open`, due F - 1 (a TS-e violation: `violation_on` F - 1);
(c) the read model's segments of the list say, date by date, what the list says;
(d) a fact of a type outside `projections.due.READS` leaves the segments as they
    were (the read model skips working them out again for one).

The table of which kind becomes which finding is DOMAIN.md's, written here.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain.events import EVENT_MODELS
from domain.facts import Fact
from projections.compliance import Assessment
from projections.due import READS, due, due_segments
from tests.histories import as_facts, histories
from tests.oracles.assess import assess
from tests.oracles.breakpoints import breakpoints

from .builders import PACK
from .test_causality_properties import extra_facts, span, standing

PROPERTY_SETTINGS = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
ONE_DAY = timedelta(days=1)
REPORT_SECTIONS = ("REP-a", "REP-b", "REP-c", "REP-d", "REP-e")
# DOMAIN.md: the finding each missed deadline becomes (code, clauses, severity).
BECOMES: dict[str, tuple[str, tuple[str, ...], str]] = {
    "evaluation_documentation": ("evaluation_documentation_late", ("TS-e",), "warning"),
    "reevaluation": ("reevaluation_overdue", ("TS-i",), "violation"),
    "staff_conference": ("staff_conference_overdue", ("TS-j",), "warning"),
    "discharge_report": ("report_incomplete", REPORT_SECTIONS, "violation"),
}
Key = tuple[str, str, date, str]
# Which report section each REP clause asks for (docs/domain.md).
SECTION_CLAUSES = {
    "demographics": "REP-a",
    "work_history": "REP-a",
    "indications": "REP-b",
    "interventions": "REP-c",
    "outcomes": "REP-d",
    "recommendations": "REP-e",
}


def report_clauses_missed(bodies: list[dict[str, Any]], due_on: date) -> tuple[str, ...]:
    """The REP clauses a missed report deadline cites (R17): what the latest standing
    report filed from the discharge to `due_on` left out, every clause when none was."""
    discharged_on = due_on - timedelta(days=PACK.deadlines.report_deadline_days)
    in_time = [
        b
        for b in standing(bodies)
        if b["type"] == "DischargeReportFiled"
        and discharged_on <= date.fromisoformat(b["occurred_on"]) <= due_on
    ]
    if not in_time:
        return REPORT_SECTIONS
    latest = sorted(in_time, key=lambda b: b["occurred_on"])[-1]["data"]  # stable: record order
    return tuple(
        sorted({c for section, c in SECTION_CLAUSES.items() if not latest.get(section, "").strip()})
    )


def keys(assessment: Assessment) -> set[Key]:
    return {(f.code, f.clause, f.occurred_on, f.severity) for f in assessment.findings}


def dates_to_check(facts: list[Fact], drawn: date) -> list[date]:
    found = {drawn}
    for point in breakpoints(facts, PACK):
        found |= {point + timedelta(days=n) for n in (-1, 0, 1)}
    return sorted(found)


@st.composite
def programs(draw: st.DrawFn) -> tuple[list[dict[str, Any]], date]:
    bodies = draw(histories())
    for _ in range(draw(st.integers(0, 3))):
        bodies = [*bodies, draw(extra_facts(bodies))]
    first, last = span(bodies)
    return bodies, draw(st.dates(first, last + timedelta(days=60)))


@PROPERTY_SETTINGS
@given(programs())
def test_a_missed_obligation_is_the_finding_dated_the_day_after_its_due_date(
    program: tuple[list[dict[str, Any]], date],
) -> None:
    bodies, drawn = program
    facts = as_facts(bodies)
    for as_of in dates_to_check(facts, drawn):
        listed = due(facts, PACK, as_of)
        assessment = assess(facts, PACK, as_of)
        found = keys(assessment)
        for obligation in listed.obligations:
            if obligation.status(as_of) == "open":
                assert obligation.due_on >= as_of
                continue
            if obligation.kind == "coverage_end":
                assert "coverage_exhausted" in assessment.discharge_reasons, (as_of, obligation)
                continue
            code, clauses, severity = BECOMES[obligation.kind]
            if obligation.kind == "discharge_report":
                clauses = report_clauses_missed(bodies, obligation.due_on)
            for clause in clauses:
                key = (code, clause, obligation.due_on + ONE_DAY, severity)
                assert key in found, (as_of, obligation, key)
            late = obligation.violation_on
            if late is not None and late < as_of:
                key = (code, "TS-e", late + ONE_DAY, "violation")
                assert key in found, (as_of, obligation, key)


@PROPERTY_SETTINGS
@given(programs())
def test_every_deadline_finding_was_listed_open_and_due_the_day_before(
    program: tuple[list[dict[str, Any]], date],
) -> None:
    bodies, drawn = program
    facts = as_facts(bodies)
    # A report filed with empty sections is found on its filing date: no deadline.
    filed = {b["occurred_on"] for b in standing(bodies) if b["type"] == "DischargeReportFiled"}
    kinds = {finding[0]: kind for kind, finding in BECOMES.items()}
    as_of = max(dates_to_check(facts, drawn))
    for code, clause, on, severity in keys(assess(facts, PACK, as_of)):
        if code not in kinds or (code == "report_incomplete" and on.isoformat() in filed):
            continue
        before = on - ONE_DAY
        listed = {o.kind: o for o in due(facts, PACK, before).obligations}
        obligation = listed.get(kinds[code])
        assert obligation is not None, (code, clause, on)
        if code == "evaluation_documentation_late" and severity == "violation":
            # Missed since its warning; its last day without a violation was F - 1.
            assert obligation.violation_on == before, (code, on, obligation)
        else:
            assert obligation.status(before) == "open"
            assert obligation.due_on == before, (code, on, obligation)


@PROPERTY_SETTINGS
@given(programs())
def test_the_segments_of_the_list_say_what_the_list_says_on_every_date(
    program: tuple[list[dict[str, Any]], date],
) -> None:
    bodies, drawn = program
    facts = as_facts(bodies)
    segments = due_segments(facts, PACK)
    for as_of in dates_to_check(facts, drawn):
        on_date = {
            s.obligation
            for s in segments
            if s.valid_from <= as_of and (s.valid_to is None or as_of < s.valid_to)
        }
        assert on_date == set(due(facts, PACK, as_of).obligations), as_of


@pytest.mark.parametrize("kind", sorted(set(EVENT_MODELS) - READS))
@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
@given(data=st.data(), program=programs())
def test_a_fact_the_list_does_not_read_leaves_its_segments_as_they_were(
    kind: str, data: st.DataObject, program: tuple[list[dict[str, Any]], date]
) -> None:
    bodies, _ = program
    extra = data.draw(extra_facts(bodies).filter(lambda b: b["type"] == kind), "extra")
    before = due_segments(as_facts(bodies), PACK)
    assert due_segments(as_facts([*bodies, extra]), PACK) == before
