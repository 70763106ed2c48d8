"""What an ingest answers: the receipt, judged at the program's own dates (R11).

A receipt lists the findings its event added: the program's fold just before and
just after the event, as of the later of the event's `occurred_on` and the latest
`occurred_on` already in the program, compared by (code, clause, severity, date).
A resend answers the stored receipt again, or derives it again from the trail
when the stored one is gone or garbled.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any
from uuid import UUID

from domain.errors import EventIdConflict
from domain.intake import NewEvent
from domain.program import Program, format_instant
from projections.fold import added
from projections.model import Finding
from service.judging import Judging
from service.persistence import IndexRow


@dataclass(frozen=True)
class Receipt:
    """What an ingest answers: `status` 201 for a new event, 200 for a repeat."""

    status: int
    body: dict[str, Any]


def visible_others(body: dict[str, Any], provider_id: str | None) -> dict[str, Any]:
    """A receipt as its caller may see it: under `others` (R13), only the programs of
    `provider_id` (None: every program), and never whose provider each one is."""
    others = body.get("others")
    if not isinstance(others, list):
        return body
    kept = [
        {"program_id": other["program_id"], "findings": other["findings"]}
        for other in others
        if provider_id is None or other.get("provider_id") == provider_id
    ]
    shown = {k: v for k, v in body.items() if k != "others"}
    if kept:
        shown["others"] = kept
    return shown


def stored_version(program: Program | None, event_id: str) -> int | None:
    # The version at which the trail holds `event_id` (ids are lower-case UUIDs).
    if program is None:
        return None
    fact = program.by_id.get(event_id)
    return fact.version if fact is not None else None


def receipt_date(program: Program | None, occurred_on: date) -> date:
    """The business date a receipt is judged at (docs/domain.md R11): the later of the
    event's `occurred_on` and the latest `occurred_on` of a standing fact already in the
    program: retracted facts and retractions do not count (R14)."""
    if program is None or program.latest_on is None:
        return occurred_on
    return max(occurred_on, program.latest_on)


class Receipts(Judging):
    """Receipts of new events and of resends."""

    def _repeat(self, prior: IndexRow, sha: str) -> Receipt:
        if prior.body_sha != sha:
            # Nothing of the program it went to: it may be another provider's.
            raise EventIdConflict(
                f"event_id {prior.event_id} was already recorded with a different body. Use a "
                "new event_id for a new event, or EntryRetracted to correct the old one."
            )
        try:
            body = json.loads(prior.result)
            if not isinstance(body, dict):
                raise ValueError("not an object")
        except ValueError:  # a garbled stored receipt: answer it again from the trail
            body = self._receipt_again(prior.program_id, prior.version)
        return Receipt(200, body)

    def _repeat_from_trail(
        self, program_id: UUID, program: Program | None, version: int, sha: str
    ) -> Receipt:
        assert program is not None
        fact = program.trail[version - 1]
        stored = NewEvent(fact.event_id, fact.type, fact.occurred_on, fact.data)
        if stored.body_sha(program_id) != sha:
            raise EventIdConflict(
                f"event_id {fact.event_id} was already recorded with a different body. Use a "
                "new event_id for a new event, or EntryRetracted to correct the old one."
            )
        return Receipt(200, self._receipt_again(program_id, version))

    def _receipt_again(self, program_id: UUID, version: int) -> dict[str, Any]:
        """The receipt of the event at `version`, derived again from the trail (the same
        judging as when it was recorded: before and after it, at R11's date)."""
        program = self.program(program_id)
        fact = program.trail[version - 1]
        earlier = program.at_version(version - 1) if version > 1 else None
        judged_on = receipt_date(earlier, fact.occurred_on)
        after = self._view(program.at_version(version), fact.recorded_at).fold()
        before: Sequence[Finding] = ()
        if earlier is not None:
            before = self._view(earlier, fact.recorded_at).fold().findings_at(judged_on)
        return {
            "program_id": str(program_id),
            "event_id": fact.event_id,
            "version": version,
            "recorded_at": format_instant(fact.recorded_at),
            "findings": [f.as_dict() for f in added(before, after.findings_at(judged_on))],
        }
