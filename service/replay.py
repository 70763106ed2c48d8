"""The tracker's side of the audit: replay a stored program, check its chain.

`projections.audit` is pure (facts in, steps out); this module feeds it
from the store: the trail known at an instant, the packs of the tracker's
catalog, and the COV-1 context only the store knows (other programs on the
same client's injury). It also turns steps into the JSON the audit
endpoint, `wht replay --json` and dispute bundles share.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any
from uuid import UUID

from domain.facts import Fact
from projections.audit import Judge, Step, catalog_judge, receipt_dates, replay
from projections.model import Finding
from projections.referrals import programs_before, spans_of
from service.application import Tracker, View
from service.integrity import END_OF_TIME, IntegrityReport, verify_program


def earlier_by_referral(tracker: Tracker, view: View) -> dict[str, list[str]]:
    """For each referral in the trail, the programs standing before it on the same
    injury (the same worker, sharing its physician referral id or claim number) as
    known at the view's instant (COV-1, docs/domain.md R5, R16)."""
    found: dict[str, list[str]] = {}
    for mine in spans_of(view.program.id, view.program.referrals, view.program.retractions):
        pids = {
            pid
            for key in mine.lookup_keys
            for pid in tracker.programs_on_referral(key, view.known_at)
            if pid != view.program.id
        }
        others = [span for pid in sorted(pids, key=str) for span in tracker.referral_spans_of(pid)]
        found[mine.event_id] = programs_before(mine, others, view.known_at)
    return found


def judge_for(tracker: Tracker, view: View) -> Judge:
    """How the tracker judges this program's trail, step by step."""
    return catalog_judge(tracker.catalog, earlier_by_referral(tracker, view))


def steps_json(steps: Sequence[Step]) -> list[dict[str, Any]]:
    """The replay as JSON-ready primitives (docs/reference/http.md, audit)."""
    # Each step's figures list every finding so far; a finding is the same object from
    # step to step, so each is turned into JSON once and shared by the steps that list it.
    shown: dict[int, dict[str, Any]] = {}

    def as_dict(finding: Finding) -> dict[str, Any]:
        found = shown.get(id(finding))
        if found is None:
            found = shown[id(finding)] = finding.as_dict()
        return found

    out = []
    listed: list[dict[str, Any]] = []  # the previous step's findings, as JSON
    for step in steps:
        event = Tracker.describe(step.fact)
        listed = [*listed[: step.shared], *map(as_dict, step.assessment.findings[step.shared :])]
        figures = step.assessment.figures(listed)
        out.append(
            {
                "version": step.fact.version,
                "event_id": step.fact.event_id,
                "type": step.fact.type,
                "occurred_on": step.fact.occurred_on.isoformat(),
                "recorded_at": event["recorded_at"],
                "event": event,
                "figures": figures,
                "findings_added": [as_dict(f) for f in step.findings_added],
                "findings_resolved": [as_dict(f) for f in step.findings_resolved],
            }
        )
    return out


def audit(
    tracker: Tracker,
    program_id: UUID,
    known_at: datetime | None = None,
    as_of: date | None = None,
) -> list[dict[str, Any]]:
    """Every event known at `known_at`, in record order, with the figures after it
    and the findings it added and resolved, as of `as_of`; with none, each step as of
    its own receipt date (docs/domain.md R21: what that event changed then). A
    `known_at` before the program existed is ProgramNotFound."""
    view = readable_view(tracker, program_id, known_at)
    facts: list[Fact] = list(view.program.trail)
    judge = judge_for(tracker, view)
    if as_of is not None:
        return steps_json(replay(facts, judge, as_of))
    return steps_json(replay(facts, judge, receipt_dates(facts)))


def readable_view(tracker: Tracker, program_id: UUID, known_at: datetime | None) -> View:
    """`tracker.view`: a trail that no longer replays is refused as `TrailDamaged`."""
    return tracker.view(program_id, known_at)


def integrity(tracker: Tracker, program_id: UUID) -> IntegrityReport:
    """Recompute one program's chain from the raw stored events."""
    return verify_program(tracker.recorder, tracker.mapper, program_id, tracker.index)


def all_program_ids(tracker: Tracker) -> list[UUID]:
    """Every program the store holds a trace of: in the index or in the event log."""
    ids = set(tracker.index.program_ids(END_OF_TIME))
    start = 1
    while True:
        page = tracker.recorder.select_notifications(start, 1000)
        if not page:
            break
        ids.update(UUID(str(n.originator_id)) for n in page)
        start = page[-1].id + 1
    return sorted(ids, key=str)
