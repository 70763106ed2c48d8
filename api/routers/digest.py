"""Published digests of the whole store's history (tamper evidence across programs)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from api import examples
from api.deps import TrackerDep
from api.openapi import ok, problem_responses
from api.responses import Digest
from service.digest import store_digest

router = APIRouter(prefix="/v1", tags=["audit"])


@router.get(
    "/digest",
    operation_id="get_digest",
    response_model=None,
    responses=ok(Digest, example=examples.DIGEST) | problem_responses(404, 422, 503),
)
def digest(
    tracker: TrackerDep,
    position: Annotated[
        int | None, Query(ge=0, description="notification id; default: the latest")
    ] = None,
) -> dict[str, Any]:
    """A digest over every stored event up to `position`: publish `digest@position`, and
    `wht verify --digest` later proves the store still holds exactly that history."""
    return store_digest(tracker.recorder, position).as_dict()
