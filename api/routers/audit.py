"""The auditor's reads of one program: the replay and the hash chain (docs/reference/http.md)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import Response

from api import examples, tool_version
from api.deps import AsOf, KnownAt, ProgramId, TrackerDep
from api.openapi import READ_PROBLEMS, ok, problem_responses
from api.responses import AuditStep, Integrity
from service import replay
from service.bundle import build_bundle

router = APIRouter(prefix="/v1/programs", tags=["audit"])


@router.get(
    "/{program_id}/audit",
    operation_id="get_audit",
    response_model=None,
    responses=ok(list[AuditStep], example=examples.AUDIT) | READ_PROBLEMS,
)
def audit(
    program_id: ProgramId, tracker: TrackerDep, as_of: AsOf = None, known_at: KnownAt = None
) -> list[dict[str, Any]]:
    """Every event in record order, with the figures after it and the findings it added
    and resolved, as known at `known_at`, as of `as_of`; with none, each step as of its
    event's receipt date (the later of its `occurred_on` and the latest `occurred_on`
    standing before it), so a step shows what that event changed then."""
    return replay.audit(tracker, program_id, known_at, as_of)


@router.get(
    "/{program_id}/integrity",
    operation_id="check_integrity",
    response_model=None,
    responses=ok(Integrity, example=examples.INTEGRITY) | problem_responses(404, 503),
)
def integrity(program_id: ProgramId, tracker: TrackerDep) -> dict[str, Any]:
    """Recompute the program's hash chain from the stored events: has anything changed?"""
    return replay.integrity(tracker, program_id).as_dict()


@router.get(
    "/{program_id}/bundle",
    operation_id="get_bundle",
    response_class=Response,
    responses={
        200: {"content": {"application/zip": {}}, "description": "the bundle"},
        **READ_PROBLEMS,
    },
)
def bundle(
    program_id: ProgramId, tracker: TrackerDep, as_of: AsOf = None, known_at: KnownAt = None
) -> Response:
    """The dispute bundle (as `wht bundle` writes it): events with hashes, the policy
    pack, the replay, the figures and the tool version, checkable offline with
    `wht check-bundle`. A broken hash chain is refused (409)."""
    data = build_bundle(
        tracker, program_id, tool_version=tool_version(), known_at=known_at, as_of=as_of
    )
    return Response(
        data,
        media_type="application/zip",
        headers={"Content-Disposition": f'attachment; filename="wht-{program_id}.zip"'},
    )
