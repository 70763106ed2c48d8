"""Reporting requirements (REP-a..REP-e): the written discharge report.

Policy 481, "Reporting Requirements": demographics including work history
(a), indications (b), interventions (c), outcomes / discharge status (d),
recommendations (e). The policy sets no deadline; the pack assumes one
(`report_deadline_days` after discharge), met by the first complete report
dated on or after the discharge; each report is judged on its own
(docs/domain.md R17).
"""

from __future__ import annotations

from datetime import date, timedelta

from domain.events import DischargeReportFiled
from domain.policy import PolicyPack
from projections.model import Finding, violation
from projections.record import Entry, ProgramRecord

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


def discharge_report(record: ProgramRecord) -> Entry[DischargeReportFiled] | None:
    """The discharge report: the first complete report dated on or after the discharge
    (docs/domain.md R17); a report before it cannot give the discharge status (REP-d)."""
    discharge = record.discharge
    if discharge is None:
        return None
    return next(
        (
            report
            for report in record.reports
            if report.occurred_on >= discharge.occurred_on and not _missing(report.body)
        ),
        None,
    )


def report_findings(record: ProgramRecord, pack: PolicyPack) -> list[Finding]:
    """Each report's empty sections, dated that report (each report on its own: a
    complete amendment leaves them, R1), and the sections still missing once the
    deadline passed without a complete report on or after the discharge (R17).

    The deadline is judged on the day after it (docs/domain.md R1): a report
    filed later still leaves the missed deadline, and its message says when
    the report came.
    """
    findings: list[Finding] = []
    for report in record.reports:
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
    discharged_on = record.discharge.occurred_on
    deadline_days = pack.deadlines.report_deadline_days
    overdue_on = deadline + timedelta(days=1)
    complete = discharge_report(record)
    if record.as_of < overdue_on or (complete is not None and complete.occurred_on <= deadline):
        return findings
    in_time = [r for r in record.reports if discharged_on <= r.occurred_on <= deadline]
    # The sections the clinic had not given in time: those the latest report in time
    # leaves out, every section when none came.
    missing = _missing(in_time[-1].body) if in_time else {clause for clause, _ in SECTIONS}
    came = f" (a complete one was filed on {complete.occurred_on})" if complete is not None else ""
    findings.extend(
        violation(
            "report_incomplete",
            clause,
            overdue_on,
            f"No complete discharge report filed within {deadline_days} days of discharge "
            f"on {discharged_on} (due by {deadline}){came}: the section on {words} was "
            f"missing ({clause}).",
        )
        for clause, words in SECTIONS
        if clause in missing
    )
    return findings
