"""Patient selection (SEL-1, SEL-2): the injured body region.

Policy 481, "Patient Selection Criteria": work hardening is recommended only
for the pack's covered regions (SEL-1) and is not evidence based for its
excluded ones (SEL-2). A region on neither list fails SEL-1.
"""

from __future__ import annotations

from domain.policy import PolicyPack
from projections.model import Finding, violation
from projections.record import ProgramRecord


def _words(region: str) -> str:
    return region.replace("_", " ")


def selection_findings(record: ProgramRecord, pack: PolicyPack) -> list[Finding]:
    """Whether the claim's body region is one work hardening is covered for."""
    if record.referral is None:
        return []
    on = record.referral.occurred_on
    region = record.referral.body.claim.body_region
    if region in pack.covered_regions:
        return []
    if region in pack.excluded_regions:
        return [
            violation(
                "region_not_covered",
                "SEL-2",
                on,
                f"Injury region '{_words(region)}' is one for which work hardening is not "
                "an evidence-based treatment (SEL-2).",
            )
        ]
    covered = ", ".join(_words(r) for r in pack.covered_regions)
    return [
        violation(
            "region_not_covered",
            "SEL-1",
            on,
            f"Injury region '{_words(region)}' is not among the regions work hardening "
            f"is recommended for ({covered}) (SEL-1).",
        )
    ]
