"""Evaluation standards (TS-b, TS-c, TS-d, TS-e, TS-i).

Policy 481, "Treatment Standards": the initial evaluation covers the nine
domains (b), quantitative measures (c) and rehabilitation goals (d); its
documentation is completed within 5-7 working days (e); progress is
re-evaluated periodically (i), at the pack's interval.
"""

from __future__ import annotations

from datetime import date, timedelta

from domain.policy import PolicyPack
from projections.calendar import nth_working_day_after, working_days_between
from projections.model import Finding, violation, warning
from projections.record import ProgramRecord


def evaluation_content_findings(record: ProgramRecord, pack: PolicyPack) -> list[Finding]:
    """What the initial evaluation leaves out: domains (TS-b), measures (TS-c), goals (TS-d)."""
    if record.evaluation is None:
        return []
    on = record.evaluation.occurred_on
    body = record.evaluation.body
    findings: list[Finding] = []
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

    Counted from the evaluation to its `documented_on`. While no documented
    evaluation is on record as of D, the clock runs to D, from the evaluation
    if one exists, else from admission. One finding, the worse severity,
    dated the working day the threshold was passed.
    """
    deadlines = pack.deadlines
    calendar = deadlines.holiday_calendar
    evaluation = record.evaluation
    documented_on = evaluation.body.documented_on if evaluation else None
    if evaluation is not None and documented_on is not None and documented_on <= record.as_of:
        start, end, done = evaluation.occurred_on, documented_on, True
    elif evaluation is not None:
        start, end, done = evaluation.occurred_on, record.as_of, False
    elif record.admitted_on is not None:
        start, end, done = record.admitted_on, record.as_of, False
    else:
        return []
    elapsed = working_days_between(start, end, calendar)
    if elapsed > deadlines.evaluation_violation_working_days:
        limit, make, label = deadlines.evaluation_violation_working_days, violation, "violation"
    elif elapsed > deadlines.evaluation_warning_working_days:
        limit, make, label = deadlines.evaluation_warning_working_days, warning, "warning"
    else:
        return []
    passed_on = nth_working_day_after(start, limit + 1, calendar)
    origin = "the initial evaluation" if evaluation is not None else "admission"
    if done:
        what = f"Evaluation documentation was completed on {end}, {elapsed} working days after"
    else:
        what = f"Evaluation documentation is still not on record {elapsed} working days after"
    return [
        make(
            "evaluation_documentation_late",
            "TS-e",
            passed_on,
            f"{what} {origin} on {start}; the policy expects it within "
            f"{deadlines.evaluation_warning_working_days}-"
            f"{deadlines.evaluation_violation_working_days} working days "
            f"(more than {limit} is a {label}) (TS-e).",
        )
    ]


def reevaluation_findings(record: ProgramRecord, pack: PolicyPack) -> list[Finding]:
    """Gaps longer than the pack's re-evaluation interval, from admission on (TS-i).

    The anchors are admission and each re-evaluation; a gap to the next
    anchor (or to D, or to discharge if earlier) longer than the interval
    gives one finding, dated the first day past the interval.
    """
    admitted_on = record.admitted_on
    if admitted_on is None:
        return []
    interval = pack.deadlines.reevaluation_interval_days
    end = record.window_end
    anchors = sorted(
        {admitted_on}
        | {r.occurred_on for r in record.reevaluations if admitted_on <= r.occurred_on <= end}
    )
    findings: list[Finding] = []
    for anchor, following in zip(anchors, [*anchors[1:], None], strict=True):
        until = following if following is not None else end
        if (until - anchor).days <= interval:
            continue
        due: date = anchor + timedelta(days=interval + 1)
        if due > end:
            continue
        kind = "admission" if anchor == admitted_on else "the last re-evaluation"
        findings.append(
            violation(
                "reevaluation_overdue",
                "TS-i",
                due,
                f"No progress re-evaluation within {interval} days of {kind} on {anchor} "
                f"(due by {anchor + timedelta(days=interval)}) (TS-i).",
            )
        )
    return findings
