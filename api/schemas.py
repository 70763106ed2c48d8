"""Request schemas of the HTTP contract, kept apart from the domain's events."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, StrictInt

from domain.events import EventType, IsoDate


class EventIn(BaseModel):
    """One event, as posted to /v1/programs/{program_id}/events."""

    model_config = ConfigDict(extra="forbid")

    event_id: UUID
    type: EventType
    occurred_on: IsoDate
    expected_version: StrictInt | None = Field(default=None, ge=0)
    data: dict[str, Any] = Field(default_factory=dict)


class BatchItemIn(EventIn):
    program_id: UUID


class BatchIn(BaseModel):
    """Up to 1,000 events across programs, stored all or nothing."""

    model_config = ConfigDict(extra="forbid")

    events: list[dict[str, Any]] = Field(min_length=1, max_length=1000)
