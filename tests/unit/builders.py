"""Build a program's facts the way a clinic would send them, for unit tests.

Each helper validates its body with the real event model
(`EVENT_MODELS[type].model_validate`), numbers versions from 1 and stamps
a random event id and an increasing `recorded_at`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import uuid4

from domain.events import EVENT_MODELS
from domain.facts import Fact
from domain.policy import PolicyCatalog, PolicyPack
from projections.compliance import Assessment, Finding
from tests.oracles.assess import assess


def _load_pack() -> PolicyPack:
    pack = PolicyCatalog.load().get("optum-481")
    assert pack is not None, "the optum-481 pack ships with the domain"
    return pack


PACK = _load_pack()
ALL_DOMAINS = list(PACK.required_evaluation_domains)
LICENSED = {"name": "Pat Lee", "discipline": "physical_therapist", "license_number": "PT-1234"}
UNLICENSED = {"name": "Sam Aide", "discipline": "aide", "license_number": None}
FULL_CRITERIA = {
    "potential_to_benefit": True,
    "function_interferes_with_work": True,
    "return_to_work_plan": True,
    "psychosocial_barriers": True,
    "no_prohibiting_condition": True,
    "informed_consent": True,
}
FULL_REPORT = {
    "demographics": "Ana Diaz, 41, warehouse associate",
    "work_history": "12 years in warehousing",
    "indications": "Lifting tolerance below job demands",
    "interventions": "Graded lifting, work simulation, CBT pain education",
    "outcomes": "Lifts 25 kg floor to waist; discharged goals met",
    "recommendations": "Return to full duty",
}


def day(text: str) -> date:
    """A date from YYYY-MM-DD, so tests read like the calendar they describe."""
    return date.fromisoformat(text)


def plus(start: date, days: int) -> date:
    """`start` moved by `days` calendar days."""
    return start + timedelta(days=days)


class Program:
    """One program's trail, built fact by fact in record order."""

    def __init__(self) -> None:
        self.facts: list[Fact] = []
        self._clock = datetime(2026, 1, 1, 9, 0, tzinfo=UTC)

    def add(
        self,
        type_: str,
        on: date,
        data: dict[str, Any] | None = None,
        *,
        event_id: str | None = None,
    ) -> Fact:
        """Record one event of `type_` that occurred `on`, its body validated."""
        body = EVENT_MODELS[type_].model_validate(data or {})
        fact = Fact(
            version=len(self.facts) + 1,
            event_id=event_id if event_id is not None else str(uuid4()),
            type=type_,
            occurred_on=on,
            recorded_at=self._clock + timedelta(minutes=len(self.facts)),
            data=body,
        )
        self.facts.append(fact)
        return fact

    def referred(
        self,
        on: date,
        *,
        region: str = "low_back",
        compensable: bool = True,
        referred_by: str = "Dr. Ada Ray",
        prescription: bool = True,
        physician_referral_id: str = "PR-100",
        prescribed_on: date | None = None,
    ) -> Fact:
        return self.add(
            "ProgramReferred",
            on,
            {
                "worker": {"worker_id": "W-1", "name": "Ana Diaz", "employer": "Acme"},
                "claim": {
                    "claim_number": "C-77",
                    "body_region": region,
                    "compensable_injury_reported": compensable,
                },
                "referral": {
                    "source": "physician",
                    "referred_by": referred_by,
                    "physician_referral_id": physician_referral_id,
                    "prescription": (
                        {
                            "prescriber": "Dr. Ada Ray",
                            "prescribed_on": (prescribed_on or on).isoformat(),
                        }
                        if prescription
                        else None
                    ),
                },
                "provider_id": "clinic-1",
            },
        )

    def admitted(self, on: date, **criteria: bool) -> Fact:
        return self.add(
            "ProgramAdmitted",
            on,
            {"criteria": {**FULL_CRITERIA, **criteria}, "targeted_job": "Warehouse associate"},
        )

    def evaluated(
        self,
        on: date,
        *,
        documented_on: date | None = None,
        domains: Sequence[str] | None = None,
        measures: dict[str, float] | None = None,
        goals: Sequence[str] | None = None,
        evaluator: dict[str, Any] | None = None,
    ) -> Fact:
        return self.add(
            "InitialEvaluationDocumented",
            on,
            {
                "evaluator": evaluator if evaluator is not None else LICENSED,
                "domains": list(ALL_DOMAINS if domains is None else domains),
                "measures": {"lift_kg": 12.5} if measures is None else measures,
                "goals": ["Lift 25 kg floor to waist"] if goals is None else list(goals),
                "documented_on": documented_on.isoformat() if documented_on else None,
            },
        )

    def session(
        self,
        on: date,
        hours: str | Decimal = "6",
        *,
        documented: bool = True,
        provider: dict[str, Any] | None = None,
        ancillary: dict[str, int] | None = None,
        activities: list[str] | None = None,
    ) -> Fact:
        return self.add(
            "SessionLogged",
            on,
            {
                "hours": Decimal(str(hours)),
                "provider": provider if provider is not None else LICENSED,
                "activities": ["strength_stabilization"] if activities is None else activities,
                "ancillary_minutes": ancillary or {},
                "documented": documented,
            },
        )

    def sessions(self, days: Iterable[date], hours: str | Decimal = "6") -> list[Fact]:
        return [self.session(d, hours) for d in days]

    def absence(self, on: date, *, excused: bool = False) -> Fact:
        return self.add("AbsenceRecorded", on, {"excused": excused, "reason": "sick"})

    def tardy(self, on: date, minutes: int = 15) -> Fact:
        return self.add("TardinessRecorded", on, {"minutes_late": minutes})

    def reevaluated(
        self, on: date, *, measures: dict[str, float] | None = None, **flags: bool
    ) -> Fact:
        data: dict[str, Any] = dict(flags)
        if measures is not None:
            data["measures"] = measures
        return self.add("ProgressReEvaluated", on, data)

    def medical_change(self, on: date, *, prohibits: bool = False) -> Fact:
        return self.add(
            "MedicalConditionChanged",
            on,
            {"description": "New disc herniation", "prohibits_participation": prohibits},
        )

    def discharged(self, on: date, reason: str = "goals_met") -> Fact:
        return self.add("ProgramDischarged", on, {"reason": reason, "outcome": "Done"})

    def report(self, on: date, **sections: str) -> Fact:
        return self.add("DischargeReportFiled", on, {**FULL_REPORT, **sections})

    def repeat_approved(self, on: date) -> Fact:
        return self.add("RepeatProgramApproved", on, {"reviewer": "Dr. Kim", "rationale": "ok"})

    def retract(self, target: Fact, on: date) -> Fact:
        return self.add(
            "EntryRetracted", on, {"target_event_id": target.event_id, "reason": "typo"}
        )

    def assess(self, as_of: date, **options: Any) -> Assessment:
        """The program's assessment as of `as_of` under the optum-481 pack."""
        return assess(self.facts, PACK, as_of, **options)


def weekdays(first: date, count: int) -> list[date]:
    """The first `count` Monday-to-Friday dates from `first` on (holidays not skipped)."""
    found: list[date] = []
    current = first
    while len(found) < count:
        if current.weekday() < 5:
            found.append(current)
        current += timedelta(days=1)
    return found


def found(assessment: Assessment, code: str) -> list[Finding]:
    """The findings of one code."""
    return [f for f in assessment.findings if f.code == code]


def clauses(assessment: Assessment, code: str) -> list[str]:
    """The clauses of the findings of one code, in finding order."""
    return [f.clause for f in found(assessment, code)]


def codes(assessment: Assessment) -> set[str]:
    """Every finding code present."""
    return {f.code for f in assessment.findings}
