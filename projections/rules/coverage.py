"""Coverage (COV-1, COV-2) and the policy's history (HIST-1).

COV-2: "reimbursed for up to 8 hours per day for up to 5 days per week for a
maximum of 8 weeks" (numbers from the pack). Every attended date is sorted
into exactly one of: reimbursable, over the weekly day cap, beyond the last
covered week, or outside the program (before admission, after discharge).
COV-1: one program per physician referral unless individually reviewed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from domain.identifiers import identifier
from domain.policy import PolicyPack
from projections.calendar import week_last_day, week_number
from projections.model import Finding, format_hours, violation
from projections.record import ProgramRecord
from projections.referrals import CLAIM_NUMBER, REFERRAL_ID, read_entry
from projections.rules.continuation import Bars


@dataclass(frozen=True)
class DayLedger:
    """Each attended date's hours, and which COV-2 bucket the date falls in; the
    ancillary minutes (COD-2) of each date that has any, by code."""

    day_hours: dict[date, Decimal]
    reimbursable: tuple[date, ...]
    over_weekly_cap: tuple[date, ...]
    beyond_max_weeks: tuple[date, ...]
    outside_program: tuple[date, ...]
    # Days in program that bill nothing: under the initial block (COD-1, R19), or
    # barred by a re-evaluation or a medical change (R18). Neither takes a weekly slot.
    unbilled: tuple[date, ...] = ()
    ancillary: dict[date, dict[str, int]] = field(default_factory=dict)


def day_ledger(record: ProgramRecord, pack: PolicyPack) -> DayLedger:
    """Sort the attended dates into COV-2's buckets (see the module docstring).

    Only a day that bills the initial code counts toward the days of its program
    week (docs/domain.md R19): a day under the initial hours, or one a re-evaluation
    or medical change bars (R18), bills nothing and takes no slot."""
    hours = record.day_hours()
    limits = pack.limits
    initial = pack.billing.initial_hours
    bars = Bars(record)
    reimbursable: list[date] = []
    over_cap: list[date] = []
    beyond: list[date] = []
    outside: list[date] = []
    unbilled: list[date] = []
    attended_in_week: dict[int, int] = {}
    start = record.admitted_on
    for day, day_hours in hours.items():  # by date: "the first N days of a week" is defined
        if start is None or not record.in_program(day):
            outside.append(day)
            continue
        week = week_number(start, day)
        if week > limits.max_weeks:
            beyond.append(day)
            continue
        if day_hours < initial or bars.on(day):
            unbilled.append(day)
            continue
        attended_in_week[week] = attended_in_week.get(week, 0) + 1
        if attended_in_week[week] > limits.max_days_per_week:
            over_cap.append(day)
        else:
            reimbursable.append(day)
    return DayLedger(
        hours,
        tuple(reimbursable),
        tuple(over_cap),
        tuple(beyond),
        tuple(outside),
        tuple(unbilled),
        ancillary_by_day(record),
    )


def ancillary_by_day(record: ProgramRecord) -> dict[date, dict[str, int]]:
    """The minutes of each ancillary code (COD-2) per date, for dates with any."""
    found: dict[date, dict[str, int]] = {}
    for session in record.sessions:
        minutes = session.body.ancillary_minutes.by_code()
        if not any(minutes.values()):
            continue
        day = found.setdefault(session.occurred_on, {})
        for code, count in minutes.items():
            day[code] = day.get(code, 0) + count
    return found


def coverage_last_day(record: ProgramRecord, pack: PolicyPack) -> date | None:
    """The last covered day (COV-2): the last day of the pack's last program week;
    None before admission."""
    start = record.admitted_on
    return week_last_day(start, pack.limits.max_weeks) if start is not None else None


def reimbursable_hours(ledger: DayLedger, pack: PolicyPack) -> Decimal:
    """Sum over reimbursable days of the day's hours, capped per day (COV-2): the hours
    the billing lines bill (every reimbursable day bills the initial code, R19)."""
    cap = pack.limits.max_hours_per_day
    return sum((min(ledger.day_hours[day], cap) for day in ledger.reimbursable), Decimal(0))


def reimbursement_findings(
    record: ProgramRecord, pack: PolicyPack, ledger: DayLedger
) -> list[Finding]:
    """Days over the hour cap, days over the weekly day cap, days past the last
    covered week and days outside the program (COV-2)."""
    limits = pack.limits
    cap = limits.max_hours_per_day
    findings: list[Finding] = []
    for day, hours in ledger.day_hours.items():
        if hours > cap:
            findings.append(
                violation(
                    "daily_hours_over_cap",
                    "COV-2",
                    day,
                    f"Logged {format_hours(hours)} hours on {day}; policy reimburses up to "
                    f"{format_hours(cap)} hours a day (COV-2).",
                )
            )
    start = record.admitted_on
    for day in ledger.over_weekly_cap:
        week = week_number(start, day) if start else 0
        findings.append(
            violation(
                "weekly_days_over_cap",
                "COV-2",
                day,
                f"{day} is an attended day beyond the {limits.max_days_per_week} a week the "
                f"policy reimburses (program week {week}) (COV-2).",
            )
        )
    last_covered = coverage_last_day(record, pack)
    for day in ledger.beyond_max_weeks:
        last = last_covered if last_covered is not None else day
        findings.append(
            violation(
                "beyond_max_weeks",
                "COV-2",
                day,
                f"Session on {day} falls after week {limits.max_weeks}, the last covered "
                f"program week (it ended {last}) (COV-2).",
            )
        )
    for day in ledger.outside_program:
        findings.append(violation("session_outside_program", "COV-2", day, _outside(record, day)))
    return findings


def _outside(record: ProgramRecord, day: date) -> str:
    if record.admitted_on is None:
        why = "the client has not been admitted"
    elif day < record.admitted_on:
        why = f"it is before admission on {record.admitted_on}"
    else:
        why = f"it is after discharge on {record.discharged_on}"
    return f"Session on {day} is outside the program: {why} (COV-2)."


def repeat_program_findings(
    record: ProgramRecord, earlier_programs_same_referral: Sequence[str]
) -> list[Finding]:
    """A repeat program of one client's injury without an individual review (COV-1).

    `earlier_programs_same_referral`: the earlier programs of the same worker that
    share this one's physician referral id or claim number (docs/domain.md R16), as
    `projections.referrals.earlier_entry` names them. Dated the later of the repeat's
    admission and its referral (R16, R1): a review approved on or before that day
    clears it; one approved later leaves it.
    """
    if record.referral is None or record.admission is None:
        return []
    if not earlier_programs_same_referral:
        return []
    on = max(record.admission.occurred_on, record.referral.occurred_on)
    if any(approval.occurred_on <= on for approval in record.repeat_approvals):
        return []
    earlier = [read_entry(entry) for entry in earlier_programs_same_referral]
    kinds = {kind for _, shared, _ in earlier for kind in shared}
    body = record.referral.body
    named = []
    if REFERRAL_ID in kinds:
        named.append(f"physician referral {identifier(body.referral.physician_referral_id)}")
    if CLAIM_NUMBER in kinds:
        named.append(f"claim {identifier(body.claim.claim_number)}")
    by = "admission" if on == record.admission.occurred_on else "referral"
    return [
        violation(
            "repeat_program_without_review",
            "COV-1",
            on,
            f"This worker's {' and '.join(named)} already had {_programs(earlier)}; a "
            f"repeat program needs an individual review by its {by} on {on}, and none is "
            "recorded (COV-1).",
        )
    ]


def _programs(earlier: Sequence[tuple[str, tuple[str, ...], bool]]) -> str:
    # Programs of this one's provider by id; another provider's by no id: the message
    # reaches this provider, who may not see them (docs/domain.md, COV-1).
    own = sorted(program_id for program_id, _, foreign in earlier if not foreign)
    others = sum(1 for _, _, foreign in earlier if foreign)
    named = f"a program ({', '.join(own)})" if own else ""
    if not others:
        return named
    elsewhere = (
        "a program at another provider" if others == 1 else f"{others} programs at other providers"
    )
    return f"{named} and {elsewhere}" if own else elsewhere


def policy_in_force_findings(
    record: ProgramRecord, pack: PolicyPack, pack_in_force: bool
) -> list[Finding]:
    """A referral dated when the pack was not in force (its history, HIST-1)."""
    if pack_in_force or record.referral is None:
        return []
    on = record.referral.occurred_on
    periods = "; ".join(f"{p.start} to {p.end if p.end else 'now'}" for p in pack.effective_periods)
    return [
        violation(
            "policy_not_in_force",
            "HIST-1",
            on,
            f"Referral dated {on} falls when policy {pack.id} was not in force "
            f"(in force {periods}) (HIST-1).",
        )
    ]
