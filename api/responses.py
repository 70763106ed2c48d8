"""Response schemas of the HTTP contract (docs/reference/http.md): what each route answers, for the
OpenAPI document and the clients generated from it.

The routes build their answers from plain data (`as_dict`, `figures`); these models
declare those answers and are never used to serialize them, so declaring a route
changes no byte of what it answers. Every model allows fields beyond those named
(docs/reference/http.md: "anything may be added beside them").
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

Status = Literal["referred", "admitted", "discharged", "withdrawn"]


class Open(BaseModel):
    model_config = ConfigDict(extra="allow")


class Finding(Open):
    """A breach or warning of the policy, citing its clause."""

    code: str = Field(examples=["daily_hours_over_cap"])
    clause: str = Field(examples=["COV-2"])
    severity: Literal["violation", "warning"]
    occurred_on: date
    message: str


class OtherFindings(Open):
    """Findings an event added to another program."""

    program_id: UUID
    findings: list[Finding]


class Receipt(Open):
    """What recording one event answers (201 new, 200 a repeat of its event_id)."""

    program_id: UUID
    event_id: UUID
    version: int = Field(ge=1)
    recorded_at: datetime
    findings: list[Finding] = Field(
        description="The findings this event added, judged as of the later of its "
        "occurred_on and the latest occurred_on of a standing fact already in the "
        "program (retracted facts and retractions do not count); compared by "
        "(code, clause, severity, occurred_on), so a warning that becomes a violation "
        "on the same date is added."
    )
    others: list[OtherFindings] | None = Field(
        default=None,
        description="Findings this event added to other programs the caller may see: a "
        "referral, or its retraction, that changes which of a worker's programs came "
        "first on a shared physician referral id or claim number (COV-1). Left out "
        "when there are none.",
    )


class BatchResult(Receipt):
    status: Literal[200, 201]


class BatchReceipt(Open):
    results: list[BatchResult]


class Figures(Open):
    """The derived figures (docs/domain.md, "Figures") as of `as_of`."""

    status: Status
    policy: str
    as_of: date
    admitted_on: date | None
    discharged_on: date | None
    weeks_used: int
    days_attended: int
    total_hours: float
    reimbursable_hours: float
    unexcused_absences: int
    excused_absences: int
    tardy_days: int
    absence_equivalents: int
    discharge_eligible: bool
    discharge_reasons: list[str]
    findings: list[Finding]


class Compliance(Figures):
    program_id: UUID
    version: int
    known_at: datetime


class StoredEvent(Open):
    """One event of the stored trail, with its link in the program's hash chain."""

    version: int
    event_id: UUID
    type: str
    occurred_on: date
    recorded_at: datetime
    data: dict[str, Any]
    hash: str
    prev_hash: str


class AuditStep(Open):
    """One event of the replay, the figures after it, and the findings it changed."""

    version: int
    event_id: UUID
    type: str
    occurred_on: date
    recorded_at: datetime
    event: StoredEvent
    figures: Figures
    findings_added: list[Finding]
    findings_resolved: list[Finding]


class ChainProblem(Open):
    version: int
    reason: str


class Integrity(Open):
    program_id: UUID
    ok: bool
    events_checked: int
    head_hash: str
    first_bad_version: int | None
    problems: list[ChainProblem]


class BillingLine(Open):
    code: str = Field(examples=["97545"])
    units: int


class BillingDay(Open):
    date: date
    hours: float
    lines: list[BillingLine]


class ProgramSummary(Open):
    program_id: UUID
    provider_id: str
    status: Status
    discharge_eligible: bool
    findings: list[str]
    as_of: date = Field(
        description="the business date this program was judged at: the list's `as_of`, "
        "or, with none given, today in the program's time zone"
    )


class ProgramList(Open):
    """One page of the regulator's list; pass `next_cursor` as `cursor` for the next."""

    programs: list[ProgramSummary]
    next_cursor: str | None
    as_of: date = Field(
        description="the `as_of` asked for; with none, today in UTC (each item says its own)"
    )
    known_at: datetime
    limit: int


class EffectivePeriod(Open):
    from_: date = Field(alias="from")
    to: date | None


class PolicySummary(Open):
    id: str
    name: str
    payer: str
    version: str
    default: bool
    effective_periods: list[EffectivePeriod]


class Policy(Open):
    """A policy pack whole: its numbers, lists, clauses and stated assumptions."""

    id: str
    name: str
    payer: str
    version: str
    effective_periods: list[EffectivePeriod]


class Digest(Open):
    position: int
    digest: str
    algorithm: str
    definition: str
    events: int
    token: str


class Health(Open):
    status: Literal["ok"]


class Ready(Open):
    status: Literal["ready"]
    store_position: int
    projector_position: int
    projector_lag: int
    max_lag: int
