"""COV-1 across programs (DOMAIN.md R5): one program per physician referral.

The programs on a referral id are those whose standing referral (not
retracted, as known at `known_at`) carries it; the first is the one whose
referral occurred first in business time (ties: record time, then program
id); every later one is a repeat, flagged until a `RepeatProgramApproved` on
or before its admission. The expected answers come from a small model of
that definition, never from the tracker; `/compliance` (the tracker's
view) and the regulator's read model (live, rebuilt, and projected in two
partitions, row for row as rebuilt) must all agree.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from uuid import UUID, uuid4

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from service.application import Tracker
from service.readmodel.runner import ReadModelRunner
from service.readmodel.view import ProgramQuery, ReadModelRecorder
from tests.helpers import (
    LATER,
    REFERRED_ON,
    admitted,
    plus,
    referred,
    repeat_approved,
    retraction,
    send,
    send_batch,
)
from tests.readmodel_rows import project_in, read_model_rows

CODE = "repeat_program_without_review"


def flagged(tracker: Tracker, program_id: UUID, known_at: datetime | None = None) -> bool:
    findings = tracker.view(program_id, known_at).assess(LATER).findings
    return any(f.code == CODE for f in findings)


def listed(view: ReadModelRecorder, known_at: datetime) -> set[UUID]:
    page = view.programs(ProgramQuery(as_of=LATER, known_at=known_at, finding=CODE, limit=500))
    return {UUID(p.program_id) for p in page.programs}


def test_the_referral_that_occurred_first_is_the_first_program_whatever_the_record_order(
    tracker: Tracker,
) -> None:
    # Recorded first but referred a day later: the repeat is the one recorded first.
    later, earlier = uuid4(), uuid4()
    for program_id, on in ((later, plus(REFERRED_ON, 1)), (earlier, REFERRED_ON)):
        send(tracker, program_id, referred(on, referral_id="PR-SHARED"))
        send(tracker, program_id, admitted(plus(on, 7)))
    assert flagged(tracker, later)
    assert not flagged(tracker, earlier)


def test_a_retracted_referral_no_longer_makes_the_other_program_a_repeat(
    tracker: Tracker, runner: ReadModelRunner, view: ReadModelRecorder
) -> None:
    first, second = uuid4(), uuid4()
    first_referral = referred(REFERRED_ON, referral_id="PR-SHARED")
    send(tracker, first, first_referral)
    send(tracker, first, admitted(plus(REFERRED_ON, 7)))
    send(tracker, second, referred(plus(REFERRED_ON, 2), referral_id="PR-SHARED"))
    send(tracker, second, admitted(plus(REFERRED_ON, 9)))
    before = datetime.now(UTC)
    runner.catch_up()
    assert flagged(tracker, second) and listed(view, before) == {second}

    send(tracker, first, retraction(plus(REFERRED_ON, 20), first_referral))
    runner.catch_up()
    now = datetime.now(UTC)
    assert not flagged(tracker, second)
    assert listed(view, now) == set()
    # What was known before the retraction still reads as it was.
    assert flagged(tracker, second, before)
    assert listed(view, before) == {second}


def test_a_referral_reposted_with_another_id_leaves_the_first_one(
    tracker: Tracker, runner: ReadModelRunner, view: ReadModelRecorder
) -> None:
    first, second = uuid4(), uuid4()
    wrong = referred(REFERRED_ON, referral_id="PR-SHARED")
    send(tracker, first, wrong)
    send(tracker, second, referred(plus(REFERRED_ON, 1), referral_id="PR-SHARED"))
    send(tracker, second, admitted(plus(REFERRED_ON, 8)))
    send(tracker, first, retraction(plus(REFERRED_ON, 3), wrong))
    send(tracker, first, referred(REFERRED_ON, referral_id="PR-OTHER"))
    send(tracker, first, admitted(plus(REFERRED_ON, 7)))
    runner.catch_up()
    assert not flagged(tracker, first)
    assert not flagged(tracker, second)
    assert listed(view, datetime.now(UTC)) == set()


# ---- the property: any record order, retractions, re-posts and approvals ----


@dataclass
class Planned:
    """One program of a generated scenario, and what the model says of it."""

    program_id: UUID
    key: str
    referred_on: date
    approval: int | None  # days from admission (negative: before), or None
    repost_key: str | None  # after a retraction of the first referral, if any
    retracted: bool
    events: list[dict[str, object]] = field(default_factory=list)

    @property
    def admitted_on(self) -> date:
        return plus(self.referred_on, 7)


def plans() -> st.SearchStrategy[list[Planned]]:
    one = st.builds(
        lambda key, day, approval, retracted, repost: Planned(
            uuid4(), key, plus(REFERRED_ON, day), approval, repost, retracted
        ),
        st.sampled_from(["PR-A", "PR-B"]),
        st.integers(0, 3),
        st.one_of(st.none(), st.integers(-2, 2)),
        st.booleans(),
        st.one_of(st.none(), st.sampled_from(["PR-A", "PR-B"])),
    )
    return st.lists(one, min_size=2, max_size=4)


def expected_flagged(programs: list[Planned], record_order: list[int]) -> set[UUID]:
    """The definition: standing referral first in (business date, record order,
    program id) on its id; a repeat unless approved on or before admission."""
    standing: dict[UUID, tuple[str, tuple[date, int, str]]] = {}
    for position, index in enumerate(record_order):
        p = programs[index]
        if not p.retracted:
            standing[p.program_id] = (p.key, (p.referred_on, position, str(p.program_id)))
    for position, p in enumerate(programs, start=len(programs)):
        if p.retracted and p.repost_key is not None:
            standing[p.program_id] = (p.repost_key, (p.referred_on, position, str(p.program_id)))
    result: set[UUID] = set()
    for p in programs:
        if p.program_id not in standing:
            continue
        key, order = standing[p.program_id]
        before = [o for k, o in standing.values() if k == key and o < order]
        approved = p.approval is not None and p.approval <= 0
        if before and not approved:
            result.add(p.program_id)
    return result


@settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck))
@given(programs=plans(), data=st.data())
def test_exactly_the_repeats_by_business_time_are_flagged_whatever_the_record_order(
    tracker: Tracker, runner: ReadModelRunner, view: ReadModelRecorder, programs, data
) -> None:
    order = data.draw(st.permutations(range(len(programs))))
    nonce = uuid4().hex[:8]  # examples share one store: referral ids of their own
    for p in programs:
        p.key = f"{p.key}-{nonce}"
        p.repost_key = p.repost_key and f"{p.repost_key}-{nonce}"
    first_referrals: dict[UUID, dict[str, object]] = {}
    for index in order:  # the referrals, in a drawn record order
        p = programs[index]
        first_referrals[p.program_id] = referred(p.referred_on, referral_id=p.key)
        send(tracker, p.program_id, first_referrals[p.program_id])
    # Programs never retracted may be admitted before the others' retractions: these
    # then re-judge them, in the read model's system time (and across partitions).
    early = data.draw(st.booleans())
    admitted_early = {p.program_id for p in programs if early and not p.retracted}
    for p in programs:
        if p.program_id in admitted_early:
            send(tracker, p.program_id, admitted(p.admitted_on))
    for p in programs:  # each re-post (after its retraction) comes after all of them
        if p.retracted:
            target = first_referrals[p.program_id]
            send(tracker, p.program_id, retraction(p.referred_on, target))
            if p.repost_key is not None:
                send(tracker, p.program_id, referred(p.referred_on, referral_id=p.repost_key))
    for p in programs:
        if p.retracted and p.repost_key is None:
            continue  # withdrawn: nothing more can be said of it
        if p.program_id not in admitted_early:
            send(tracker, p.program_id, admitted(p.admitted_on))
        if p.approval is not None:
            send(tracker, p.program_id, repeat_approved(plus(p.admitted_on, p.approval)))
    runner.catch_up()
    now = datetime.now(UTC)

    expected = expected_flagged(programs, list(order))
    ours = {p.program_id for p in programs}
    assert {pid for pid in ours if flagged(tracker, pid)} == expected
    assert listed(view, now) & ours == expected

    view.reset(runner.name)  # a rebuild answers the same
    runner.projection.forget()
    runner.catch_up()
    assert listed(view, now) & ours == expected
    rebuilt = read_model_rows(view)

    # So does the read model projected in partitions, row for row, whichever
    # partitions the programs on one referral id fall in.
    project_in(tracker, view, 2)
    assert listed(view, now) & ours == expected
    assert read_model_rows(view) == rebuilt
    project_in(tracker, view, 1)  # as the other examples expect it
    runner.projection.forget()


def test_two_programs_on_one_referral_in_one_batch_see_each_other(tracker: Tracker) -> None:
    # Neither referral is in the index while the batch is judged: the batch's own.
    first, second = uuid4(), uuid4()
    receipts = send_batch(
        tracker,
        [
            (first, referred(REFERRED_ON, referral_id="PR-BATCH")),
            (first, admitted(plus(REFERRED_ON, 7))),
            (second, referred(plus(REFERRED_ON, 1), referral_id="PR-BATCH")),
            (second, admitted(plus(REFERRED_ON, 8))),
        ],
    )
    codes = [{f["code"] for f in r.body["findings"]} for r in receipts]
    assert CODE not in codes[1]
    assert CODE in codes[3]
    assert flagged(tracker, second) and not flagged(tracker, first)
