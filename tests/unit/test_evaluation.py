"""Initial evaluation (TS-b, c, d), its timeliness (TS-e) and re-evaluation (TS-i)."""

from __future__ import annotations

from datetime import date

from projections.compliance import Finding

from .builders import ALL_DOMAINS, UNLICENSED, Program, clauses, day, found, plus

ADMITTED_ON = day("2026-03-02")


def admitted(program: Program, on: date = ADMITTED_ON) -> Program:
    program.referred(plus(on, -3))
    program.admitted(on)
    return program


def late(program: Program, as_of: date) -> list[Finding]:
    return found(program.assess(as_of), "evaluation_documentation_late")


# TS-b, TS-c, TS-d: what the evaluation covers.


def test_a_complete_evaluation_has_no_evaluation_findings(program: Program) -> None:
    admitted(program).evaluated(ADMITTED_ON, documented_on=ADMITTED_ON)
    assessment = program.assess(ADMITTED_ON)
    assert found(assessment, "evaluation_incomplete") == []
    assert found(assessment, "evaluation_documentation_late") == []


def test_an_evaluation_missing_domains_names_them_under_ts_b(program: Program) -> None:
    domains = [d for d in ALL_DOMAINS if d not in ("cardiovascular", "safety")]
    admitted(program).evaluated(ADMITTED_ON, documented_on=ADMITTED_ON, domains=domains)
    findings = found(program.assess(ADMITTED_ON), "evaluation_incomplete")
    assert [(f.clause, f.severity, f.occurred_on) for f in findings] == [
        ("TS-b", "violation", ADMITTED_ON)
    ]
    assert "cardiovascular" in findings[0].message
    assert "safety" in findings[0].message
    assert "2 of the 9" in findings[0].message


def test_an_evaluation_without_measures_breaks_ts_c(program: Program) -> None:
    admitted(program).evaluated(ADMITTED_ON, documented_on=ADMITTED_ON, measures={})
    assert clauses(program.assess(ADMITTED_ON), "evaluation_incomplete") == ["TS-c"]


def test_an_evaluation_without_goals_breaks_ts_d(program: Program) -> None:
    admitted(program).evaluated(ADMITTED_ON, documented_on=ADMITTED_ON, goals=[])
    assert clauses(program.assess(ADMITTED_ON), "evaluation_incomplete") == ["TS-d"]


def test_the_earliest_evaluation_is_the_one_judged(program: Program) -> None:
    admitted(program)
    program.evaluated(plus(ADMITTED_ON, 1), documented_on=plus(ADMITTED_ON, 1))
    program.evaluated(ADMITTED_ON, documented_on=ADMITTED_ON, goals=[])
    assert clauses(program.assess(plus(ADMITTED_ON, 1)), "evaluation_incomplete") == ["TS-d"]


def test_an_unlicensed_evaluator_breaks_pq_1(program: Program) -> None:
    admitted(program).evaluated(ADMITTED_ON, documented_on=ADMITTED_ON, evaluator=UNLICENSED)
    findings = found(program.assess(ADMITTED_ON), "unlicensed_provider")
    assert [(f.clause, f.occurred_on) for f in findings] == [("PQ-1", ADMITTED_ON)]


# TS-e: documentation within 5-7 working days.


def test_documentation_on_the_fifth_working_day_is_on_time(program: Program) -> None:
    # Mon 2 Mar 2026 -> Mon 9 Mar is 5 working days.
    admitted(program).evaluated(ADMITTED_ON, documented_on=day("2026-03-09"))
    assert late(program, day("2026-03-31")) == []


def test_documentation_on_the_sixth_working_day_is_a_warning_dated_that_day(
    program: Program,
) -> None:
    admitted(program).evaluated(ADMITTED_ON, documented_on=day("2026-03-10"))
    findings = late(program, day("2026-03-31"))
    assert [(f.clause, f.severity, f.occurred_on) for f in findings] == [
        ("TS-e", "warning", day("2026-03-10"))
    ]
    assert "6 working days" in findings[0].message


def test_documentation_on_the_seventh_working_day_is_still_only_a_warning(
    program: Program,
) -> None:
    admitted(program).evaluated(ADMITTED_ON, documented_on=day("2026-03-11"))
    assert [f.severity for f in late(program, day("2026-03-31"))] == ["warning"]


def test_documentation_on_the_eighth_working_day_is_a_warning_and_a_violation_each_dated(
    program: Program,
) -> None:
    # Rev 2 (R1): the warning of the 6th working day stays beside the violation.
    admitted(program).evaluated(ADMITTED_ON, documented_on=day("2026-03-16"))
    findings = late(program, day("2026-03-31"))
    assert [(f.severity, f.occurred_on) for f in findings] == [
        ("warning", day("2026-03-10")),
        ("violation", day("2026-03-12")),
    ]


