"""Turning what a client sent into a fact the tracker can record, or a refusal."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ValidationError

from domain.errors import InvalidEvent
from domain.events import EVENT_MODELS, ProgramReferred, dump_data


@dataclass(frozen=True)
class NewEvent:
    """An event as a client sent it, its body validated for its type."""

    event_id: str
    type: str
    occurred_on: date
    data: BaseModel
    expected_version: int | None = None

    @property
    def payload(self) -> dict[str, Any]:
        return dump_data(self.data)

    def body_sha(self, program_id: UUID) -> str:
        """Digest of what makes two sends of one event_id the same event."""
        canonical = json.dumps(
            {
                "program_id": str(program_id),
                "type": self.type,
                "occurred_on": self.occurred_on.isoformat(),
                "data": self.payload,
            },
            sort_keys=True,
            separators=(",", ":"),
        )
        return hashlib.sha256(canonical.encode()).hexdigest()


def _errors(exc: ValidationError, prefix: list[str | int]) -> list[dict[str, Any]]:
    return [{"loc": [*prefix, *e["loc"]], "msg": e["msg"]} for e in exc.errors()]


def parse_event(
    event_id: UUID | str,
    event_type: str,
    occurred_on: date,
    data: Any,
    expected_version: int | None = None,
    loc: list[str | int] | None = None,
) -> NewEvent:
    """Validate an event's body for its type; raise InvalidEvent with each error's place."""
    prefix = loc if loc is not None else ["body"]
    model_cls = EVENT_MODELS.get(event_type)
    if model_cls is None:
        raise InvalidEvent(
            f"Unknown event type {event_type!r}.",
            [{"loc": [*prefix, "type"], "msg": f"must be one of {', '.join(EVENT_MODELS)}"}],
        )
    try:
        model = model_cls.model_validate(data if data is not None else {}, context={"intake": True})
    except ValidationError as exc:
        raise InvalidEvent(
            f"The data of this {event_type} is not valid: see errors.",
            _errors(exc, [*prefix, "data"]),
        ) from None
    return NewEvent(
        event_id=str(event_id).lower(),
        type=event_type,
        occurred_on=occurred_on,
        data=model,
        expected_version=expected_version,
    )


# In the tz database but not places: the machine's own zone, a build artefact.
NOT_REGIONS = frozenset({"localtime", "posixrules", "Factory"})


def time_zone(name: str | None) -> ZoneInfo:
    """The program's time zone (UTC when the referral names none): an IANA name."""
    try:
        if name is not None and (name in NOT_REGIONS or not name.strip()):
            raise ValueError(name)
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidEvent(
            f"Unknown time zone {name!r}: use an IANA name such as America/Chicago.",
            [{"loc": ["body", "data", "time_zone"], "msg": "unknown IANA time zone"}],
        ) from None


def stored_zone(name: str | None) -> ZoneInfo:
    """The time zone of a stored referral: as `time_zone`, but UTC for a name that is
    no longer accepted (a trail recorded before the check still reads)."""
    try:
        return time_zone(name)
    except InvalidEvent:
        return ZoneInfo("UTC")


def dates_in(event: NewEvent) -> list[tuple[list[str | int], date]]:
    """Every business date an event carries, with where it sits in the body."""
    found: list[tuple[list[str | int], date]] = [(["body", "occurred_on"], event.occurred_on)]
    data = event.data
    if isinstance(data, ProgramReferred):
        if data.claim.injury_date:
            found.append((["body", "data", "claim", "injury_date"], data.claim.injury_date))
        if data.referral.prescription and data.referral.prescription.prescribed_on:
            found.append(
                (
                    ["body", "data", "referral", "prescription", "prescribed_on"],
                    data.referral.prescription.prescribed_on,
                )
            )
    documented_on = getattr(data, "documented_on", None)
    if isinstance(documented_on, date):
        found.append((["body", "data", "documented_on"], documented_on))
    return found


def refuse_future_dates(event: NewEvent, today: date, zone: str) -> None:
    """A date after today (in the program's time zone) cannot be a fact yet."""
    future = [(loc, d) for loc, d in dates_in(event) if d > today]
    if future:
        raise InvalidEvent(
            f"Dates in the future cannot be recorded: today is {today} in {zone}.",
            [{"loc": loc, "msg": f"{d} is after today ({today})"} for loc, d in future],
        )
