"""A fact: one recorded event of a program, as the derivations see it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from domain.events import Strict


@dataclass(frozen=True)
class Fact:
    """One event of a program's trail.

    `occurred_on` is business time (when it happened, a date in the program's
    time zone); `recorded_at` is system time (when the tracker stored it, set
    by the server). `data` is the validated body (a model of `domain.events`).
    """

    version: int
    event_id: str
    type: str
    occurred_on: date
    recorded_at: datetime
    data: Strict
    hash: str = ""
    prev_hash: str = ""