def test_thanksgiving_inside_the_window_is_not_counted(program: Program) -> None:
    # Fri 20 Nov 2026 -> Mon 30 Nov: 23, 24, 25, 27, 30 = 5 working days (26th skipped).
    admitted(program, day("2026-11-20")).evaluated(
        day("2026-11-20"), documented_on=day("2026-11-30")
    )
    assert late(program, day("2026-12-31")) == []


def test_the_day_after_thanksgiving_week_window_closes_is_a_warning(program: Program) -> None:
    admitted(program, day("2026-11-20")).evaluated(
        day("2026-11-20"), documented_on=day("2026-12-01")
    )
    assert [(f.severity, f.occurred_on) for f in late(program, day("2026-12-31"))] == [
        ("warning", day("2026-12-01"))
    ]


def test_observed_independence_day_inside_the_window_is_not_counted(program: Program) -> None:
    # Fri 26 Jun 2026: 29, 30, 1, 2, (3 observed), 6, 7, 8 -> 7 working days by 8 Jul.
    admitted(program, day("2026-06-26")).evaluated(
        day("2026-06-26"), documented_on=day("2026-07-08")
    )
    assert [f.severity for f in late(program, day("2026-07-31"))] == ["warning"]


def test_past_seven_working_days_around_independence_day_is_a_violation(
    program: Program,
) -> None:
    admitted(program, day("2026-06-26")).evaluated(
        day("2026-06-26"), documented_on=day("2026-07-09")
    )
    assert [(f.severity, f.occurred_on) for f in late(program, day("2026-07-31"))] == [
        ("warning", day("2026-07-07")),
        ("violation", day("2026-07-09")),
    ]


def test_undocumented_evaluation_is_late_once_as_of_passes_five_working_days(
    program: Program,
) -> None:
    admitted(program).evaluated(ADMITTED_ON)
    assert late(program, day("2026-03-09")) == []
    assert [(f.severity, f.occurred_on) for f in late(program, day("2026-03-10"))] == [
        ("warning", day("2026-03-10"))
    ]
    assert [(f.severity, f.occurred_on) for f in late(program, day("2026-03-20"))] == [
        ("warning", day("2026-03-10")),
        ("violation", day("2026-03-12")),
    ]


def test_a_documented_on_after_as_of_counts_as_not_yet_documented(program: Program) -> None:
    admitted(program).evaluated(ADMITTED_ON, documented_on=day("2026-03-04"))
    assert late(program, day("2026-03-03")) == []
    program2 = Program()
    admitted(program2).evaluated(ADMITTED_ON, documented_on=day("2026-03-20"))
    assert [f.severity for f in late(program2, day("2026-03-11"))] == ["warning"]


def test_without_any_evaluation_the_clock_runs_from_admission(program: Program) -> None:
    admitted(program)
    assert late(program, day("2026-03-09")) == []
    findings = late(program, day("2026-03-12"))
    assert [(f.severity, f.occurred_on) for f in findings] == [
        ("warning", day("2026-03-10")),
        ("violation", day("2026-03-12")),
    ]
    assert "admission" in findings[1].message


def test_without_admission_or_evaluation_no_clock_runs(program: Program) -> None:
    program.referred(ADMITTED_ON)
    assert late(program, day("2026-06-01")) == []


# TS-i: periodic re-evaluation.


def overdue(program: Program, as_of: date) -> list[date]:
    return [f.occurred_on for f in found(program.assess(as_of), "reevaluation_overdue")]


def test_no_reevaluation_is_due_within_fourteen_days_of_admission(program: Program) -> None:
    admitted(program)
    assert overdue(program, plus(ADMITTED_ON, 14)) == []


def test_no_reevaluation_by_day_fifteen_is_overdue_from_that_day(program: Program) -> None:
    admitted(program)
    assert overdue(program, plus(ADMITTED_ON, 15)) == [plus(ADMITTED_ON, 15)]


def test_a_reevaluation_restarts_the_interval(program: Program) -> None:
    admitted(program).reevaluated(plus(ADMITTED_ON, 10))
    assert overdue(program, plus(ADMITTED_ON, 24)) == []
    assert overdue(program, plus(ADMITTED_ON, 25)) == [plus(ADMITTED_ON, 25)]


def test_a_late_reevaluation_leaves_one_finding_for_the_gap_it_closed(program: Program) -> None:
    admitted(program).reevaluated(plus(ADMITTED_ON, 20))
    assert overdue(program, plus(ADMITTED_ON, 30)) == [plus(ADMITTED_ON, 15)]


def test_discharge_stops_the_reevaluation_clock(program: Program) -> None:
    admitted(program).discharged(plus(ADMITTED_ON, 14), "plateau")
    assert overdue(program, plus(ADMITTED_ON, 60)) == []
