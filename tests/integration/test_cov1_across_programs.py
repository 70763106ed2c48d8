"""COV-1 across programs (docs/domain.md R5, R15, R16): one program per client's injury.

A program is a repeat of an earlier one of the same worker that shares its
physician referral id or its claim number (R16); identifiers are compared
trimmed, and a blank one is none (R15). The programs are those whose standing
referral (not retracted, as known at `known_at`) says so; the first is the one
whose referral occurred first in business time (ties: record time, then
program id); every later one is a repeat, flagged (dated the later of its
admission and its referral) until a `RepeatProgramApproved` on or before that
day. The expected answers come from a small model of that definition, never
from the tracker; `/compliance` (the tracker's view) and the regulator's read
model (live, rebuilt, and projected in two partitions, row for row as rebuilt)
must all agree.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from uuid import UUID, uuid4

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from projections.model import Finding
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


# ---- R15, R16: the same worker's injury, identifiers trimmed, blank is none ----


def repeats(tracker: Tracker, program_id: UUID) -> list[Finding]:
    return [f for f in tracker.view(program_id).assess(LATER).findings if f.code == CODE]


def refer_and_admit(
    tracker: Tracker, on: date, *, admitted_on: date | None = None, **who: str
) -> UUID:
    program_id = uuid4()
    send(tracker, program_id, referred(on, **who))
    send(tracker, program_id, admitted(admitted_on or plus(on, 7)))
    return program_id


def test_programs_of_different_workers_on_one_referral_and_claim_are_not_repeats(
    tracker: Tracker, runner: ReadModelRunner, view: ReadModelRecorder
) -> None:
    first = refer_and_admit(
        tracker, REFERRED_ON, referral_id="PR-TWO", worker_id="W-1", claim_number="WC-1"
    )
    second = refer_and_admit(
        tracker, plus(REFERRED_ON, 1), referral_id="PR-TWO", worker_id="W-2", claim_number="WC-1"
    )
    runner.catch_up()
    assert repeats(tracker, first) == [] and repeats(tracker, second) == []
    assert listed(view, datetime.now(UTC)) == set()


def test_the_same_worker_sharing_only_the_claim_number_is_a_repeat(
    tracker: Tracker, runner: ReadModelRunner, view: ReadModelRecorder
) -> None:
    first = refer_and_admit(
        tracker, REFERRED_ON, referral_id="PR-ONE", worker_id="W-1", claim_number="WC-9"
    )
    second = uuid4()
    send(
        tracker,
        second,
        referred(plus(REFERRED_ON, 1), referral_id="PR-TWO", worker_id="W-1", claim_number="WC-9"),
    )
    receipt = send(tracker, second, admitted(plus(REFERRED_ON, 8))).body
    runner.catch_up()
    (finding,) = repeats(tracker, second)
    assert (finding.clause, finding.severity, finding.occurred_on) == (
        "COV-1",
        "violation",
        plus(REFERRED_ON, 8),
    )
    # The message names what the programs share: the claim number, not a referral id.
    assert "claim WC-9" in finding.message and str(first) in finding.message
    assert "PR-ONE" not in finding.message and "PR-TWO" not in finding.message
    assert [f["code"] for f in receipt["findings"] if f["clause"] == "COV-1"] == [CODE]
    assert repeats(tracker, first) == []
    assert listed(view, datetime.now(UTC)) == {second}


def test_a_shared_referral_id_is_named_in_the_message(tracker: Tracker) -> None:
    refer_and_admit(tracker, REFERRED_ON, referral_id="PR-NAMED", worker_id="W-1", claim_number="A")
    second = refer_and_admit(
        tracker, plus(REFERRED_ON, 1), referral_id="PR-NAMED", worker_id="W-1", claim_number="B"
    )
    (finding,) = repeats(tracker, second)
    assert "physician referral PR-NAMED" in finding.message
    assert "claim" not in finding.message


@pytest.mark.parametrize(
    ("referral_ids", "claims"),
    [((" ", " "), ("WC-1", "WC-2")), (("   ", "   "), ("  ", "  "))],
    ids=["blank-referral-id", "blank-referral-id-and-claim"],
)
def test_a_blank_referral_id_or_claim_number_makes_no_repeat(
    tracker: Tracker, referral_ids: tuple[str, str], claims: tuple[str, str]
) -> None:
    # R15: an empty value is no value, even of one worker.
    first = refer_and_admit(
        tracker, REFERRED_ON, referral_id=referral_ids[0], worker_id="W-1", claim_number=claims[0]
    )
    second = refer_and_admit(
        tracker,
        plus(REFERRED_ON, 1),
        referral_id=referral_ids[1],
        worker_id="W-1",
        claim_number=claims[1],
    )
    assert repeats(tracker, first) == [] and repeats(tracker, second) == []


def test_a_blank_referral_id_of_unrelated_workers_makes_no_repeat(tracker: Tracker) -> None:
    first = refer_and_admit(
        tracker, REFERRED_ON, referral_id=" ", worker_id="W-1", claim_number="WC-1"
    )
    second = refer_and_admit(
        tracker, plus(REFERRED_ON, 1), referral_id=" ", worker_id="W-2", claim_number="WC-2"
    )
    assert repeats(tracker, first) == [] and repeats(tracker, second) == []


@pytest.mark.parametrize(
    ("first", "second"),
    [
        (
            {"worker_id": "W-1", "referral_id": "PR-T", "claim_number": "A"},
            {"worker_id": " W-1 ", "referral_id": " PR-T  ", "claim_number": "B"},
        ),
        (
            {"worker_id": "W-1 ", "referral_id": "PR-1", "claim_number": " WC-T"},
            {"worker_id": "W-1", "referral_id": "PR-2", "claim_number": "WC-T "},
        ),
    ],
    ids=["referral-id", "claim-number"],
)
def test_identifiers_are_compared_trimmed(
    tracker: Tracker, first: dict[str, str], second: dict[str, str]
) -> None:
    earlier = refer_and_admit(tracker, REFERRED_ON, **first)
    later = refer_and_admit(tracker, plus(REFERRED_ON, 1), **second)
    assert repeats(tracker, earlier) == []
    assert [f.occurred_on for f in repeats(tracker, later)] == [plus(REFERRED_ON, 8)]


def test_a_repeat_referred_after_its_admission_is_dated_its_referral(tracker: Tracker) -> None:
    refer_and_admit(tracker, REFERRED_ON, referral_id="PR-LATE", worker_id="W-1")
    referral_on = plus(REFERRED_ON, 10)
    late = refer_and_admit(
        tracker,
        referral_on,
        admitted_on=plus(REFERRED_ON, 5),
        referral_id="PR-LATE",
        worker_id="W-1",
    )
    (finding,) = repeats(tracker, late)
    assert (finding.clause, finding.occurred_on) == ("COV-1", referral_on)
    assert str(referral_on) in finding.message
    # A review on or before that day clears it (R1), even one after the admission.
    send(tracker, late, repeat_approved(plus(REFERRED_ON, 9)))
    assert repeats(tracker, late) == []


# ---- the property: any record order, retractions, re-posts and approvals ----


@dataclass(frozen=True)
class Injury:
    """What a referral says of the client's injury, as sent (untrimmed, perhaps blank)."""

    worker: str
    key: str  # the physician referral id
    claim: str


