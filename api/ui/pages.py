"""The program page and the audit page: one program, as of a date, as known at an instant."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

from fastapi import APIRouter, Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from api.deps import TrackerDep, parse_as_of, parse_known_at, program_uuid
from api.problems import status_of
from api.ui.chart import timeline_svg
from api.ui.render import FIGURE_LABELS, day_input, error_page, local_input, page, root
from api.ui.session import Viewer, admit, record_read, viewer
from api.ui.story import program_story
from domain.errors import (
    InvalidEvent,
    InvalidRequest,
    ProgramNotFound,
    StoreUnavailable,
    TrackerError,
)
from domain.events import ProgramReferred
from domain.policy import PolicyPack
from domain.program import format_instant
from projections.filing import build_record
from projections.model import format_hours, plural
from service import replay
from service.application import Tracker, View
from service.business_time import as_of_for
from service.deidentify import Deidentifier
from service.integrity import TrailDamaged
from service.storage import store_errors

router = APIRouter(include_in_schema=False)
PROGRAM = "/v1/programs/{program_id}"
UNAVAILABLE = (
    "The event store cannot be reached just now; nothing was shown. Reload the page shortly."
)


def with_clause(finding: dict[str, Any], pack: PolicyPack | None) -> dict[str, Any]:
    """A finding with its clause's title and the policy's own words for it."""
    clause = pack.clauses.get(finding["clause"]) if pack else None
    return {
        **finding,
        "clause_title": clause.title if clause else "",
        "clause_text": clause.text if clause else "",
    }


def grouped(findings: list[dict[str, Any]]) -> list[tuple[str, list[dict[str, Any]]]]:
    """Findings by code, codes in the order they first appear, each code's by date."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for finding in findings:
        groups.setdefault(finding["code"], []).append(finding)
    return list(groups.items())


def finished_on(view: View) -> date | None:
    """A discharged program's own last date (the latest date in its trail), which its
    page shows unless asked for another; None (today) for a program still running."""
    today = view.today()
    dates = [fact.occurred_on for fact in view.program.trail if fact.occurred_on <= today]
    if not dates or build_record(view.program.trail, today).discharge is None:
        return None
    return max(dates)


def refusal_page(request: Request, error: TrackerError, who: Viewer) -> HTMLResponse:
    """What the tracker refused, said on a page with the API's status code."""
    invalid = isinstance(error, (InvalidEvent, InvalidRequest))
    title = "Not a valid request" if invalid else error.title
    return error_page(request, status_of(error), title, error.detail, who)


def shown(
    request: Request, who: Viewer, endpoint: str, program_id: str, build: Callable[[], HTMLResponse]
) -> HTMLResponse:
    """Build a program's page, turn refusals into error pages, and log the read."""
    try:
        with store_errors():
            try:
                response = build()
            except StoreUnavailable:
                raise
            except TrackerError as error:
                response = refusal_page(request, error, who)
            record_read(request, who, endpoint, response.status_code, program_id)
    except StoreUnavailable:
        return error_page(request, 503, "Store unavailable", UNAVAILABLE, who)
    return response


def program_context(
    tracker: Tracker, who: Viewer, pid: UUID, as_of: date | None, known_at: Any
) -> dict[str, Any]:
    if not who.sees(tracker, pid):  # worded as for a program that does not exist
        raise ProgramNotFound(f"Program {pid} is not known.")
    view = tracker.view(pid, known_at)
    # Before the referral the program does not exist yet (R12): the 404 page.
    assessment = view.assess(as_of_for(view, as_of or finished_on(view)))
    listed = view.due(assessment.as_of)
    record = build_record(view.program.trail, assessment.as_of)
    story = program_story(record, view.pack, view.today())
    referral = view.program.referral
    start = record.admitted_on
    jumps = [
        ("Referral", referral.occurred_on if referral else None),
        ("Admission", start),
        (
            f"End of week {view.pack.limits.max_weeks}",
            start + timedelta(days=7 * view.pack.limits.max_weeks - 1) if start else None,
        ),
        ("Discharge", record.discharged_on),
        ("Today", view.today()),
    ]
    findings = [with_clause(f.as_dict(), view.pack) for f in assessment.findings]
    shown_referral = referral.data if referral else None
    if who.role == "regulator":  # de-identified: no worker, employer or claim
        hide = Deidentifier.of(view.program.trail)
        findings = [hide.finding(f) for f in findings]
        if isinstance(shown_referral, ProgramReferred):
            shown_referral = hide.referral(shown_referral)
    limits = view.pack.limits
    ceiling = limits.max_hours_per_day * limits.max_days_per_week * limits.max_weeks
    violations = sum(1 for f in findings if f["severity"] == "violation")
    return {
        "program_id": str(pid),
        "view": view,
        "verdict": (
            "Compliant so far" if not violations else plural(violations, "violation").capitalize()
        ),
        "due": [o.as_dict(listed.as_of) for o in listed.obligations],
        "budgets": listed.budgets.as_dict(),
        "hours_left": format_hours(max(ceiling - assessment.reimbursable_hours, Decimal(0))),
        "hours_ceiling": format_hours(ceiling),
        "finding_groups": grouped(findings),
        "pack": view.pack,
        "pack_in_force": view.pack_in_force,
        "figures": {k: v for k, v in assessment.figures().items() if k != "findings"},
        "version": view.program.version,
        "known_at_text": format_instant(view.known_at),
        "findings": findings,
        "billing": assessment.billing,
        "story": story,
        "chart": timeline_svg(story),
        "cap": format_hours(view.pack.limits.max_hours_per_day),
        "referral": shown_referral,
        "jumps": [(label, d.isoformat()) for label, d in jumps if d is not None],
        "as_of_value": day_input(assessment.as_of),
        "known_at_value": local_input(known_at),
        "may_audit": who.may(f"{PROGRAM}/audit"),
        "may_list": who.may("/v1/programs"),
    }


