"""What a provider can tell the tracker: one pydantic model per event type.

These are the bodies (`data`) of the events of docs/domain.md and docs/reference/http.md. They check
shape only (types, enumerations, ranges). Whether a fact breaks the policy is
never decided here: that is a finding, derived in `projections/`.

Leaf fields that a clinic may reasonably leave out have defaults; unknown
fields are always refused (docs/reference/http.md: "Unknown fields are rejected"). Booleans and
integers are JSON's own (strict): lax pydantic would take 0, "yes" or "20".
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    StrictBool,
    StrictInt,
    StringConstraints,
    ValidationInfo,
    field_validator,
    model_validator,
)

from domain.identifiers import identifier

EARLIEST = date(1900, 1, 1)


def _iso_date_only(value: Any) -> Any:
    # Lax pydantic would take 0 or 1.7e9 as a date; the contract says YYYY-MM-DD.
    if isinstance(value, str) and len(value) == 10 and value[4] == "-" and value[7] == "-":
        return value
    if isinstance(value, date):
        return value
    raise ValueError("must be a date written YYYY-MM-DD")


def _plausible(value: date) -> date:
    # A date before 1900 cannot be a fact of a work hardening program (and would
    # make working-day counts walk centuries of holidays).
    if value < EARLIEST:
        raise ValueError(f"must be on or after {EARLIEST}")
    return value


# How deep a body's JSON may nest, and which characters no text may hold: a
# NUL cannot be stored by PostgreSQL (and SQLite would take it), and control
# characters other than tab and line breaks are never part of a clinic's text.
MAX_DEPTH = 16
CONTROL = frozenset(chr(c) for c in range(32) if chr(c) not in "\t\n\r") | {"\x7f"}


def at_intake(info: ValidationInfo) -> bool:
    """Whether a body is being validated as sent by a client (`parse_event`), not
    read back from the store: stored trails keep loading under rules that were
    tightened after they were recorded (they are facts, never changed)."""
    return bool(info.context and info.context.get("intake"))


def refuse_deep(value: Any, depth: int = 0) -> None:
    """Raise ValueError for JSON nested past MAX_DEPTH (no event body nests that deep)."""
    if depth > MAX_DEPTH:
        raise ValueError(f"nests deeper than {MAX_DEPTH} levels")
    if isinstance(value, dict):
        for item in value.values():
            refuse_deep(item, depth + 1)
    elif isinstance(value, list | tuple):
        for item in value:
            refuse_deep(item, depth + 1)


def _printable(value: str, info: ValidationInfo) -> str:
    if at_intake(info) and not CONTROL.isdisjoint(value):
        raise ValueError("contains a control character (such as NUL), which text cannot hold")
    return value


IsoDate = Annotated[date, BeforeValidator(_iso_date_only), AfterValidator(_plausible)]
Text = Annotated[str, StringConstraints(max_length=10_000), AfterValidator(_printable)]
ShortText = Annotated[str, StringConstraints(max_length=500), AfterValidator(_printable)]


class Strict(BaseModel):
    """Base for every event body: unknown fields refused, values frozen."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    @model_validator(mode="before")
    @classmethod
    def _not_deep(cls, data: Any, info: ValidationInfo) -> Any:
        if at_intake(info):
            refuse_deep(data)
        return data


BodyRegion = Literal[
    "low_back",
    "neck_upper_back",
    "knee_leg",
    "shoulder",
    "forearm_wrist_hand",
    "ankle_foot",
    "burns",
    "carpal_tunnel",
    "elbow",
    "eye",
    "head_trauma",
    "headaches",
    "hernia",
    "hip_pelvis",
    "mental_illness",
    "chronic_pain",
    "other",
]
ReferralSource = Literal["physician", "case_manager", "court_order", "other"]
EvaluationDomain = Literal[
    "musculoskeletal",
    "cardiovascular",
    "vocational",
    "attitudinal_motivational",
    "behavioral",
    "cognitive",
    "functional_work_capacity",
    "safety",
    "accommodation",
]
DischargeReason = Literal[
    "goals_met",
    "return_to_work_ready",
    "plateau",
    "medical_condition_changed",
    "non_compliance",
]
# A measure is a JSON number: NaN and infinities would be stored, hashed and shown
# differently (the trail endpoint prints them as null), so they are refused.
Measures = dict[ShortText, Annotated[float, Field(allow_inf_nan=False, strict=True)]]


class Worker(Strict):
    worker_id: ShortText
    name: ShortText = ""
    employer: ShortText = ""
    job_title: ShortText = ""
    # Text (docs/reference/http.md). Early trails stored lists here; they still load, but a
    # client can no longer send one (a free-form tree broke pages at depth 245).
    work_history: Text | list[Any] = ""

    @field_validator("work_history")
    @classmethod
    def _text_at_intake(cls, value: Any, info: ValidationInfo) -> Any:
        if at_intake(info) and not isinstance(value, str):
            raise ValueError("must be text")
        return value


class Claim(Strict):
    claim_number: ShortText
    injury_date: IsoDate | None = None
    body_region: BodyRegion
    compensable_injury_reported: StrictBool


class Prescription(Strict):
    prescriber: ShortText = ""
    prescribed_on: IsoDate | None = None


class Referral(Strict):
    source: ReferralSource
    referred_by: ShortText = ""
    physician_referral_id: ShortText | None = None
    prescription: Prescription | None = None


class ProgramReferred(Strict):
    worker: Worker
    claim: Claim
    referral: Referral
    provider_id: ShortText
    policy: ShortText | None = None
    time_zone: ShortText | None = None


