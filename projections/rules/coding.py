"""Coding (COD-1, COD-2): how a reimbursable day becomes CPT units.

Policy 481, "Coding Information": 97545 for the initial 2 hours, 97546 for
each additional hour (COD-1); 97110, 97530 and 97112 may be billed with
97545 only when their aggregate time is under one hour (COD-2). Past the
last whole additional hour, one more unit is billed when the remainder is
more than the pack's `midpoint_minutes` (30), in exact minutes (docs/domain.md
R19). On a day that bills 97545 with ancillary minutes under the limit, each
ancillary code bills units of the pack's `ancillary_unit_minutes` (15), the
first from `ancillary_first_unit_minutes` (8: the CMS 8-minute rule, per code).
Those minutes are time beside the session's hours, never inside them.
"""

from __future__ import annotations

from decimal import ROUND_FLOOR, Decimal

from domain.policy import Billing, PolicyPack
from projections.model import BillingDay, BillingLine, Finding, format_hours, violation, warning
from projections.record import ProgramRecord
from projections.rules.coverage import DayLedger

MINUTES_PER_HOUR = 60  # a unit conversion, not a policy number


def billing_lines(billable_hours: Decimal, billing: Billing) -> tuple[BillingLine, ...]:
    """CPT lines for one day's billable (already capped) hours; none under the initial block.

    Exact Decimal minutes, so 2.5 hours leaves 30 minutes (no extra unit) and
    2.51 hours leaves 30.6 minutes (one extra unit).
    """
    if billable_hours < billing.initial_hours:
        return ()
    extra_minutes = (billable_hours - billing.initial_hours) * MINUTES_PER_HOUR
    unit = Decimal(billing.additional_unit_minutes)
    whole_units = int((extra_minutes / unit).to_integral_value(rounding=ROUND_FLOOR))
    remainder = extra_minutes - whole_units * unit
    units = whole_units + (1 if remainder > billing.midpoint_minutes else 0)
    lines = [BillingLine(billing.initial_code, 1)]
    if units > 0:
        lines.append(BillingLine(billing.additional_code, units))
    return tuple(lines)


def ancillary_lines(minutes: dict[str, int], billing: Billing) -> tuple[BillingLine, ...]:
    """COD-2's lines for one day that bills the initial code: each ancillary code in
    units (the first from `ancillary_first_unit_minutes`), none when their minutes
    add up to the limit or more."""
    if not minutes or sum(minutes.values()) >= billing.ancillary_limit_minutes:
        return ()
    unit = billing.ancillary_unit_minutes
    lead = unit - billing.ancillary_first_unit_minutes
    lines = []
    for code in billing.ancillary_codes:
        units = (minutes.get(code, 0) + lead) // unit
        if units > 0:
            lines.append(BillingLine(code, units))
    return tuple(lines)


def billing_days(ledger: DayLedger, pack: PolicyPack) -> tuple[BillingDay, ...]:
    """One billed day per reimbursable date with lines, by date (hours capped per day)."""
    cap = pack.limits.max_hours_per_day
    days: list[BillingDay] = []
    for day in ledger.reimbursable:
        billable = min(ledger.day_hours[day], cap)
        lines = billing_lines(billable, pack.billing)
        if lines:
            extra = ancillary_lines(ledger.ancillary.get(day, {}), pack.billing)
            days.append(BillingDay(day, billable, lines + extra))
    return tuple(days)


def coding_findings(record: ProgramRecord, pack: PolicyPack, ledger: DayLedger) -> list[Finding]:
    """Days too short for the initial code (COD-1) and days whose ancillary
    minutes reach the limit (COD-2)."""
    billing = pack.billing
    findings: list[Finding] = []
    for day, hours in ledger.day_hours.items():
        if hours < billing.initial_hours:
            findings.append(
                warning(
                    "session_under_two_hours",
                    "COD-1",
                    day,
                    f"Only {format_hours(hours)} hours attended on {day}; {billing.initial_code} "
                    f"needs the initial {format_hours(billing.initial_hours)} hours, so nothing "
                    "is billed that day (COD-1).",
                )
            )
    codes = ", ".join(billing.ancillary_codes)
    for on, _, minutes in record.session_days:
        if minutes >= billing.ancillary_limit_minutes:
            findings.append(
                violation(
                    "ancillary_time_over_limit",
                    "COD-2",
                    on,
                    f"{minutes} minutes of {codes} logged on {on}; these codes may be billed "
                    f"with {billing.initial_code} only when their total is under "
                    f"{billing.ancillary_limit_minutes} minutes (COD-2).",
                )
            )
    return findings
