"""The rules a program is judged by, and the figures of a judged record.

`RULES` lists every rule family (`projections/rules/`) with what it reads besides
the singletons; the fold (`projections.fold`), the one judge, runs them.
`assessment_of` turns a judged record into an `Assessment` (figures, findings,
billing); `merge_findings` makes one finding per (code, clause, date);
`status_of` says where the program stands.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from operator import itemgetter
from typing import Any

from domain.events import (
    AbsenceRecorded,
    MedicalConditionChanged,
    ProgressReEvaluated,
    RepeatProgramApproved,
    StaffConferenceHeld,
    TardinessRecorded,
)
from domain.policy import PolicyPack
from projections.calendar import week_number
from projections.model import (
    VIOLATION,
    Assessment,
    BillingDay,
    BillingLine,
    Finding,
)
from projections.record import ProgramRecord
from projections.rules.admission import admission_findings
from projections.rules.attendance import Attendance, non_compliance_findings
from projections.rules.coding import billing_days, coding_findings
from projections.rules.conferences import conference_findings
from projections.rules.continuation import continuation_findings
from projections.rules.coverage import (
    DayLedger,
    policy_in_force_findings,
    reimbursable_hours,
    reimbursement_findings,
    repeat_program_findings,
)
from projections.rules.discharge import discharge_reason_findings
from projections.rules.evaluation import (
    evaluation_content_findings,
    evaluation_timeliness_findings,
    reevaluation_findings,
)
from projections.rules.referral import referral_findings
from projections.rules.report import report_findings
from projections.rules.selection import selection_findings
from projections.rules.sessions import (
    activity_findings,
    documentation_findings,
    duration_findings,
    frequency_findings,
    provider_findings,
)

__all__ = [
    "RULES",
    "Assessment",
    "BillingDay",
    "BillingLine",
    "Finding",
    "RuleInputs",
    "assessment_of",
    "merge_findings",
    "status_of",
]


def assessment_of(
    record: ProgramRecord,
    pack: PolicyPack,
    ledger: DayLedger,
    counts: Attendance,
    reasons: tuple[str, ...],
    findings: tuple[Finding, ...],
    billing: tuple[BillingDay, ...] | None = None,
    findings_json: Callable[[], Sequence[dict[str, Any]]] | None = None,
) -> Assessment:
    """The figures of a judged record. Only `ledger.reimbursable` and those days'
    hours are read from the ledger (every reimbursable day: at most the pack's
    days a week times its weeks); days attended and hours come from `record`;
    `billing`, when given, is `billing_days(ledger, pack)` already worked out."""
    return Assessment(
        status=status_of(record),
        policy=pack.id,
        as_of=record.as_of,
        admitted_on=record.admitted_on,
        discharged_on=record.discharged_on,
        weeks_used=_weeks_used(record),
        days_attended=len(record.session_days),
        total_hours=sum(map(_hours, record.session_days), Decimal(0)),
        reimbursable_hours=reimbursable_hours(ledger, pack),
        unexcused_absences=counts.unexcused_absences,
        excused_absences=counts.excused_absences,
        tardy_days=counts.tardy_days,
        absence_equivalents=counts.absence_equivalents,
        discharge_eligible=bool(reasons),
        discharge_reasons=reasons,
        findings=findings,
        billing=billing_days(ledger, pack) if billing is None else billing,
        findings_json=findings_json,
    )


@dataclass(frozen=True)
class RuleInputs:
    """What the rules read: the record, the pack, COV-2's day ledger, the attendance
    counts, and the context only the store knows (pack in force, COV-1)."""

    record: ProgramRecord
    pack: PolicyPack
    ledger: DayLedger
    counts: Attendance
    pack_in_force: bool
    earlier_programs_same_referral: Sequence[str]


@dataclass(frozen=True)
class Rule:
    """One rule family's findings, and what it reads besides the singletons
    (referral, admission, evaluation, discharge, report) and `as_of`.

    `week_local`: it reads sessions, and of them only the sessions of each
    finding's own program week (or own date, outside the program). `reads`:
    the other fact types it reads (through `RuleInputs.counts`: absences and
    tardiness). The fold (`projections.fold`) re-runs a rule for a new fact only
    when what it reads changed; the differential tests hold it to `assess`.
    """

    find: Callable[[RuleInputs], list[Finding]]
    reads: frozenset[type] = frozenset()
    week_local: bool = False


ATTENDANCE_READS = frozenset([AbsenceRecorded, TardinessRecorded])
REASONS_READS = ATTENDANCE_READS | {ProgressReEvaluated, MedicalConditionChanged}

# Every rule, in the order `judge` lists (and `merge_findings` merges) their findings.
RULES: tuple[Rule, ...] = (
    Rule(lambda i: policy_in_force_findings(i.record, i.pack, i.pack_in_force)),
    Rule(lambda i: referral_findings(i.record, i.pack)),
    Rule(lambda i: selection_findings(i.record, i.pack)),
    Rule(
        lambda i: repeat_program_findings(i.record, i.earlier_programs_same_referral),
        frozenset([RepeatProgramApproved]),
    ),
    Rule(lambda i: admission_findings(i.record, i.pack)),
    Rule(lambda i: evaluation_content_findings(i.record, i.pack)),
    Rule(lambda i: evaluation_timeliness_findings(i.record, i.pack)),
    Rule(lambda i: reevaluation_findings(i.record, i.pack), frozenset([ProgressReEvaluated])),
    Rule(lambda i: conference_findings(i.record, i.pack), frozenset([StaffConferenceHeld])),
    Rule(lambda i: documentation_findings(i.record, i.pack), week_local=True),
    Rule(lambda i: activity_findings(i.record, i.pack), week_local=True),
    Rule(lambda i: continuation_findings(i.record, i.pack), week_local=True),
    Rule(lambda i: provider_findings(i.record, i.pack), week_local=True),
    Rule(lambda i: frequency_findings(i.record, i.pack), week_local=True),
    Rule(lambda i: duration_findings(i.record, i.pack)),
    Rule(lambda i: reimbursement_findings(i.record, i.pack, i.ledger), week_local=True),
    Rule(lambda i: coding_findings(i.record, i.pack, i.ledger), week_local=True),
    Rule(lambda i: non_compliance_findings(i.counts, i.pack), ATTENDANCE_READS),
    Rule(lambda i: discharge_reason_findings(i.record, i.pack, i.counts), REASONS_READS),
    Rule(lambda i: report_findings(i.record, i.pack)),
)


_hours = itemgetter(1)  # a SessionDay's hours


def status_of(record: ProgramRecord) -> str:
    """The program's status: withdrawn, discharged, admitted or referred.

    `withdrawn` when every referral of the program is retracted (docs/domain.md R10).
    """
    if record.withdrawn:
        return "withdrawn"
    if record.discharge is not None:
        return "discharged"
    if record.admission is not None:
        return "admitted"
    return "referred"


def _weeks_used(record: ProgramRecord) -> int:
    if record.admitted_on is None:
        return 0
    return max(0, week_number(record.admitted_on, record.window_end))


def merge_findings(findings: Sequence[Finding]) -> tuple[Finding, ...]:
    """Findings sorted by (occurred_on, code, clause), one per key.

    `Finding.key()` is how two assessments are diffed, so it must be unique:
    findings sharing a key (two undocumented sessions on one day, an
    unlicensed evaluator and session on the same day) become one, the worse
    severity, their messages joined.
    """
    merged: dict[tuple[str, str, date], Finding] = {}
    for finding in findings:
        key = finding.key()
        seen = merged.get(key)
        if seen is None:
            merged[key] = finding
            continue
        severity = VIOLATION if VIOLATION in (seen.severity, finding.severity) else seen.severity
        message = seen.message
        if finding.message not in message:
            message = f"{message} {finding.message}"
        merged[key] = Finding(seen.code, seen.clause, severity, seen.occurred_on, message)
    return tuple(sorted(merged.values(), key=lambda f: (f.occurred_on, f.code, f.clause)))