@router.get("/ui/programs/{program_id}", response_class=HTMLResponse)
def program_page(
    request: Request,
    program_id: str,
    tracker: TrackerDep,
    as_of: str | None = None,
    known_at: str | None = None,
) -> Response:
    """Status, policy pack, every figure, the timeline and the findings of one program."""
    who = admit(request, f"{PROGRAM}/compliance")
    if not isinstance(who, Viewer):
        return who

    def build() -> HTMLResponse:
        context = program_context(
            tracker, who, program_uuid(program_id), parse_as_of(as_of), parse_known_at(known_at)
        )
        return page(request, "program.html", context, who=who)

    return shown(request, who, "/ui/programs/{program_id}", program_id, build)


def changes(before: dict[str, Any] | None, after: dict[str, Any]) -> list[tuple[str, Any, Any]]:
    """The figures an event changed: (label, before, after); for the first, those it set."""
    found = []
    for key, label in FIGURE_LABELS.items():
        if key == "as_of":
            continue
        old = before.get(key) if before else None
        if (old != after.get(key)) if before else after.get(key) not in (None, []):
            found.append((label, old, after.get(key)))
    return found


def audit_context(tracker: Tracker, pid: UUID, as_of: date | None, known_at: Any) -> dict[str, Any]:
    report = replay.integrity(tracker, pid).as_dict()
    problems: dict[int, list[str]] = {}
    for problem in report["problems"]:
        problems.setdefault(problem["version"], []).append(problem["reason"])
    damage = None
    try:
        steps = replay.audit(tracker, pid, known_at, as_of)
    except TrailDamaged as error:
        steps, damage = [], error.detail
    before: dict[str, Any] | None = None
    shown_steps = []
    for step in steps:
        pack = tracker.catalog.get(step["figures"]["policy"])
        shown_steps.append(
            {
                **step,
                "changes": changes(before, step["figures"]),
                "added": [with_clause(f, pack) for f in step["findings_added"]],
                "resolved": [with_clause(f, pack) for f in step["findings_resolved"]],
                "problems": problems.get(step["version"], []),
            }
        )
        before = step["figures"]
    as_of_text = steps[-1]["figures"]["as_of"] if steps else (as_of or date.today()).isoformat()
    return {
        "program_id": str(pid),
        "steps": shown_steps,
        "integrity": report,
        "damage": damage,
        "as_of_value": as_of_text,
        "known_at_value": local_input(known_at),
    }


@router.get("/ui/programs/{program_id}/audit", response_class=HTMLResponse)
def audit_page(
    request: Request,
    program_id: str,
    tracker: TrackerDep,
    as_of: str | None = None,
    known_at: str | None = None,
) -> Response:
    """The replay, event by event, and the integrity check's verdict."""
    who = admit(request, f"{PROGRAM}/audit")
    if not isinstance(who, Viewer):
        return who

    def build() -> HTMLResponse:
        context = audit_context(
            tracker, program_uuid(program_id), parse_as_of(as_of), parse_known_at(known_at)
        )
        return page(request, "audit.html", context, who=who)

    return shown(request, who, "/ui/programs/{program_id}/audit", program_id, build)


@router.get("/ui", response_class=HTMLResponse)
def home(request: Request, program_id: str | None = None) -> Response:
    """The regulator's list for those who may see it; else a form to open one program."""
    who = viewer(request)
    if who is None:
        return RedirectResponse(f"{root(request)}/ui/sign-in", 303)
    if program_id:
        try:
            pid = program_uuid(program_id.strip())
        except ProgramNotFound as error:
            return page(request, "home.html", {"error": error.detail}, 404, who)
        return RedirectResponse(f"{root(request)}/ui/programs/{pid}", 303)
    if who.may("/v1/programs"):
        return RedirectResponse(f"{root(request)}/ui/programs", 303)
    return page(request, "home.html", {"error": None}, who=who)
