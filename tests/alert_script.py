"""A scripted program for the alert tests, and what its alerts must be.

A referral without a prescription (REF-3), then admission and evaluation, licensed
sessions with a 9-hour day (COV-2) and an unlicensed one (PQ-1), and four unexcused
absences: the fourth breaches DIS-5a and makes the program discharge-eligible."""

from __future__ import annotations

from collections import Counter
from typing import Any

from tests.helpers import (
    ADMITTED_ON,
    UNLICENSED,
    Body,
    absence,
    admitted,
    evaluated,
    plus,
    referred,
    session,
)

SECRET = "whsec-test-0123456789abcdef"


def scripted_events(provider_id: str = "clinic-north") -> list[Body]:
    """The program's events in order (about 14)."""
    referral = referred(provider_id=provider_id)
    referral["data"]["referral"]["prescription"] = None
    days = [plus(ADMITTED_ON, d) for d in (1, 2, 3, 4, 7, 8, 9, 10, 11)]
    return [
        referral,
        admitted(),
        evaluated(),
        session(days[0], 6),
        session(days[1], 9),
        session(days[2], 5, provider=UNLICENSED),
        absence(days[3]),
        absence(days[4]),
        session(days[5], 6),
        absence(days[6]),
        absence(days[7]),
        session(days[8], 6),
    ]


def expected_alerts(receipts: list[dict[str, Any]]) -> Counter[tuple[str, ...]]:
    """What the alerts must say, from the receipts the ingests answered with: one
    `finding_added` per finding a receipt listed, and one `discharge_eligible`."""
    expected: Counter[tuple[str, ...]] = Counter()
    for receipt in receipts:
        for f in receipt["findings"]:
            expected[("finding_added", f["code"], f["clause"], f["occurred_on"])] += 1
    expected[("discharge_eligible",)] += 1
    return expected


def said(alert: dict[str, Any]) -> tuple[str, ...]:
    """An alert as `expected_alerts` writes it."""
    if alert["kind"] == "finding_added":
        f = alert["data"]["finding"]
        return ("finding_added", f["code"], f["clause"], f["occurred_on"])
    return (alert["kind"],)
