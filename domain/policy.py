"""Policy packs: every number, list and clause of a payer policy, as data.

A pack is a JSON file in `domain/packs/` (or in a folder named by the caller),
validated by `PolicyPack`. The code never holds a policy number: it asks the
pack. A program is judged by the pack in force on its referral date.
"""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, model_validator

PACKS_DIR = Path(__file__).with_name("packs")


class Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class EffectivePeriod(Frozen):
    """Dates (inclusive) on which the pack is in force; `to` None means open."""

    start: date = Field(alias="from")
    end: date | None = Field(default=None, alias="to")

    def covers(self, day: date) -> bool:
        return self.start <= day and (self.end is None or day <= self.end)


class Clause(Frozen):
    title: str
    text: str


class Limits(Frozen):
    """COV-2 and DIS-5a: what is reimbursed and what counts as non-compliance."""

    max_hours_per_day: Decimal
    max_days_per_week: int
    max_weeks: int
    max_unexcused_absences: int
    tardy_days_per_absence: int


class TypicalFrequency(Frozen):
    """TS-k: the typical frequency and duration of a program."""

    min_hours_per_day: Decimal
    max_hours_per_day: Decimal
    min_days_per_week: int
    max_days_per_week: int
    min_weeks: int
    max_weeks: int


class Deadlines(Frozen):
    """TS-e, TS-i, TS-j and the report deadline, in the units their names say."""

    evaluation_warning_working_days: int
    evaluation_violation_working_days: int
    reevaluation_interval_days: int
    # TS-j says only "routine": the pack states the interval it assumes.
    conference_interval_days: int
    report_deadline_days: int
    holiday_calendar: str = "US"


class Billing(Frozen):
    """COD-1 and COD-2: how a day's hours become CPT units."""

    initial_code: str
    initial_hours: Decimal
    additional_code: str
    additional_unit_minutes: int
    # One more additional unit when the remainder over the last whole unit is *more
    # than* this many minutes, in exact minutes (docs/domain.md R19).
    midpoint_minutes: int
    ancillary_codes: list[str]
    ancillary_limit_minutes: int
    # COD-2's codes bill units of this many minutes, the first from this many (the CMS
    # 8-minute rule, per code).
    ancillary_unit_minutes: int = 15
    ancillary_first_unit_minutes: int = 8


# A pack id: letters, digits, dots, hyphens and underscores (GET /v1/policies/{id}).
PACK_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]*$"


class PolicyPack(Frozen):
    id: str = Field(max_length=100, pattern=PACK_ID_PATTERN)
    name: str
    payer: str
    source: str
    version: str
    effective_periods: list[EffectivePeriod]
    covered_regions: list[str]
    excluded_regions: list[str]
    required_evaluation_domains: list[str]
    # TS-b: "Evaluation by a physician, physical or occupational therapist".
    qualified_evaluator_disciplines: list[str]
    # TS-g's therapeutic activities and TS-h's work simulation, as sessions name them;
    # a pack that lists none does not check a session's activities.
    therapeutic_activities: list[str] = Field(default_factory=list)
    limits: Limits
    typical: TypicalFrequency
    deadlines: Deadlines
    billing: Billing
    clauses: dict[str, Clause]
    assumptions: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _periods_do_not_overlap(self) -> PolicyPack:
        periods = sorted(self.effective_periods, key=lambda p: p.start)
        for before, after in zip(periods, periods[1:], strict=False):
            if before.end is None or before.end >= after.start:
                raise ValueError(f"effective periods overlap at {after.start}")
        return self

    def in_force_on(self, day: date) -> bool:
        """Whether this pack was in force on `day` (its effective periods)."""
        return any(p.covers(day) for p in self.effective_periods)

    def clause_text(self, clause_id: str) -> str:
        clause = self.clauses.get(clause_id)
        return clause.text if clause else ""


class PolicyCatalog:
    """The packs the tracker knows, by id, and which one judges a referral."""

    def __init__(self, packs: list[PolicyPack], default_id: str) -> None:
        self.packs = {p.id: p for p in packs}
        if default_id not in self.packs:
            raise ValueError(f"default policy pack {default_id!r} is not among the packs")
        self.default_id = default_id

    @classmethod
    def load(cls, folder: Path = PACKS_DIR, default_id: str = "optum-481") -> PolicyCatalog:
        packs = [
            PolicyPack.model_validate(json.loads(path.read_text(encoding="utf-8")))
            for path in sorted(folder.glob("*.json"))
        ]
        return cls(packs, default_id)

    def get(self, pack_id: str) -> PolicyPack | None:
        return self.packs.get(pack_id)

    def for_referral(self, referred_on: date, requested: str | None) -> tuple[PolicyPack, bool]:
        """The pack that judges a program referred on `referred_on`.

        Returns the pack and whether it was in force that day. With no pack
        requested, the default pack's family is used; the figures are still
        computed with it, and `policy_not_in_force` says it was not in force.
        """
        pack = self.packs[requested] if requested else self.packs[self.default_id]
        return pack, pack.in_force_on(referred_on)
