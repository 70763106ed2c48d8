"""Two time axes on a real store: known_at (system time) and as_of (business time).

Runs on SQLite and PostgreSQL (the `tracker` fixture). The properties build
small random programs with hypothesis; each example uses a new program id in
the same store, and the "fresh tracker" of the known_at property is a new
SQLite file per example.
"""

from __future__ import annotations

import tempfile
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from api.bootstrap import build_tracker
from domain.errors import AlreadyRetracted, Conflict, ProgramNotFound, RetractionTargetNotFound
from service.application import Tracker
from service.replay import audit
from tests.audit_builders import (
    ADMITTED_ON,
    CRITERIA,
    LATER,
    REFERRED_ON,
    Clinic,
    referral_body,
    session_body,
    standard_program,
)

PROPERTY = settings(
    max_examples=8,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def figures(tracker: Tracker, clinic: Clinic, **cut: Any) -> dict[str, Any]:
    view = tracker.view(clinic.program_id, cut.get("known_at"))
    assessment = view.assess(cut.get("as_of", LATER))
    return {**assessment.figures(), "billing": [d.as_dict() for d in assessment.billing]}


# ---- retraction, 409 and 404 ----


def test_retraction_removes_its_target_from_its_own_recorded_at_on(tracker: Tracker) -> None:
    clinic = standard_program(tracker, sessions=3)
    extra = clinic.session(ADMITTED_ON + timedelta(days=3), hours=5)
    clinic.retract(extra["event_id"])
    before, after = clinic.recorded_at(-2), clinic.recorded_at(-1)

    assert figures(tracker, clinic, known_at=before)["total_hours"] == 23
    assert figures(tracker, clinic, known_at=after)["total_hours"] == 18
    assert figures(tracker, clinic, known_at=after - timedelta(microseconds=1))["total_hours"] == 23


def test_retracting_an_event_that_does_not_exist_is_a_conflict(tracker: Tracker) -> None:
    clinic = standard_program(tracker, sessions=1)
    with pytest.raises(RetractionTargetNotFound) as refused:
        clinic.retract(str(uuid4()))
    assert isinstance(refused.value, Conflict)


def test_retracting_an_already_retracted_event_is_a_conflict(tracker: Tracker) -> None:
    clinic = standard_program(tracker, sessions=2)
    clinic.retract(clinic.receipts[-1]["event_id"])
    with pytest.raises(AlreadyRetracted) as refused:
        clinic.retract(clinic.receipts[-2]["event_id"])
    assert isinstance(refused.value, Conflict)


def test_known_at_before_the_program_existed_is_not_found(tracker: Tracker) -> None:
    clinic = standard_program(tracker, sessions=1)
    with pytest.raises(ProgramNotFound):
        tracker.view(clinic.program_id, clinic.recorded_at(0) - timedelta(microseconds=1))
    assert tracker.view(clinic.program_id, clinic.recorded_at(0)).program.version == 1


def test_audit_honours_known_at_and_as_of(tracker: Tracker) -> None:
    clinic = standard_program(tracker, sessions=5)
    steps = audit(tracker, clinic.program_id, clinic.recorded_at(4), ADMITTED_ON)
    assert [s["version"] for s in steps] == [1, 2, 3, 4, 5]
    assert steps[-1]["figures"]["as_of"] == ADMITTED_ON.isoformat()
    assert steps[-1]["figures"]["total_hours"] == 6  # only the session on ADMITTED_ON by then


def test_a_referral_asking_for_the_washington_pack_is_judged_by_it(tracker: Tracker) -> None:
    clinic = Clinic(tracker)
    clinic.refer(on=date(2023, 5, 1), policy="wa-lni-2023")
    clinic.admit(on=date(2023, 5, 8))
    clinic.evaluate(on=date(2023, 5, 8))
    clinic.weekdays(date(2023, 5, 8), 25)  # five weeks: week 5 is past L&I's four
    result = figures(tracker, clinic, as_of=date(2023, 7, 31))

    assert result["policy"] == "wa-lni-2023"
    assert result["reimbursable_hours"] == 20 * 6
    beyond = [f for f in result["findings"] if f["code"] == "beyond_max_weeks"]
    assert len(beyond) == 5 and all(f["clause"] == "COV-2" for f in beyond)
    assert not [f for f in result["findings"] if f["code"] == "policy_not_in_force"]


def test_the_washington_pack_is_not_in_force_after_january_2024(tracker: Tracker) -> None:
    clinic = Clinic(tracker)
    clinic.refer(on=date(2024, 3, 4), policy="wa-lni-2023")
    codes = {f["code"] for f in figures(tracker, clinic, as_of=date(2024, 3, 31))["findings"]}
    assert "policy_not_in_force" in codes


# ---- properties ----

Post = tuple[str, date, dict[str, Any], str]  # type, occurred_on, data, event_id
HOURS = ["1.5", "2", "4", "6", "8", "9.25"]
programs = st.lists(
    st.tuples(
        st.sampled_from(["session", "session", "absence", "tardy", "retract"]),
        st.integers(0, 40),
        st.integers(0, 5),
    ),
    min_size=1,
    max_size=8,
)


def build_posts(ops: list[tuple[str, int, int]], referral_id: str) -> list[Post]:
    """A referral, an admission, then `ops`: sessions, absences, tardies, retractions."""
    posts: list[Post] = [
        ("ProgramReferred", REFERRED_ON, referral_body(referral_id=referral_id), str(uuid4())),
        ("ProgramAdmitted", ADMITTED_ON, {"criteria": CRITERIA}, str(uuid4())),
    ]
    retracted: set[str] = set()
    for kind, offset, pick in ops:
        on = ADMITTED_ON + timedelta(days=offset)
        if kind == "session":
            posts.append(("SessionLogged", on, session_body(HOURS[pick]), str(uuid4())))
        elif kind == "absence":
            posts.append(("AbsenceRecorded", on, {"excused": pick % 2 == 0}, str(uuid4())))
        elif kind == "tardy":
            posts.append(("TardinessRecorded", on, {"minutes_late": 10}, str(uuid4())))
        else:
            targets = [
                p[3] for p in posts[1:] if p[0] != "EntryRetracted" and p[3] not in retracted
            ]
            if targets:
                target = targets[pick % len(targets)]
                retracted.add(target)
                posts.append(("EntryRetracted", LATER, {"target_event_id": target}, str(uuid4())))
    return posts


def post_all(clinic: Clinic, posts: list[Post]) -> None:
    for event_type, on, data, event_id in posts:
        clinic.post(event_type, on, data, event_id)


@PROPERTY
@given(ops=programs, cut=st.integers(0, 50))
def test_figures_known_at_t_equal_a_fresh_tracker_fed_only_the_events_recorded_by_t(
    tracker: Tracker, ops: list[tuple[str, int, int]], cut: int
) -> None:
    clinic = Clinic(tracker)
    posts = build_posts(ops, f"PR-{clinic.program_id.hex}")
    post_all(clinic, posts)
    last = cut % len(posts)
    known_at = clinic.recorded_at(last)

    with tempfile.TemporaryDirectory() as folder:
        fresh = build_tracker(f"sqlite:///{Path(folder) / 'fresh.sqlite'}")
        try:
            replica = Clinic(fresh, clinic.program_id)
            post_all(replica, posts[: last + 1])
            assert figures(tracker, clinic, known_at=known_at) == figures(fresh, replica)
        finally:
            fresh.close()


@PROPERTY
@given(ops=programs)
def test_a_cached_program_cut_at_a_version_equals_that_version_replayed_from_the_store(
    tracker: Tracker, ops: list[tuple[str, int, int]]
) -> None:
    clinic = Clinic(tracker)
    post_all(clinic, build_posts(ops, f"PR-{clinic.program_id.hex}"))
    latest = tracker.repository.get(clinic.program_id)

    for version in range(1, latest.version + 1):
        cut = latest.at_version(version)
        stored = tracker.repository.get(clinic.program_id, version=version)
        assert (cut.version, cut.modified_on, cut.last_hash) == (
            stored.version,
            stored.modified_on,
            stored.last_hash,
        )
        assert (cut.trail, cut.active, cut.retracted) == (
            stored.trail,
            stored.active,
            stored.retracted,
        )
        assert cut.referral == stored.referral
    assert latest.at_version(latest.version).trail == latest.trail
    with pytest.raises(ValueError):
        latest.at_version(latest.version + 1)


@PROPERTY
@given(ops=programs)
def test_as_of_moving_forward_never_decreases_days_attended_or_total_hours(
    tracker: Tracker, ops: list[tuple[str, int, int]]
) -> None:
    clinic = Clinic(tracker)
    post_all(clinic, build_posts(ops, f"PR-{clinic.program_id.hex}"))
    view = tracker.view(clinic.program_id)
    days, hours = 0, 0
    for offset in range(-8, 50, 3):
        assessment = view.assess(ADMITTED_ON + timedelta(days=offset))
        assert assessment.days_attended >= days and assessment.total_hours >= hours
        days, hours = assessment.days_attended, assessment.total_hours


@PROPERTY
@given(ops=programs, pick=st.integers(0, 100))
def test_retracting_then_reposting_an_event_gives_the_figures_of_never_retracting_it(
    tracker: Tracker, ops: list[tuple[str, int, int]], pick: int
) -> None:
    original = Clinic(tracker)
    posts = build_posts(ops, f"PR-{original.program_id.hex}")
    post_all(original, posts)

    corrected = Clinic(tracker)
    again = [(t, on, data, str(uuid4())) for t, on, data, _ in posts]
    again[0] = (
        again[0][0],
        again[0][1],
        referral_body(referral_id=f"PR-{corrected.program_id.hex}"),
        again[0][3],
    )
    # keep the retractions aimed at the same events of this copy
    renamed = {old[3]: new[3] for old, new in zip(posts, again, strict=True)}
    again = [
        (t, on, {"target_event_id": renamed[d["target_event_id"]]}, i)
        if t == "EntryRetracted"
        else (t, on, d, i)
        for t, on, d, i in again
    ]
    post_all(corrected, again)
    retracted = {d["target_event_id"] for t, _, d, _ in again if t == "EntryRetracted"}
    candidates = [p for p in again[1:] if p[0] != "EntryRetracted" and p[3] not in retracted]
    # Every fact but the referral retracted (the admission too): nothing left to re-post.
    assume(candidates)
    event_type, on, data, event_id = candidates[pick % len(candidates)]
    corrected.retract(event_id)
    corrected.post(event_type, on, data)

    assert figures(tracker, corrected) == figures(tracker, original)
