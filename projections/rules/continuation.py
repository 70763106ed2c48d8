"""What the re-evaluation and the medical record say, binds (TS-i, ADM-7; docs/domain.md R18).

Policy 481 asks for periodic re-evaluation of the client's "appropriateness to
continue" (TS-i) and admits only clients whose condition does not prohibit
participation (ADM-7). So a session dated after a re-evaluation that found the
program no longer appropriate (the latest one before the session), or after a
change in medical condition that prohibits participation (until a later change
that does not), is flagged and not reimbursable (`bars`, read by COV-2's day
ledger). Facts of the course count from admission only (R12).
"""

from __future__ import annotations

from bisect import bisect_left
from datetime import date

from domain.policy import PolicyPack
from projections.model import Finding, format_hours, violation
from projections.record import ProgramRecord

NOT_APPROPRIATE = ("continued_when_not_appropriate", "TS-i")
PROHIBITED = ("session_while_prohibited", "ADM-7")


class Bars:
    """For any date, what bars a session dated then: the latest re-evaluation and the
    latest medical change dated before it, when they say so."""

    def __init__(self, record: ProgramRecord) -> None:
        end = record.as_of
        reevaluations = record.in_course(record.reevaluations, end)
        changes = record.in_course(record.medical_changes, end)
        self._reevaluation_days = [r.occurred_on for r in reevaluations]
        self._appropriate = [r.body.appropriate_to_continue for r in reevaluations]
        self._change_days = [c.occurred_on for c in changes]
        self._prohibits = [c.body.prohibits_participation for c in changes]
        self.any = not all(self._appropriate) or any(self._prohibits)

    def on(self, day: date) -> list[tuple[tuple[str, str], date]]:
        """What bars a session on `day`: each (code, clause) with the date of the fact
        that bars it; empty when nothing does."""
        if not self.any:
            return []
        found: list[tuple[tuple[str, str], date]] = []
        at = bisect_left(self._reevaluation_days, day)  # those dated before `day`
        if at and not self._appropriate[at - 1]:
            found.append((NOT_APPROPRIATE, self._reevaluation_days[at - 1]))
        at = bisect_left(self._change_days, day)
        if at and self._prohibits[at - 1]:
            found.append((PROHIBITED, self._change_days[at - 1]))
        return found


def continuation_findings(record: ProgramRecord, pack: PolicyPack) -> list[Finding]:
    """Each session a re-evaluation or a medical change bars, dated the session (R18)."""
    bars = Bars(record)
    if not bars.any:
        return []
    findings: list[Finding] = []
    for session in record.sessions:
        on = session.occurred_on
        hours = format_hours(session.body.hours)
        for (code, clause), since in bars.on(on):
            if clause == "TS-i":
                why = (
                    f"the re-evaluation of {since} found the program no longer appropriate "
                    "to continue"
                )
            else:
                why = f"the change in medical condition of {since} prohibits participation"
            findings.append(
                violation(
                    code,
                    clause,
                    on,
                    f"Session of {hours} hours on {on} after {why}; it is not "
                    f"reimbursable ({clause}).",
                )
            )
    return findings
