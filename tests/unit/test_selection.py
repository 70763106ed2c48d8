"""Patient selection by injured body region (SEL-1, SEL-2)."""

from __future__ import annotations

import pytest

from .builders import PACK, Program, day, found

REFERRED_ON = day("2026-02-27")


@pytest.mark.parametrize("region", PACK.covered_regions)
def test_a_covered_region_raises_no_selection_finding(program: Program, region: str) -> None:
    program.referred(REFERRED_ON, region=region)
    assert found(program.assess(REFERRED_ON), "region_not_covered") == []


@pytest.mark.parametrize("region", ["ankle_foot", "carpal_tunnel", "chronic_pain", "hip_pelvis"])
def test_an_excluded_region_is_not_evidence_based_under_sel_2(
    program: Program, region: str
) -> None:
    program.referred(REFERRED_ON, region=region)
    findings = found(program.assess(REFERRED_ON), "region_not_covered")
    assert [(f.clause, f.severity, f.occurred_on) for f in findings] == [
        ("SEL-2", "violation", REFERRED_ON)
    ]
    assert region.replace("_", " ") in findings[0].message


def test_a_region_on_neither_list_is_not_covered_under_sel_1(program: Program) -> None:
    program.referred(REFERRED_ON, region="other")
    findings = found(program.assess(REFERRED_ON), "region_not_covered")
    assert [(f.clause, f.severity) for f in findings] == [("SEL-1", "violation")]
    assert "low back" in findings[0].message
