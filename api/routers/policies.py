"""The policy packs, their parameters, effective periods and clauses."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path

from api import examples
from api.deps import TrackerDep
from api.openapi import ok, problem_responses
from api.responses import Policy, PolicySummary
from domain.errors import NotFound
from domain.policy import PACK_ID_PATTERN

router = APIRouter(prefix="/v1/policies", tags=["policies"])


@router.get(
    "",
    operation_id="list_policies",
    response_model=None,
    responses=ok(list[PolicySummary], example=examples.POLICIES) | problem_responses(503),
)
def list_policies(tracker: TrackerDep) -> list[dict[str, Any]]:
    """Every pack the tracker knows, with when it is in force."""
    return [
        {
            "id": p.id,
            "name": p.name,
            "payer": p.payer,
            "version": p.version,
            "default": p.id == tracker.catalog.default_id,
            "effective_periods": [
                e.model_dump(mode="json", by_alias=True) for e in p.effective_periods
            ],
        }
        for p in tracker.catalog.packs.values()
    ]


@router.get(
    "/{policy_id}",
    operation_id="get_policy",
    response_model=None,
    responses=ok(Policy, example={**examples.POLICIES[0], "clauses": []})
    | problem_responses(404, 503),
)
def get_policy(
    policy_id: Annotated[str, Path(max_length=100, pattern=PACK_ID_PATTERN)],
    tracker: TrackerDep,
) -> dict[str, Any]:
    """One pack whole: its numbers, lists, clauses and stated assumptions."""
    pack = tracker.catalog.get(policy_id)
    if pack is None:
        raise NotFound(f"No policy pack {policy_id!r}; GET /v1/policies lists them.")
    return pack.model_dump(mode="json", by_alias=True)