@dataclass
class Planned:
    """One program of a generated scenario, and what the model says of it."""

    program_id: UUID
    injury: Injury
    referred_on: date
    approval: int | None  # days from admission (negative: before), or None
    repost: Injury | None  # after a retraction of the first referral, if any
    retracted: bool
    events: list[dict[str, object]] = field(default_factory=list)

    @property
    def admitted_on(self) -> date:
        return plus(self.referred_on, 7)


# Spellings of two workers, two referral ids and two claims, padded or blank (R15).
injuries = st.builds(
    Injury,
    st.sampled_from(["W-1", " W-1 ", "W-2"]),
    st.sampled_from(["PR-A", " PR-A", "PR-B", " "]),
    st.sampled_from(["C-1", "C-1  ", "C-2", " "]),
)


def plans() -> st.SearchStrategy[list[Planned]]:
    one = st.builds(
        lambda injury, day, approval, retracted, repost: Planned(
            uuid4(), injury, plus(REFERRED_ON, day), approval, repost, retracted
        ),
        injuries,
        st.integers(0, 3),
        st.one_of(st.none(), st.integers(-2, 2)),
        st.booleans(),
        st.one_of(st.none(), injuries),
    )
    return st.lists(one, min_size=2, max_size=4)


def value(text: str) -> str | None:
    """R15: surrounding whitespace is not part of the value; empty is no value."""
    return text.strip() or None


def same_injury(a: Injury, b: Injury) -> bool:
    """R16: the same worker, sharing the referral id or the claim number."""
    if value(a.worker) is None or value(a.worker) != value(b.worker):
        return False
    shares_key = value(a.key) is not None and value(a.key) == value(b.key)
    shares_claim = value(a.claim) is not None and value(a.claim) == value(b.claim)
    return shares_key or shares_claim


def expected_flagged(programs: list[Planned], record_order: list[int]) -> set[UUID]:
    """The definition: a program is a repeat when a standing referral of the same
    injury comes first in (business date, record order, program id); flagged
    unless approved on or before the later of admission and referral."""
    standing: dict[UUID, tuple[Injury, tuple[date, int, str]]] = {}
    for position, index in enumerate(record_order):
        p = programs[index]
        if not p.retracted:
            standing[p.program_id] = (p.injury, (p.referred_on, position, str(p.program_id)))
    for position, p in enumerate(programs, start=len(programs)):
        if p.retracted and p.repost is not None:
            standing[p.program_id] = (p.repost, (p.referred_on, position, str(p.program_id)))
    result: set[UUID] = set()
    for p in programs:
        if p.program_id not in standing:
            continue
        injury, order = standing[p.program_id]
        before = [o for i, o in standing.values() if same_injury(injury, i) and o < order]
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
    nonce = uuid4().hex[:8]  # examples share one store: workers of their own

    def own(injury: Injury) -> Injury:
        core = injury.worker.strip()
        return replace(injury, worker=injury.worker.replace(core, f"{core}-{nonce}"))

    def referral_of(injury: Injury, on: date) -> dict[str, object]:
        return referred(
            on, referral_id=injury.key, worker_id=injury.worker, claim_number=injury.claim
        )

    for p in programs:
        p.injury = own(p.injury)
        p.repost = p.repost and own(p.repost)
    first_referrals: dict[UUID, dict[str, object]] = {}
    for index in order:  # the referrals, in a drawn record order
        p = programs[index]
        first_referrals[p.program_id] = referral_of(p.injury, p.referred_on)
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
            if p.repost is not None:
                send(tracker, p.program_id, referral_of(p.repost, p.referred_on))
    for p in programs:
        if p.retracted and p.repost is None:
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
