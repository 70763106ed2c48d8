"""Reads of one program: compliance, trail, billing (docs/reference/http.md)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from api import examples
from api.deps import AsOf, Deidentified, KnownAt, ProgramId, TrackerDep
from api.openapi import READ_PROBLEMS, ok
from api.responses import BillingDay, Compliance, StoredEvent
from domain.program import format_instant
from projections.audit import occurred_by
from service.business_time import as_of_for
from service.deidentify import Deidentifier

router = APIRouter(prefix="/v1/programs", tags=["programs"])


@router.get(
    "/{program_id}/compliance",
    operation_id="get_compliance",
    response_model=None,
    responses=ok(Compliance, example=examples.COMPLIANCE) | READ_PROBLEMS,
)
def compliance(
    program_id: ProgramId,
    tracker: TrackerDep,
    as_of: AsOf = None,
    known_at: KnownAt = None,
    deidentified: Deidentified = False,
) -> dict[str, Any]:
    """Is this program compliant, as of a business date (default: today in the program's
    time zone), as known at an instant (default: now)? Before the program's referral
    date it did not exist yet: 404. (For a regulator, no finding quotes the worker or
    the claim.)"""
    view = tracker.view(program_id, known_at)
    assessment = view.assess(as_of_for(view, as_of))
    figures = assessment.figures()
    if deidentified:
        hide = Deidentifier.of(view.program.trail)
        figures["findings"] = [hide.finding(f) for f in figures["findings"]]
    return {
        "program_id": str(program_id),
        "version": view.program.version,
        "known_at": format_instant(view.known_at),
        **figures,
    }


@router.get(
    "/{program_id}/events",
    operation_id="list_program_events",
    response_model=None,
    responses=ok(list[StoredEvent], example=[examples.STORED]) | READ_PROBLEMS,
)
def events(
    program_id: ProgramId,
    tracker: TrackerDep,
    as_of: AsOf = None,
    known_at: KnownAt = None,
    deidentified: Deidentified = False,
) -> list[dict[str, Any]]:
    """The stored trail, in record order, as known at an instant; with `as_of`, only
    the events that occurred by that date (and the retractions of those). For a
    regulator, the worker's name, id and employer and the claim number are hidden."""
    view = tracker.view(program_id, known_at)
    trail = view.program.trail
    if as_of is not None:
        trail = occurred_by(trail, as_of)
    described = [tracker.describe(fact) for fact in trail]
    if deidentified:
        hide = Deidentifier.of(view.program.trail)
        described = [hide.event(event) for event in described]
    return described


@router.get(
    "/{program_id}/billing",
    operation_id="get_billing",
    response_model=None,
    responses=ok(list[BillingDay], example=examples.BILLING) | READ_PROBLEMS,
)
def billing(
    program_id: ProgramId, tracker: TrackerDep, as_of: AsOf = None, known_at: KnownAt = None
) -> list[dict[str, Any]]:
    """One line per billed day: CPT codes and units (COD-1)."""
    view = tracker.view(program_id, known_at)
    return [day.as_dict() for day in view.assess(as_of_for(view, as_of)).billing]
