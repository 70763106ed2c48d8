"""The payer's report of one program: the page `/ui/programs/{id}/report` (printable,
with a print stylesheet) and the data `wht report … -o FILE.pdf` prints from too.

The due list is the program's obligations as of `as_of`, known at `known_at`, as
GET /v1/programs/{id}/due answers them (`projections/due.py`).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import UUID

from fastapi import APIRouter, Request
from starlette.responses import HTMLResponse, Response

from api.deps import TrackerDep, parse_as_of, parse_known_at, program_uuid
from api.ui.pages import PROGRAM, shown, with_clause
from api.ui.render import FIGURE_LABELS, page, show
from api.ui.session import Viewer, admit
from domain.errors import ProgramNotFound
from domain.program import format_instant
from service import replay
from service.application import Tracker
from service.business_time import as_of_for
from service.security import Role

router = APIRouter(include_in_schema=False)
WITHHELD = "withheld (de-identified)"


def report_data(
    tracker: Tracker,
    program_id: UUID,
    as_of: date | None,
    known_at: datetime | None,
    *,
    deidentified: bool = False,
) -> dict[str, Any]:
    """Everything the report prints, as plain values: who and which claim, the figures,
    the CPT lines per day, the findings with the policy's words, the two instants, and
    the integrity verdict with the head hash. `deidentified` (a regulator) withholds the
    worker's name, id and employer and the claim number. An `as_of` before the program's
    referral is ProgramNotFound (docs/domain.md R12): the program did not exist yet."""
    view = tracker.view(program_id, known_at)
    assessment = view.assess(as_of_for(view, as_of))
    referral: Any = view.program.referral.data if view.program.referral else None
    worker = referral.worker if referral else None
    claim = referral.claim if referral else None
    integrity = replay.integrity(tracker, program_id).as_dict()
    figures = assessment.figures()
    return {
        "program_id": str(program_id),
        "as_of": assessment.as_of.isoformat(),
        "known_at": format_instant(view.known_at),
        "version": view.program.version,
        "provider_id": referral.provider_id if referral else "",
        "policy": f"{view.pack.id}" + ("" if view.pack_in_force else " (not in force)"),
        "worker": {
            "name": WITHHELD if deidentified else (worker.name if worker else ""),
            "worker_id": WITHHELD if deidentified else (worker.worker_id if worker else ""),
            "employer": WITHHELD if deidentified else (worker.employer if worker else ""),
            "job_title": worker.job_title if worker else "",
        },
        "claim": {
            "claim_number": WITHHELD if deidentified else (claim.claim_number if claim else ""),
            "injury_date": claim.injury_date.isoformat() if claim and claim.injury_date else "",
            "body_region": str(claim.body_region).replace("_", " ") if claim else "",
        },
        "figures": [
            (FIGURE_LABELS[k], show(figures.get(k)))
            for k in FIGURE_LABELS
            if k not in ("as_of", "policy")
        ],
        "billing": [
            {
                "date": day.date.isoformat(),
                "hours": day.as_dict()["hours"],
                "lines": ", ".join(f"{line.code} x{line.units}" for line in day.lines) or "—",
            }
            for day in assessment.billing
        ],
        "findings": [with_clause(f.as_dict(), view.pack) for f in assessment.findings],
        "integrity": {
            "ok": integrity["ok"],
            "events_checked": integrity["events_checked"],
            "head_hash": integrity["head_hash"],
            "first_bad_version": integrity["first_bad_version"],
        },
        "due": view.due(assessment.as_of).as_dict()["obligations"],
    }


@router.get("/ui/programs/{program_id}/report", response_class=HTMLResponse)
def report_page(
    request: Request,
    program_id: str,
    tracker: TrackerDep,
    as_of: str | None = None,
    known_at: str | None = None,
) -> Response:
    """The payer's printable report of one program."""
    who = admit(request, f"{PROGRAM}/compliance")
    if not isinstance(who, Viewer):
        return who

    def build() -> HTMLResponse:
        pid = program_uuid(program_id)
        if not who.sees(tracker, pid):  # worded as for a program that does not exist
            raise ProgramNotFound(f"Program {pid} is not known.")
        regulator = who.key is not None and who.key.role is Role.REGULATOR
        data = report_data(
            tracker, pid, parse_as_of(as_of), parse_known_at(known_at), deidentified=regulator
        )
        return page(request, "report.html", {"report": data}, who=who)

    return shown(request, who, "/ui/programs/{program_id}/report", program_id, build)
