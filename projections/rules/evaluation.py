"""Evaluation standards (TS-b, TS-c, TS-d, TS-e, TS-i).

Policy 481, "Treatment Standards": the initial evaluation covers the nine
domains (b), quantitative measures (c) and rehabilitation goals (d); its
documentation is completed within 5-7 working days (e); progress is
re-evaluated periodically (i), at the pack's interval.
"""

from __future__ import annotations

from datetime import timedelta

from domain.policy import PolicyPack
from projections.calendar import nth_working_day_after, overdue_gaps, working_days_between
from projections.model import Finding, violation, warning
from projections.record import ProgramRecord


def evaluation_content_findings(record: ProgramRecord, pack: PolicyPack) -> list[Finding]:
    """What the initial evaluation leaves out: a qualified evaluator and the domains
    (TS-b, DOMAIN.md R6), measures (TS-c), goals (TS-d)."""
    if record.evaluation is None:
        return []
    on = record.evaluation.occurred_on
    body = record.evaluation.body
    findings: list[Finding] = []
    discipline = body.evaluator.discipline.strip()
    if discipline not in pack.qualified_evaluator_disciplines:
        qualified = ", ".join(d.replace("_", " ") for d in pack.qualified_evaluator_disciplines)
        findings.append(
            violation(
                "evaluator_not_qualified",
                "TS-b",
                on,
                f"Initial evaluation of {on} is by a "
                f"{discipline.replace('_', ' ') or 'evaluator of no stated discipline'}; "
                f"the policy asks for an evaluation by a {qualified} (TS-b).",
            )
        )
    missing = [d for d in pack.required_evaluation_domains if d not in body.domains]
    if missing:
        names = ", ".join(d.replace("_", " ") for d in missing)
        findings.append(
            violation(
                "evaluation_incomplete",
                "TS-b",
                on,
                f"Initial evaluation of {on} does not assess {len(missing)} of the "
                f"{len(pack.required_evaluation_domains)} required domains: {names} (TS-b).",
            )
        )
    if not body.measures:
        findings.append(
            violation(
                "evaluation_incomplete",
                "TS-c",
                on,
                f"Initial evaluation of {on} records no quantitative measures of "
                "impairment and dysfunction (TS-c).",
            )
        )
    if not any(goal.strip() for goal in body.goals):
        findings.append(
            violation(
                "evaluation_incomplete",
                "TS-d",
                on,
                f"Initial evaluation of {on} sets no rehabilitation goals (TS-d).",
            )
        )
    return findings


def evaluation_timeliness_findings(record: ProgramRecord, pack: PolicyPack) -> list[Finding]:
    """Whether evaluation documentation took longer than the pack's working days (TS-e).

    The clock starts at the earlier of the initial evaluation and admission
    (R1: the evaluation belongs to admission, so one held weeks later is late
    documentation). Past the warning threshold is a warning dated the first
    working day past it; past the violation threshold, a violation dated
    likewise. Each is judged from the facts of its own day, so documentation
    that arrives later leaves both in place (DOMAIN.md R1).
    """
    deadlines = pack.deadlines
    calendar = deadlines.holiday_calendar
    evaluation = record.evaluation
    starts = [entry.occurred_on for entry in (evaluation, record.admission) if entry is not None]
    if not starts:
        return []
    start = min(starts)
    origin = (
        "the initial evaluation"
        if evaluation is not None and evaluation.occurred_on == start
        else "admission"
    )
    documented_on = evaluation.body.documented_on if evaluation is not None else None
    findings: list[Finding] = []
    for limit, make, label in (
        (deadlines.evaluation_warning_working_days, warning, "warning"),
        (deadlines.evaluation_violation_working_days, violation, "violation"),
    ):
        passed_on = nth_working_day_after(start, limit + 1, calendar)
        if passed_on > record.as_of:
            continue
        known = evaluation is not None and evaluation.occurred_on <= passed_on
        if known and documented_on is not None and documented_on < passed_on:
            continue  # completed within `limit` working days
        if known and documented_on is not None:
            elapsed = working_days_between(start, documented_on, calendar)
            came = f"it was completed on {documented_on}, {elapsed} working days after"
        elif evaluation is not None and evaluation.occurred_on > passed_on:
            came = f"the initial evaluation came on {evaluation.occurred_on}"
        else:
            came = "it is still not on record"
        findings.append(
            make(
                "evaluation_documentation_late",
                "TS-e",
                passed_on,
                f"Evaluation documentation was not completed within {limit} working days "
                f"of {origin} on {start} ({came}); the policy expects it within "
                f"{deadlines.evaluation_warning_working_days}-"
                f"{deadlines.evaluation_violation_working_days} working days "
                f"(more than {limit} is a {label}) (TS-e).",
            )
        )
    return findings


def reevaluation_findings(record: ProgramRecord, pack: PolicyPack) -> list[Finding]:
    """Gaps longer than the pack's re-evaluation interval, from admission on (TS-i).

    The anchors are admission and each re-evaluation; a gap to the next
    anchor (or to D, or to discharge if earlier) longer than the interval
    gives one finding, dated the first day past the interval. Each gap is
    judged from the facts up to its due date, so a late re-evaluation leaves
    the finding in place (DOMAIN.md R1).
    """
    admitted_on = record.admitted_on
    if admitted_on is None:
        return []
    interval = pack.deadlines.reevaluation_interval_days
    anchors = [r.occurred_on for r in record.reevaluations]
    findings: list[Finding] = []
    for anchor, following, due in overdue_gaps(admitted_on, anchors, interval, record.window_end):
        kind = "admission" if anchor == admitted_on else "the last re-evaluation"
        came = f"; the next came on {following}" if following is not None else ""
        findings.append(
            violation(
                "reevaluation_overdue",
                "TS-i",
                due,
                f"No progress re-evaluation within {interval} days of {kind} on {anchor} "
                f"(due by {anchor + timedelta(days=interval)}{came}) (TS-i).",
            )
        )
    return findings
