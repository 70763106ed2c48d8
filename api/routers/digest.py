"""Published digests of the whole store's history (tamper evidence across programs)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from api.deps import TrackerDep
from service.digest import store_digest

router = APIRouter(prefix="/v1", tags=["audit"])


@router.get("/digest")
def digest(
    tracker: TrackerDep,
    position: Annotated[
        int | None, Query(ge=0, description="notification id; default: the latest")
    ] = None,
) -> dict[str, Any]:
    """A digest over every stored event up to `position`: publish `digest@position`, and
    `wht verify --digest` later proves the store still holds exactly that history."""
    return store_digest(tracker.recorder, position).as_dict()
