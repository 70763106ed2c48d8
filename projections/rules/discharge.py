"""Discharge criteria (DIS-1..DIS-5) and coverage exhaustion.

Policy 481, "Discharge Criteria": goals met (1), return-to-work readiness
(2), plateau / maximum medical improvement (3), change in medical condition
(4), non-compliance (5). `coverage_exhausted` is COV-2's end: D (or, once
discharged, the discharge date: docs/domain.md R9) is past the last day of the
last covered week. `not_appropriate_to_continue`: the latest re-evaluation says
the program is no longer appropriate (TS-i, docs/domain.md R18). Facts of the
program's course count only from admission (R12): a re-evaluation or medical
change dated before it supports no reason.
"""

from __future__ import annotations

from datetime import date, timedelta

from domain.events import ProgressReEvaluated
from domain.policy import PolicyPack
from projections.model import Finding, warning
from projections.record import Entry, ProgramRecord
from projections.rules.attendance import Attendance
from projections.rules.coverage import coverage_last_day

REASON_CLAUSES: dict[str, str] = {
    "goals_met": "DIS-1",
    "return_to_work_ready": "DIS-2",
    "plateau": "DIS-3",
    "medical_condition_changed": "DIS-4",
    "non_compliance": "DIS-5",
    "not_appropriate_to_continue": "TS-i",
}
# Reasons a re-evaluation states, as its boolean field of the same name.
REEVALUATION_REASONS = ("goals_met", "return_to_work_ready", "plateau")
REASON_WORDS: dict[str, str] = {
    "goals_met": "goals met",
    "return_to_work_ready": "ready to return to work",
    "plateau": "a plateau in progress",
    "medical_condition_changed": "a change in medical condition",
    "non_compliance": "non-compliance",
    "not_appropriate_to_continue": "a re-evaluation finding the program no longer appropriate",
}
NOT_APPROPRIATE = "not_appropriate_to_continue"


def _says(reevaluation: Entry[ProgressReEvaluated] | None, reason: str) -> bool:
    return reevaluation is not None and bool(getattr(reevaluation.body, reason))


def _not_appropriate(reevaluation: Entry[ProgressReEvaluated] | None) -> bool:
    return reevaluation is not None and not reevaluation.body.appropriate_to_continue


def discharge_reasons(
    record: ProgramRecord, pack: PolicyPack, counts: Attendance
) -> tuple[str, ...]:
    """Why the client may be discharged, in DIS order, then coverage_exhausted.

    Judged as of D while the program runs; once discharged, as of the
    discharge date whatever D (docs/domain.md R9): the reasons explain the
    discharge, so a program discharged in week 3 never shows coverage
    exhausted, and nothing recorded after the discharge adds a reason.
    """
    judged_on = record.window_end
    before = record.in_course(record.reevaluations, judged_on)
    latest = before[-1] if before else None
    reasons = [reason for reason in REEVALUATION_REASONS if _says(latest, reason)]
    if _not_appropriate(latest):
        reasons.append(NOT_APPROPRIATE)
    if record.in_course(record.medical_changes, judged_on):
        reasons.append("medical_condition_changed")
    if counts.up_to(judged_on).non_compliant:
        reasons.append("non_compliance")
    last_covered = coverage_last_day(record, pack)
    if last_covered is not None and judged_on > last_covered:
        reasons.append("coverage_exhausted")
    return tuple(reasons)


def reason_dates(record: ProgramRecord, pack: PolicyPack, counts: Attendance) -> set[date]:
    """Every date on which `discharge_reasons` may differ from the day before, for a
    record with these facts judged at varying dates: what it reads starts to count on
    its own date (a re-evaluation, a medical change), non-compliance on the day the
    absence equivalents first went over the limit (they only grow from then on), and
    `coverage_exhausted` the day after the last covered day."""
    found = {entry.occurred_on for entry in record.reevaluations}
    found.update(entry.occurred_on for entry in record.medical_changes)
    exceeded = counts.first_exceeded_on()
    if exceeded is not None:
        found.add(exceeded)
    last_covered = coverage_last_day(record, pack)
    if last_covered is not None:
        found.add(last_covered + timedelta(days=1))
    return found


def discharge_reason_findings(
    record: ProgramRecord, pack: PolicyPack, counts: Attendance
) -> list[Finding]:
    """A discharge whose stated reason the record does not show (DIS-1..DIS-5).

    Judged on the facts on or before the discharge date.
    """
    discharge = record.discharge
    if discharge is None:
        return []
    on = discharge.occurred_on
    reason = discharge.body.reason
    if reason in REEVALUATION_REASONS:
        before = record.in_course(record.reevaluations, on)
        latest = before[-1] if before else None
        if _says(latest, reason):
            return []
        shown = (
            f"the latest re-evaluation ({latest.occurred_on}) does not say so"
            if latest
            else "no progress re-evaluation since admission is on record"
        )
    elif reason == "medical_condition_changed":
        if record.in_course(record.medical_changes, on):
            return []
        shown = "no change in medical condition since admission is on record"
    else:
        at = counts.up_to(on)
        if at.non_compliant:
            return []
        shown = (
            f"absence equivalents by then were {at.absence_equivalents}, not over the "
            f"{pack.limits.max_unexcused_absences} allowed"
        )
    clause = REASON_CLAUSES[reason]
    return [
        warning(
            "discharge_reason_unsupported",
            clause,
            on,
            f"Discharged on {on} for {REASON_WORDS[reason]}, but {shown} ({clause}).",
        )
    ]
