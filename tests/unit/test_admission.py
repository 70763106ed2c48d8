"""Admission criteria (ADM-1, 2, 3, 5, 7, 9)."""

from __future__ import annotations

import pytest

from .builders import Program, clauses, day, found

REFERRED_ON = day("2026-02-27")
ADMITTED_ON = day("2026-03-02")


def test_an_admission_meeting_every_criterion_has_no_admission_findings(
    program: Program,
) -> None:
    program.referred(REFERRED_ON)
    program.admitted(ADMITTED_ON)
    assessment = program.assess(ADMITTED_ON)
    assert found(assessment, "admission_criteria_unmet") == []
    assert found(assessment, "consider_work_conditioning") == []
    assert assessment.status == "admitted"
    assert assessment.admitted_on == ADMITTED_ON


@pytest.mark.parametrize(
    ("item", "clause"),
    [
        ("potential_to_benefit", "ADM-1"),
        ("function_interferes_with_work", "ADM-2"),
        ("return_to_work_plan", "ADM-3"),
        ("no_prohibiting_condition", "ADM-7"),
        ("informed_consent", "ADM-9"),
    ],
)
def test_a_false_required_admission_item_is_a_violation_of_its_clause(
    program: Program, item: str, clause: str
) -> None:
    program.referred(REFERRED_ON)
    program.admitted(ADMITTED_ON, **{item: False})
    findings = found(program.assess(ADMITTED_ON), "admission_criteria_unmet")
    assert [(f.clause, f.severity, f.occurred_on) for f in findings] == [
        (clause, "violation", ADMITTED_ON)
    ]


def test_every_false_admission_item_is_its_own_finding(program: Program) -> None:
    program.referred(REFERRED_ON)
    program.admitted(ADMITTED_ON, informed_consent=False, potential_to_benefit=False)
    assert clauses(program.assess(ADMITTED_ON), "admission_criteria_unmet") == [
        "ADM-1",
        "ADM-9",
    ]


def test_no_psychosocial_barriers_suggests_work_conditioning_as_a_warning(
    program: Program,
) -> None:
    program.referred(REFERRED_ON)
    program.admitted(ADMITTED_ON, psychosocial_barriers=False)
    assessment = program.assess(ADMITTED_ON)
    findings = found(assessment, "consider_work_conditioning")
    assert [(f.clause, f.severity) for f in findings] == [("ADM-5", "warning")]
    assert found(assessment, "admission_criteria_unmet") == []


def test_an_admission_after_as_of_does_not_count_yet(program: Program) -> None:
    program.referred(REFERRED_ON)
    program.admitted(ADMITTED_ON, informed_consent=False)
    assessment = program.assess(day("2026-03-01"))
    assert assessment.status == "referred"
    assert assessment.admitted_on is None
    assert found(assessment, "admission_criteria_unmet") == []