class AdmissionCriteria(Strict):
    potential_to_benefit: StrictBool = False
    function_interferes_with_work: StrictBool = False
    return_to_work_plan: StrictBool = False
    psychosocial_barriers: StrictBool = False
    no_prohibiting_condition: StrictBool = False
    informed_consent: StrictBool = False


class ProgramAdmitted(Strict):
    criteria: AdmissionCriteria
    targeted_job: ShortText = ""


class Clinician(Strict):
    name: ShortText = ""
    discipline: ShortText = ""
    license_number: ShortText | None = None

    @property
    def licensed(self) -> bool:
        """A licence number that is not blank (docs/domain.md R15)."""
        return identifier(self.license_number) is not None


class InitialEvaluationDocumented(Strict):
    evaluator: Clinician
    domains: list[EvaluationDomain] = Field(default_factory=list, max_length=50)
    measures: Measures = Field(default_factory=dict)
    goals: list[ShortText] = Field(default_factory=list, max_length=200)
    documented_on: IsoDate | None = None


class AncillaryMinutes(Strict):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    m97110: StrictInt = Field(default=0, ge=0, le=1440, alias="97110")
    m97530: StrictInt = Field(default=0, ge=0, le=1440, alias="97530")
    m97112: StrictInt = Field(default=0, ge=0, le=1440, alias="97112")

    @property
    def total(self) -> int:
        return self.m97110 + self.m97530 + self.m97112

    def by_code(self) -> dict[str, int]:
        """The minutes of each code, by its CPT code."""
        return {"97110": self.m97110, "97530": self.m97530, "97112": self.m97112}


def _json_number(value: Any) -> Any:
    # docs/reference/http.md: hours are JSON numbers. Lax pydantic would also take the text "8".
    if isinstance(value, bool) or not isinstance(value, (int, float, Decimal)):
        raise ValueError("must be a JSON number")
    return value


def _number(value: Decimal) -> int | float:
    return int(value) if value == value.to_integral_value() else float(value)


# Hours are exact decimals inside, JSON numbers outside (docs/reference/http.md).
Hours = Annotated[
    Decimal,
    BeforeValidator(_json_number),
    Field(gt=0, le=24, decimal_places=2, allow_inf_nan=False),
    PlainSerializer(_number, return_type=int | float, when_used="json"),
]


class SessionLogged(Strict):
    hours: Hours
    provider: Clinician
    activities: list[ShortText] = Field(default_factory=list, max_length=100)
    ancillary_minutes: AncillaryMinutes = Field(default_factory=AncillaryMinutes)
    # A session whose body says nothing about documentation is taken as
    # documented: the finding is for a session the clinic says was not.
    documented: StrictBool = True


class AbsenceRecorded(Strict):
    excused: StrictBool = False
    reason: Text = ""


class TardinessRecorded(Strict):
    # Under a minute late is not late: such an entry cannot be a fact (docs/domain.md R3).
    # Stored entries of 0 still load; the OpenAPI document states what intake takes.
    minutes_late: StrictInt = Field(ge=0, le=1440, json_schema_extra={"minimum": 1})

    @field_validator("minutes_late")
    @classmethod
    def _late_at_intake(cls, value: int, info: ValidationInfo) -> int:
        if at_intake(info) and value < 1:
            raise ValueError("must be at least 1 minute: under a minute late is not late")
        return value


class ProgressReEvaluated(Strict):
    goals_met: StrictBool = False
    return_to_work_ready: StrictBool = False
    plateau: StrictBool = False
    appropriate_to_continue: StrictBool = True
    measures: Measures = Field(default_factory=dict)


class StaffConferenceHeld(Strict):
    attendees: list[ShortText] = Field(default_factory=list, max_length=100)
    notes: Text = ""


class MedicalConditionChanged(Strict):
    description: Text = ""
    prohibits_participation: StrictBool = False


class ProgramDischarged(Strict):
    reason: DischargeReason
    outcome: Text = ""
    recommendations: Text = ""


class DischargeReportFiled(Strict):
    demographics: Text = ""
    work_history: Text = ""
    indications: Text = ""
    interventions: Text = ""
    outcomes: Text = ""
    recommendations: Text = ""


class RepeatProgramApproved(Strict):
    reviewer: ShortText = ""
    rationale: Text = ""


class EntryRetracted(Strict):
    target_event_id: UUID
    reason: Text = ""


EVENT_MODELS: dict[str, type[Strict]] = {
    cls.__name__: cls
    for cls in (
        ProgramReferred,
        ProgramAdmitted,
        InitialEvaluationDocumented,
        SessionLogged,
        AbsenceRecorded,
        TardinessRecorded,
        ProgressReEvaluated,
        StaffConferenceHeld,
        MedicalConditionChanged,
        ProgramDischarged,
        DischargeReportFiled,
        RepeatProgramApproved,
        EntryRetracted,
    )
}
EventType = Literal[
    "ProgramReferred",
    "ProgramAdmitted",
    "InitialEvaluationDocumented",
    "SessionLogged",
    "AbsenceRecorded",
    "TardinessRecorded",
    "ProgressReEvaluated",
    "StaffConferenceHeld",
    "MedicalConditionChanged",
    "ProgramDischarged",
    "DischargeReportFiled",
    "RepeatProgramApproved",
    "EntryRetracted",
]


def dump_data(model: BaseModel) -> dict[str, Any]:
    """The canonical JSON form of an event body, as stored and hashed."""
    return model.model_dump(mode="json", by_alias=True)
