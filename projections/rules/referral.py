"""Referral criteria (REF-1, REF-2, REF-3): what a referral must carry.

Policy 481, "Referral Criteria": a compensable injury appropriately reported
(REF-1); a recommendation by a physician, case manager, court order or other
appropriate party (REF-2); a physician's prescription (REF-3), which must
name its prescriber and its date (docs/domain.md R4). The milestones come in
order (docs/domain.md R17): an admission dated before the referral fails REF-2,
a prescription dated after the admission fails REF-3, both dated the admission.
"""

from __future__ import annotations

from domain.events import Prescription
from domain.policy import PolicyPack
from projections.model import Finding, violation
from projections.record import ProgramRecord

CODE = "referral_incomplete"
BEFORE_REFERRAL = "admitted_before_referral"


def referral_findings(record: ProgramRecord, pack: PolicyPack) -> list[Finding]:
    """Which referral criteria (REF-1..3) the referral does not show, one finding each."""
    if record.referral is None:
        return []
    on = record.referral.occurred_on
    body = record.referral.body
    findings: list[Finding] = []
    if not body.claim.compensable_injury_reported:
        findings.append(
            violation(
                CODE,
                "REF-1",
                on,
                f"Referral of {on} for claim {body.claim.claim_number} does not show a "
                "compensable injury as appropriately reported (REF-1).",
            )
        )
    if not body.referral.referred_by.strip():
        findings.append(
            violation(
                CODE,
                "REF-2",
                on,
                f"Referral of {on} names no one recommending work hardening "
                f"(source: {body.referral.source.replace('_', ' ')}) (REF-2).",
            )
        )
    lacking = _prescription_lacks(body.referral.prescription)
    if lacking is not None:
        findings.append(
            violation(
                CODE,
                "REF-3",
                on,
                f"Referral of {on} has no physician's prescription{lacking} (REF-3).",
            )
        )
    findings.extend(_order_findings(record))
    return findings


def _order_findings(record: ProgramRecord) -> list[Finding]:
    """The admission before the referral (REF-2), or before the prescription (REF-3)."""
    referral, admission = record.referral, record.admission
    if referral is None or admission is None:
        return []
    admitted_on = admission.occurred_on
    found: list[Finding] = []
    if admitted_on < referral.occurred_on:
        found.append(
            violation(
                BEFORE_REFERRAL,
                "REF-2",
                admitted_on,
                f"Admitted on {admitted_on}, before the referral of {referral.occurred_on}; "
                "work hardening is admitted on a recommendation already made (REF-2).",
            )
        )
    prescription = referral.body.referral.prescription
    prescribed_on = prescription.prescribed_on if prescription is not None else None
    if prescribed_on is not None and prescribed_on > admitted_on:
        found.append(
            violation(
                CODE,
                "REF-3",
                admitted_on,
                f"The physician's prescription is dated {prescribed_on}, after the admission "
                f"on {admitted_on}; admission needs it first (REF-3).",
            )
        )
    return found


def _prescription_lacks(prescription: Prescription | None) -> str | None:
    """What the prescription lacks, in words; None when it meets REF-3.

    docs/domain.md R4: a prescription counts only when it names its prescriber
    and its date; a blank or missing one is recorded, and flagged like none.
    """
    if prescription is None:
        return ""
    missing = [
        words
        for words, absent in (
            ("prescriber", not prescription.prescriber.strip()),
            ("date", prescription.prescribed_on is None),
        )
        if absent
    ]
    return f" naming its {' and its '.join(missing)}" if missing else None
