"""Admission criteria (ADM-1, 2, 3, 5, 7, 9): the checklist at admission.

Policy 481, "Admission Criteria". Items 4, 6 and 8 say "may or may not" and
so cannot fail. Item 5 (psychosocial barriers) is what sets work hardening
apart from work conditioning: its absence is a warning, not a violation.
"""

from __future__ import annotations

from domain.events import AdmissionCriteria
from domain.policy import PolicyPack
from projections.model import Finding, violation, warning
from projections.record import ProgramRecord

# Checklist field -> (clause, what the item means, in a case manager's words).
REQUIRED_ITEMS: tuple[tuple[str, str, str], ...] = (
    ("potential_to_benefit", "ADM-1", "potential to benefit (rehabilitative care completed)"),
    (
        "function_interferes_with_work",
        "ADM-2",
        "current function interfering with work or daily activities",
    ),
    ("return_to_work_plan", "ADM-3", "a targeted job or return-to-work plan"),
    ("no_prohibiting_condition", "ADM-7", "no condition prohibiting participation"),
    ("informed_consent", "ADM-9", "informed consent for treatment"),
)


def admission_findings(record: ProgramRecord, pack: PolicyPack) -> list[Finding]:
    """Each unmet admission item, one finding each, dated the admission day."""
    if record.admission is None:
        return []
    on = record.admission.occurred_on
    criteria: AdmissionCriteria = record.admission.body.criteria
    findings: list[Finding] = []
    for field, clause, meaning in REQUIRED_ITEMS:
        if not getattr(criteria, field):
            findings.append(
                violation(
                    "admission_criteria_unmet",
                    clause,
                    on,
                    f"Admission on {on} does not confirm {meaning} ({clause}).",
                )
            )
    if not criteria.psychosocial_barriers:
        findings.append(
            warning(
                "consider_work_conditioning",
                "ADM-5",
                on,
                f"Admission on {on} records no attitudinal, behavioural or psychosocial "
                "barriers to return to work; work conditioning may fit better than "
                "work hardening (ADM-5).",
            )
        )
    return findings
