"""The timeline's segments, as the read model stores them, say what its states say.

The read model stores each program as a few constant stretches of business time
(`Timeline.state_segments`, `finding_segments`); that the states themselves are
what `assess` says on every day is tests/unit/test_one_fold.py's. These
properties check that the segments cover every date once, agree with the states,
and survive JSON.
"""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain.policy import PolicyCatalog, PolicyPack
from projections.fold import Context, Fold
from projections.timeline import BEGINNING, Timeline
from tests.histories import as_facts, histories

PACKS = sorted(PolicyCatalog.load().packs.values(), key=lambda pack: pack.id)
PROPERTY_SETTINGS = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
earlier_programs = st.lists(st.just("0b6f3d1e-1111-4222-8333-444455556666"), max_size=1)


def days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


@PROPERTY_SETTINGS
@given(histories(), st.sampled_from(PACKS))
def test_segments_cover_every_date_once_and_agree_with_the_states(
    bodies: list[dict[str, object]], pack: PolicyPack
) -> None:
    timeline = Fold.of(as_facts(bodies), Context(pack)).timeline()
    segments = timeline.state_segments()
    assert segments[0].valid_from == BEGINNING and segments[-1].valid_to is None
    for before, after in zip(segments, segments[1:], strict=False):
        assert before.valid_to == after.valid_from
        assert (before.status, before.discharge_eligible) != (
            after.status,
            after.discharge_eligible,
        )
    findings = timeline.finding_segments()
    for start, state in timeline.changes:
        present = {
            f.code
            for f in findings
            if f.valid_from <= start and (f.valid_to is None or start < f.valid_to)
        }
        assert present == state.findings
        covering = [
            s
            for s in segments
            if s.valid_from <= start and (s.valid_to is None or start < s.valid_to)
        ]
        assert [(s.status, s.discharge_eligible) for s in covering] == [
            (state.status, state.discharge_eligible)
        ]
    assert Timeline.from_json(timeline.as_json()) == timeline


def test_a_program_with_no_facts_in_force_yet_is_referred_with_nothing_found() -> None:
    facts = as_facts(
        [
            {
                "event_id": "5f0c1a52-0000-4000-8000-000000000001",
                "type": "ProgramReferred",
                "occurred_on": "2026-03-02",
                "data": {
                    "worker": {"worker_id": "W"},
                    "claim": {
                        "claim_number": "C",
                        "body_region": "elbow",
                        "compensable_injury_reported": True,
                    },
                    "referral": {
                        "source": "physician",
                        "referred_by": "Dr",
                        "prescription": {"prescriber": "Dr", "prescribed_on": "2026-03-01"},
                    },
                    "provider_id": "p",
                },
            },
        ]
    )
    timeline = Fold.of(facts, Context(PACKS[0])).timeline()
    assert timeline.at(date(2026, 3, 1)).findings == frozenset()
    assert timeline.at(date(2026, 3, 2)).findings == {"region_not_covered"}
    assert [s.valid_from for s in timeline.finding_segments()] == [date(2026, 3, 2)]
