"""Reporting requirements (REP-a..REP-e): the written discharge report.

Policy 481, "Reporting Requirements": demographics including work history
(a), indications (b), interventions (c), outcomes / discharge status (d),
recommendations (e). The policy sets no deadline; the pack assumes one
(`report_deadline_days` after discharge).
"""

from __future__ import annotations

from datetime import date, timedelta

from domain.events import DischargeReportFiled
from domain.policy import PolicyPack
from projections.model import Finding, violation
from projections.record import ProgramRecord

SECTIONS: tuple[tuple[str, str], ...] = (
    ("REP-a", "patient demographics including work history"),
    ("REP-b", "indications for participation"),
    ("REP-c", "specific interventions"),
    ("REP-d", "outcomes and discharge status"),
    ("REP-e", "recommendations"),
)


def _blank(text: str) -> bool:
    return not text.strip()


def _missing(report: DischargeReportFiled) -> set[str]:
    missing: set[str] = set()
    # REP-a asks for demographics *including* work history: either blank fails it.
    if _blank(report.demographics) or _blank(report.work_history):
        missing.add("REP-a")
    for clause, text in (
        ("REP-b", report.indications),
        ("REP-c", report.interventions),
        ("REP-d", report.outcomes),
        ("REP-e", report.recommendations),
    ):
        if _blank(text):
            missing.add(clause)
    return missing


def report_deadline(record: ProgramRecord, pack: PolicyPack) -> date | None:
    """The last day to file the discharge report (REP): the pack's deadline after
    discharge; None before discharge."""
    if record.discharge is None:
        return None
    return record.discharge.occurred_on + timedelta(days=pack.deadlines.report_deadline_days)


def report_findings(record: ProgramRecord, pack: PolicyPack) -> list[Finding]:
    """Empty sections of the filed report, and every section once the deadline passed unfiled.

    The deadline is judged on the day after it (docs/domain.md R1): a report
    filed later still leaves the missed deadline, and its message says when
    the report came.
    """
    findings: list[Finding] = []
    report = record.report
    if report is not None:
        on = report.occurred_on
        missing = _missing(report.body)
        findings.extend(
            violation(
                "report_incomplete",
                clause,
                on,
                f"Discharge report filed {on} leaves out {words} ({clause}).",
            )
            for clause, words in SECTIONS
            if clause in missing
        )
    deadline = report_deadline(record, pack)
    if record.discharge is None or deadline is None:
        return findings
    deadline_days = pack.deadlines.report_deadline_days
    overdue_on = deadline + timedelta(days=1)
    if record.as_of < overdue_on or (report is not None and report.occurred_on <= deadline):
        return findings
    came = f" (it was filed on {report.occurred_on})" if report is not None else ""
    findings.extend(
        violation(
            "report_incomplete",
            clause,
            overdue_on,
            f"No discharge report filed within {deadline_days} days of discharge on "
            f"{record.discharge.occurred_on} (due by {deadline}){came}: the section on "
            f"{words} was missing ({clause}).",
        )
        for clause, words in SECTIONS
    )
    return findings
