"""What an assessment hands back: findings, billing lines and the figures.

These are plain frozen values with JSON-ready `as_dict` / `figures` forms, so
the API and the read models never need to know how they were derived.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any, Literal

Severity = Literal["violation", "warning"]
VIOLATION: Severity = "violation"
WARNING: Severity = "warning"


def json_number(value: Decimal) -> int | float:
    """A Decimal as a JSON number: an int when whole (8, not 8.0), else a float."""
    return int(value) if value == value.to_integral_value() else float(value)


def format_hours(value: Decimal) -> str:
    """Hours as a case manager writes them: 8, 8.25, 2.5 (no trailing zeros)."""
    return format(value.normalize(), "f")


def plural(count: int, singular: str, plural_form: str | None = None) -> str:
    """ "1 tardy day", "2 tardy days": a count and its noun, for messages."""
    noun = singular if count == 1 else (plural_form or f"{singular}s")
    return f"{count} {noun}"


@dataclass(frozen=True)
class Finding:
    """One breach (or warning) of the policy, citing the clause it breaks."""

    code: str
    clause: str
    severity: str
    occurred_on: date
    message: str

    def key(self) -> tuple[str, str, date]:
        """Identity used to diff the findings of two assessments."""
        return (self.code, self.clause, self.occurred_on)

    def as_dict(self) -> dict[str, Any]:
        """The finding as JSON-ready primitives (date as YYYY-MM-DD): a new dict each
        call, copied from one made once (a fold hands the same findings to every read)."""
        made: dict[str, Any] | None = self.__dict__.get("_as_dict")
        if made is None:
            made = {
                "code": self.code,
                "clause": self.clause,
                "severity": self.severity,
                "occurred_on": self.occurred_on.isoformat(),
                "message": self.message,
            }
            object.__setattr__(self, "_as_dict", made)
        return dict(made)


def violation(code: str, clause: str, occurred_on: date, message: str) -> Finding:
    """A finding of severity "violation"."""
    return Finding(code, clause, VIOLATION, occurred_on, message)


def warning(code: str, clause: str, occurred_on: date, message: str) -> Finding:
    """A finding of severity "warning"."""
    return Finding(code, clause, WARNING, occurred_on, message)


@dataclass(frozen=True)
class BillingLine:
    """One CPT code and its units on a billed day."""

    code: str
    units: int


@dataclass(frozen=True)
class BillingDay:
    """A reimbursable day: the hours billed (capped) and the CPT lines for them."""

    date: date
    hours: Decimal
    lines: tuple[BillingLine, ...]

    def as_dict(self) -> dict[str, Any]:
        """The day as JSON-ready primitives (docs/reference/http.md's billing line)."""
        return {
            "date": self.date.isoformat(),
            "hours": json_number(self.hours),
            "lines": [{"code": line.code, "units": line.units} for line in self.lines],
        }


@dataclass(frozen=True)
class Assessment:
    """Everything docs/domain.md derives for one program as of one business date."""

    status: str
    policy: str
    as_of: date
    admitted_on: date | None
    discharged_on: date | None
    weeks_used: int
    days_attended: int
    total_hours: Decimal
    reimbursable_hours: Decimal
    unexcused_absences: int
    excused_absences: int
    tardy_days: int
    absence_equivalents: int
    discharge_eligible: bool
    discharge_reasons: tuple[str, ...]
    findings: tuple[Finding, ...]
    billing: tuple[BillingDay, ...]
    # Where the findings' JSON (`Finding.as_dict`) is kept made, when the judge keeps
    # it: read, never changed, by whoever answers with it.
    findings_json: Callable[[], Sequence[dict[str, Any]]] | None = field(
        default=None, compare=False, repr=False
    )

    def figures(self, findings: list[dict[str, Any]] | None = None) -> dict[str, Any]:
        """All figures but billing, as JSON-ready primitives; `findings`, when given,
        is the findings' JSON already made (the audit shares it between steps)."""
        if findings is None and self.findings_json is not None:
            findings = list(self.findings_json())
        return {
            "status": self.status,
            "policy": self.policy,
            "as_of": self.as_of.isoformat(),
            "admitted_on": _iso(self.admitted_on),
            "discharged_on": _iso(self.discharged_on),
            "weeks_used": self.weeks_used,
            "days_attended": self.days_attended,
            "total_hours": json_number(self.total_hours),
            "reimbursable_hours": json_number(self.reimbursable_hours),
            "unexcused_absences": self.unexcused_absences,
            "excused_absences": self.excused_absences,
            "tardy_days": self.tardy_days,
            "absence_equivalents": self.absence_equivalents,
            "discharge_eligible": self.discharge_eligible,
            "discharge_reasons": list(self.discharge_reasons),
            "findings": (
                [finding.as_dict() for finding in self.findings] if findings is None else findings
            ),
        }


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day is not None else None
