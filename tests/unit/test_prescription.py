"""DOMAIN.md R4: REF-3 needs a prescription that names its prescriber and its date.

A prescription with either missing or blank is recorded (intake accepts it)
and flagged `referral_incomplete` REF-3, like no prescription at all.
"""

from __future__ import annotations

from typing import Any

import pytest

from domain.intake import parse_event

from .builders import Program, clauses, day

REFERRED_ON = day("2026-02-27")


def referred_with(program: Program, prescription: dict[str, Any]) -> None:
    """A ProgramReferred whose prescription is `prescription`, through intake first."""
    data = {
        "worker": {"worker_id": "W-1"},
        "claim": {
            "claim_number": "C-1",
            "body_region": "low_back",
            "compensable_injury_reported": True,
        },
        "referral": {
            "source": "physician",
            "referred_by": "Dr. Ada Ray",
            "prescription": prescription,
        },
        "provider_id": "clinic-1",
    }
    event = parse_event(
        "5f0c1a52-0000-4000-8000-000000000001", "ProgramReferred", REFERRED_ON, data
    )
    program.add("ProgramReferred", REFERRED_ON, event.payload)


@pytest.mark.parametrize(
    "prescription",
    [
        {},
        {"prescriber": "Dr. Ada Ray"},
        {"prescribed_on": "2026-02-20"},
        {"prescriber": "   ", "prescribed_on": "2026-02-20"},
        {"prescriber": "", "prescribed_on": None},
    ],
)
def test_a_prescription_without_its_prescriber_or_its_date_breaks_ref_3(
    program: Program, prescription: dict[str, Any]
) -> None:
    referred_with(program, prescription)
    assert clauses(program.assess(REFERRED_ON), "referral_incomplete") == ["REF-3"]


def test_a_prescription_naming_its_prescriber_and_date_meets_ref_3(program: Program) -> None:
    referred_with(program, {"prescriber": "Dr. Ada Ray", "prescribed_on": "2026-02-20"})
    assert clauses(program.assess(REFERRED_ON), "referral_incomplete") == []
