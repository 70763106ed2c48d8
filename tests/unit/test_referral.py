"""Referral criteria (REF-1..3) and the policy's history (HIST-1)."""

from __future__ import annotations

from datetime import timedelta

from domain.policy import PolicyCatalog

from .builders import Program, clauses, day, found

REFERRED_ON = day("2026-02-27")


def test_a_complete_referral_has_no_referral_findings(program: Program) -> None:
    program.referred(REFERRED_ON)
    assert found(program.assess(REFERRED_ON), "referral_incomplete") == []


def test_an_unreported_compensable_injury_breaks_ref_1(program: Program) -> None:
    program.referred(REFERRED_ON, compensable=False)
    findings = found(program.assess(REFERRED_ON), "referral_incomplete")
    assert [(f.clause, f.severity, f.occurred_on) for f in findings] == [
        ("REF-1", "violation", REFERRED_ON)
    ]


def test_a_referral_naming_no_one_who_recommends_it_breaks_ref_2(program: Program) -> None:
    program.referred(REFERRED_ON, referred_by="   ")
    assert clauses(program.assess(REFERRED_ON), "referral_incomplete") == ["REF-2"]


def test_a_referral_without_a_prescription_breaks_ref_3(program: Program) -> None:
    program.referred(REFERRED_ON, prescription=False)
    findings = found(program.assess(REFERRED_ON), "referral_incomplete")
    assert [f.clause for f in findings] == ["REF-3"]
    assert "prescription" in findings[0].message


def test_each_missing_referral_criterion_is_its_own_finding(program: Program) -> None:
    program.referred(REFERRED_ON, compensable=False, referred_by="", prescription=False)
    assert clauses(program.assess(REFERRED_ON), "referral_incomplete") == [
        "REF-1",
        "REF-2",
        "REF-3",
    ]


def test_a_program_with_no_referral_left_is_withdrawn_with_no_figures(program: Program) -> None:
    # Rev 2 (R10): status `withdrawn`, no longer `referred`.
    referral = program.referred(REFERRED_ON, prescription=False)
    program.retract(referral, REFERRED_ON)
    assessment = program.assess(REFERRED_ON)
    assert assessment.status == "withdrawn"
    assert assessment.findings == ()
    assert assessment.total_hours == 0


def test_a_program_whose_every_referral_is_retracted_has_no_figures_and_no_findings(
    program: Program,
) -> None:
    first = program.referred(REFERRED_ON, prescription=False)
    program.retract(first, REFERRED_ON)
    second = program.referred(REFERRED_ON, compensable=False)
    program.admitted(REFERRED_ON, informed_consent=False)
    program.session(REFERRED_ON, "10")
    program.absence(REFERRED_ON)
    program.discharged(REFERRED_ON, "plateau")
    assert program.assess(REFERRED_ON).status == "discharged"
    program.retract(second, REFERRED_ON)
    assessment = program.assess(REFERRED_ON + timedelta(days=400))
    assert assessment.status == "withdrawn"
    assert assessment.findings == ()
    assert assessment.billing == ()
    figures = assessment.figures()
    assert (figures["admitted_on"], figures["discharged_on"]) == (None, None)
    assert figures["discharge_reasons"] == [] and not figures["discharge_eligible"]
    for name in (
        "weeks_used",
        "days_attended",
        "total_hours",
        "reimbursable_hours",
        "unexcused_absences",
        "excused_absences",
        "tardy_days",
        "absence_equivalents",
    ):
        assert figures[name] == 0, name


def test_a_program_with_one_referral_retracted_and_another_standing_is_not_withdrawn(
    program: Program,
) -> None:
    first = program.referred(REFERRED_ON)
    program.retract(first, REFERRED_ON)
    program.referred(REFERRED_ON)
    assert program.assess(REFERRED_ON).status == "referred"


def test_a_referral_dated_while_the_policy_was_inactive_is_not_in_force(
    program: Program,
) -> None:
    referred_on = day("2019-06-01")
    program.referred(referred_on)
    pack, in_force = PolicyCatalog.load().for_referral(referred_on, None)
    findings = found(program.assess(referred_on, pack_in_force=in_force), "policy_not_in_force")
    assert in_force is False
    assert pack.id == "optum-481"
    assert [(f.clause, f.severity, f.occurred_on) for f in findings] == [
        ("HIST-1", "violation", referred_on)
    ]


def test_a_referral_on_the_day_the_policy_was_reactivated_is_in_force(
    program: Program,
) -> None:
    referred_on = day("2021-04-22")
    program.referred(referred_on)
    _, in_force = PolicyCatalog.load().for_referral(referred_on, None)
    assessment = program.assess(referred_on, pack_in_force=in_force)
    assert in_force is True
    assert found(assessment, "policy_not_in_force") == []
