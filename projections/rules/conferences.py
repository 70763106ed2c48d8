"""Routine staff conferencing (TS-j).

Policy 481, treatment standard j: "Routine staff conferencing regarding
client's status, progress, goals, and plan." The policy says only
"routine"; the pack states the interval it assumes
(`deadlines.conference_interval_days`, 14 days by default). docs/domain.md R7:
from admission, a `StaffConferenceHeld` is expected within the interval of
admission and of each conference after it, until discharge.
"""

from __future__ import annotations

from datetime import date

from domain.policy import PolicyPack
from projections.calendar import interval_deadline, last_anchor, overdue_gaps
from projections.model import Finding, warning
from projections.record import ProgramRecord


def conference_findings(record: ProgramRecord, pack: PolicyPack) -> list[Finding]:
    """Each gap longer than the conference interval, dated the first day past it (TS-j).

    A conference held late leaves the finding in place (docs/domain.md R1); its
    message says when the next conference came.
    """
    admitted_on = record.admitted_on
    if admitted_on is None:
        return []
    interval = pack.deadlines.conference_interval_days
    anchors = [c.occurred_on for c in record.conferences]
    findings: list[Finding] = []
    for anchor, following, due in overdue_gaps(admitted_on, anchors, interval, record.window_end):
        kind = "admission" if anchor == admitted_on else "the last staff conference"
        came = f"; the next came on {following}" if following is not None else ""
        findings.append(
            warning(
                "staff_conference_overdue",
                "TS-j",
                due,
                f"No staff conference on the client's status, progress, goals and plan "
                f"within {interval} days of {kind} on {anchor} "
                f"(due by {interval_deadline(anchor, interval)}{came}) (TS-j).",
            )
        )
    return findings


def conference_deadline(record: ProgramRecord, pack: PolicyPack) -> date | None:
    """The last day for the next staff conference (TS-j): the pack's interval after
    admission or the last conference; None before admission."""
    admitted_on = record.admitted_on
    if admitted_on is None:
        return None
    anchors = [c.occurred_on for c in record.conferences]
    anchor = last_anchor(admitted_on, anchors, record.window_end)
    return interval_deadline(anchor, pack.deadlines.conference_interval_days)
