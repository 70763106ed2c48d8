"""Evaluation standards (TS-b, TS-c, TS-d, TS-e, TS-i).

Policy 481, "Treatment Standards": the initial evaluation covers the nine
domains (b), quantitative measures (c) and rehabilitation goals (d); its
documentation is completed within 5-7 working days (e); progress is
re-evaluated periodically (i), at the pack's interval.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from domain.identifiers import discipline as compared  # R15: the one normalisation
from domain.policy import PolicyPack
from projections.calendar import (
    interval_deadline,
    last_anchor,
    nth_working_day_after,
    overdue_gaps,
    working_days_between,
)
from projections.model import Finding, violation, warning
from projections.record import ProgramRecord


def evaluation_content_findings(record: ProgramRecord, pack: PolicyPack) -> list[Finding]:
    """What the initial evaluation leaves out: a qualified evaluator and the domains
    (TS-b, docs/domain.md R6), measures (TS-c), goals (TS-d)."""
    if record.evaluation is None:
        return []
    on = record.evaluation.occurred_on
    body = record.evaluation.body
    findings: list[Finding] = []
    # Disciplines compare case-insensitively, spaces as underscores (docs/domain.md
    # R15): "Physical Therapist" is physical_therapist.
    discipline = body.evaluator.discipline.strip()
    qualified_ones = {compared(d) for d in pack.qualified_evaluator_disciplines} - {None}
    if compared(discipline) not in qualified_ones:
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


@dataclass(frozen=True)
class DocumentationClock:
    """TS-e's clock: where it starts, and the first day of the warning and of the violation."""

    start: date
    origin: str  # "the initial evaluation" or "admission", for messages
    warning_from: date  # the first working day past the warning threshold
    violation_from: date  # the first working day past the violation threshold


def documentation_clock(record: ProgramRecord, pack: PolicyPack) -> DocumentationClock | None:
    """When evaluation documentation becomes late (TS-e), or None before the clock starts.

    The clock starts at the earlier of the initial evaluation and admission
    (R1: the evaluation belongs to admission, so one held weeks later is late
    documentation); the warning starts on the first working day past the
    pack's warning threshold, the violation on the first past its violation one.
    """
    deadlines = pack.deadlines
    calendar = deadlines.holiday_calendar
    evaluation = record.evaluation
    starts = [entry.occurred_on for entry in (evaluation, record.admission) if entry is not None]
    if not starts:
        return None
    start = min(starts)
    origin = (
        "the initial evaluation"
        if evaluation is not None and evaluation.occurred_on == start
        else "admission"
    )
    return DocumentationClock(
        start,
        origin,
        nth_working_day_after(start, deadlines.evaluation_warning_working_days + 1, calendar),
        nth_working_day_after(start, deadlines.evaluation_violation_working_days + 1, calendar),
    )


def documented_by(record: ProgramRecord, day: date) -> bool:
    """Whether the initial evaluation's documentation was complete on `day` (TS-e):
    the evaluation is on record and its `documented_on` is not after `day`."""
    evaluation = record.evaluation
    if evaluation is None or evaluation.occurred_on > day:
        return False
    documented_on = evaluation.body.documented_on
    return documented_on is not None and documented_on <= day


def evaluation_timeliness_findings(record: ProgramRecord, pack: PolicyPack) -> list[Finding]:
    """Whether evaluation documentation took longer than the pack's working days (TS-e).

    Past the warning threshold is a warning dated the first working day past
    it; past the violation threshold, a violation dated likewise (see
    `documentation_clock`). Each is judged from the facts of its own day, so
    documentation that arrives later leaves both in place (docs/domain.md R1).
    """
    clock = documentation_clock(record, pack)
    if clock is None:
        return []
    deadlines = pack.deadlines
    calendar = deadlines.holiday_calendar
    evaluation = record.evaluation
    start, origin = clock.start, clock.origin
    documented_on = evaluation.body.documented_on if evaluation is not None else None
    findings: list[Finding] = []
    for limit, passed_on, make, label in (
        (deadlines.evaluation_warning_working_days, clock.warning_from, warning, "warning"),
        (deadlines.evaluation_violation_working_days, clock.violation_from, violation, "violation"),
    ):
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


def reevaluation_deadline(record: ProgramRecord, pack: PolicyPack) -> date | None:
    """The last day for the next progress re-evaluation (TS-i): the pack's interval
    after admission or the last re-evaluation; None before admission."""
    admitted_on = record.admitted_on
    if admitted_on is None:
        return None
    anchors = [r.occurred_on for r in record.reevaluations]
    anchor = last_anchor(admitted_on, anchors, record.window_end)
    return interval_deadline(anchor, pack.deadlines.reevaluation_interval_days)


def reevaluation_findings(record: ProgramRecord, pack: PolicyPack) -> list[Finding]:
    """Gaps longer than the pack's re-evaluation interval, from admission on (TS-i).

    The anchors are admission and each re-evaluation; a gap to the next
    anchor (or to D, or to discharge if earlier) longer than the interval
    gives one finding, dated the first day past the interval. Each gap is
    judged from the facts up to its due date, so a late re-evaluation leaves
    the finding in place (docs/domain.md R1). And each re-evaluation that records
    no quantitative measures (`reevaluation_incomplete`, docs/domain.md R18).
    """
    findings: list[Finding] = [
        warning(
            "reevaluation_incomplete",
            "TS-i",
            r.occurred_on,
            f"Progress re-evaluation of {r.occurred_on} records no quantitative measures; "
            "progress is documented by measures (TS-i).",
        )
        for r in record.reevaluations
        if not r.body.measures
    ]
    admitted_on = record.admitted_on
    if admitted_on is None:
        return findings
    interval = pack.deadlines.reevaluation_interval_days
    anchors = [r.occurred_on for r in record.reevaluations]
    for anchor, following, due in overdue_gaps(admitted_on, anchors, interval, record.window_end):
        kind = "admission" if anchor == admitted_on else "the last re-evaluation"
        came = f"; the next came on {following}" if following is not None else ""
        findings.append(
            violation(
                "reevaluation_overdue",
                "TS-i",
                due,
                f"No progress re-evaluation within {interval} days of {kind} on {anchor} "
                f"(due by {interval_deadline(anchor, interval)}{came}) (TS-i).",
            )
        )
    return findings
