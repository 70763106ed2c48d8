"""R13 (docs/domain.md, revision 3): a receipt lists what its event added, everywhere.

"A receipt's `findings` plus its `others` equal the difference of every affected
program's findings before and after the event, compared with severity." The
property is checked for every event of a small generated group of one worker's
programs (2 or 3, on shared or separate physician referral ids and claim numbers,
so that COV-1 repeats come and go between them, R16) and perhaps a program of
another worker on the same ids. A program whose standing referral names another
worker than the event's program (after the event) never gains a finding from it
and is never in its `others`; a referral posted again may name that other worker
(the first named the wrong client), and then the programs change sides.

The expected answer is the definition, read through the public read path
(`view(...).assess(on).figures()["findings"]`, what GET .../compliance answers):
each program's findings just before and just after the event, the set difference
by (code, clause, severity, occurred_on). Findings that disappear are no part of
a receipt ("findings are those the event added"). The dates come from the bodies
the test sent, never from the tracker:

- the event's program is judged at R11's date: the later of the event's
  `occurred_on` and the latest `occurred_on` of a fact standing in the program
  before it (retracted facts and retractions do not count, R14);
- another program is judged "at its own receipt date" (service/application.py,
  `Tracker._others`; docs/domain.md leaves the date unsaid): the later of the
  `occurred_on` of the latest event recorded in it (of any type) and the latest
  `occurred_on` of a standing fact in it. Two other readings of "its own date"
  (its standing facts' latest date alone; the event's date against them, R11's
  words applied to the other program) must give the same difference: what a
  referral or a retraction adds elsewhere is a COV-1 finding, dated a standing
  fact (admission or referral) of that program.

`others` lists each other program that gained a finding, once, with no empty
entry, and is left out when there is none (docs/reference/http.md, Receipt).
Events are sent one by one or as batches (`send_batch`); a batch's events are
read before and after through `known_at` (the instant just before and at each
event's `recorded_at`). Examples share one store: each draws fresh program ids,
its own worker ids and its own referral ids and claim numbers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from domain.errors import ProgramNotFound
from service.application import Tracker
from tests.helpers import (
    REFERRED_ON,
    Body,
    admitted,
    plus,
    referred,
    repeat_approved,
    retraction,
    send,
    send_batch,
    session,
)

Key = tuple[str, str, str, str]  # (code, clause, severity, occurred_on)


def key(finding: dict[str, Any]) -> Key:
    return (finding["code"], finding["clause"], finding["severity"], finding["occurred_on"])


def added(before: list[dict[str, Any]], after: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The definition (R13): the findings after that were not before, with severity."""
    old = {key(f) for f in before}
    return sorted((f for f in after if key(f) not in old), key=key)


def on(body: Body) -> date:
    return date.fromisoformat(body["occurred_on"])


def standing_dates(bodies: list[Body]) -> list[date]:
    """The dates of the facts still standing among `bodies` (R14: not retracted, and no
    retraction itself)."""
    retracted = {b["data"]["target_event_id"] for b in bodies if b["type"] == "EntryRetracted"}
    return [
        on(b) for b in bodies if b["type"] != "EntryRetracted" and b["event_id"] not in retracted
    ]


def receipt_on(bodies: list[Body], body: Body) -> date:
    """R11, R14: the date the receipt of `body`, sent after `bodies`, is judged at."""
    return max([on(body), *standing_dates(bodies)])


def worker_of(bodies: list[Body]) -> str | None:
    """The worker of the program's standing referral (trimmed, R15); None if withdrawn."""
    retracted = {b["data"]["target_event_id"] for b in bodies if b["type"] == "EntryRetracted"}
    standing = [
        b for b in bodies if b["type"] == "ProgramReferred" and b["event_id"] not in retracted
    ]
    return str(standing[-1]["data"]["worker"]["worker_id"]).strip() if standing else None


def others_on(bodies: list[Body]) -> date:
    """Another program's own receipt date: the later of its latest recorded event's date
    and its standing facts' latest date."""
    return max([on(bodies[-1]), *standing_dates(bodies)])


def other_readings(bodies: list[Body], body: Body) -> set[date]:
    """The other readings of another program's own date (see the module docstring)."""
    standing = standing_dates(bodies)
    return {d for d in (max(standing, default=None), max([on(body), *standing])) if d}


# ---- what is generated ----


@dataclass
class Program:
    """One program of the example: its id and the events the test sent it, in order."""

    program_id: UUID
    events: list[Body]  # in this program's record order, all of them
    sent: list[Body] = field(default_factory=list)


def referral_body(day: date, worker: str, referral_id: str, claim: str) -> Body:
    body = referred(day, referral_id=referral_id)
    body["data"]["worker"]["worker_id"] = worker
    body["data"]["claim"]["claim_number"] = claim
    return body


def group_program(data: st.DataObject, nonce: str, index: int, stranger: bool) -> Program:
    """A program of the group's worker: a referral on drawn ids and date, perhaps an
    admission, sessions, a repeat approval (perhaps retracted), and perhaps a retraction
    of the referral and a referral posted again on other ids or another date (or, when
    there is one, as the other worker's: the referral named the wrong client)."""

    def spelled(choice: str, prefix: str) -> str:
        core = choice.strip()
        return choice.replace(core, f"{prefix}-{nonce}-{core}") if core else choice

    def ids() -> tuple[str, str]:
        # Shared, padded (R15) or blank spellings: COV-1 links the programs or not.
        referral_id = data.draw(st.sampled_from(["A", " A ", "B", " "]))
        claim = data.draw(st.sampled_from(["1", "1 ", "2"]))
        return spelled(referral_id, "PR"), spelled(claim, "C")

    # Later programs tend to be dated earlier: recorded after an admitted one and
    # dated before it, a referral makes it a repeat (COV-1), what `others` is about.
    referral_on = plus(REFERRED_ON, 6 - 2 * index + data.draw(st.integers(0, 3)))
    first = referral_body(referral_on, f"W-{nonce}", *ids())
    rest: list[Body] = []
    admission = data.draw(st.sampled_from([*range(-1, 8), None]))
    start = plus(referral_on, admission if admission is not None else 0)
    if admission is not None:
        rest.append(admitted(start))
    for _ in range(data.draw(st.integers(0, 2))):
        day = plus(start, data.draw(st.integers(0, 9)))
        rest.append(session(day, data.draw(st.sampled_from([1.5, 6, 9]))))
    approval = data.draw(st.sampled_from([None] * 10 + [*range(-2, 3)]))
    later: list[tuple[Body, Body]] = []  # (an event, one that must come after it)
    if approval is not None:
        approved = repeat_approved(plus(start, approval))
        rest.append(approved)
        if data.draw(st.booleans()):
            undo = retraction(plus(referral_on, data.draw(st.integers(0, 30))), approved)
            later.append((approved, undo))
    if data.draw(st.integers(0, 3)) == 0:
        # Retractions dated late: R14 says they move no receipt date.
        undo = retraction(plus(referral_on, data.draw(st.integers(0, 30))), first)
        rest.append(undo)
        if data.draw(st.booleans()):
            who = data.draw(st.sampled_from(["W", "W", "W", "V"] if stranger else ["W"]))
            again_on = plus(REFERRED_ON, data.draw(st.integers(0, 8)))
            again = referral_body(again_on, f"{who}-{nonce}", *ids())
            later.append((undo, again))
    order = data.draw(st.permutations(rest))
    if admission is not None and not data.draw(st.booleans()):  # admitted before the rest
        order.remove(rest[0])
        order.insert(0, rest[0])
    for before, after in later:
        after_index = order.index(before) + 1
        order.insert(data.draw(st.integers(after_index, len(order))), after)
    return Program(uuid4(), [first, *order])


def stranger(data: st.DataObject, nonce: str) -> Program:
    """Another worker's program on the group's first ids (referral id A, claim 1),
    perhaps referred before all of them: never a repeat of theirs, nor they of it."""
    day = plus(REFERRED_ON, data.draw(st.integers(-1, 3)))
    events = [
        referral_body(day, f"V-{nonce}", f"PR-{nonce}-A", f"C-{nonce}-1"),
        admitted(plus(day, 7)),
    ]
    return Program(uuid4(), events)


# ---- reading: the public read path ----


def read(
    tracker: Tracker, program: Program, dates: set[date], known_at: datetime | None, *, sent: bool
) -> dict[date, list[dict[str, Any]]]:
    """The program's findings at each of `dates`, as GET .../compliance answers them
    (known at `known_at`, default now); none for a program not recorded yet."""
    try:
        view = tracker.view(program.program_id, known_at)
    except ProgramNotFound:
        assert not sent, f"{program.program_id} was sent events but is not known"
        return {d: [] for d in dates}
    return {d: list(view.assess(d).figures()["findings"]) for d in dates}


def dates_for(programs: list[Program], target: Program, body: Body) -> dict[UUID, set[date]]:
    """Every date each program is read at, for the receipt of `body` sent to `target`."""
    wanted: dict[UUID, set[date]] = {target.program_id: {receipt_on(target.sent, body)}}
    for p in programs:
        if p is not target and p.sent:
            wanted[p.program_id] = {others_on(p.sent), *other_readings(p.sent, body)}
    return wanted


def read_all(
    tracker: Tracker,
    programs: list[Program],
    wanted: dict[UUID, set[date]],
    known_at: datetime | None,
    target: Program,
    *,
    done: bool,
) -> dict[UUID, dict[date, list[dict[str, Any]]]]:
    """Every program's findings at its dates, before (`done` False) or after the event
    sent to `target`."""
    return {
        p.program_id: read(
            tracker, p, wanted[p.program_id], known_at, sent=bool(p.sent) or (done and p is target)
        )
        for p in programs
        if p.program_id in wanted
    }


def check(
    programs: list[Program],
    target: Program,
    body: Body,
    receipt: dict[str, Any],
    before: dict[UUID, dict[date, list[dict[str, Any]]]],
    after: dict[UUID, dict[date, list[dict[str, Any]]]],
) -> None:
    """The receipt of `body` (sent to `target`) against the definition."""
    what = f"{body['type']} on {body['occurred_on']} to {target.program_id}"
    judged = receipt_on(target.sent, body)
    mine = target.program_id
    worker = worker_of([*target.sent, body])  # the event's program's, after it
    assert sorted(receipt["findings"], key=key) == added(
        before[mine][judged], after[mine][judged]
    ), f"the receipt's findings for {what}"
    expected: dict[str, list[dict[str, Any]]] = {}
    for p in programs:
        if p is target or not p.sent:
            continue
        at = others_on(p.sent)
        gained = added(before[p.program_id][at], after[p.program_id][at])
        for reading in other_readings(p.sent, body):
            assert added(before[p.program_id][reading], after[p.program_id][reading]) == gained, (
                f"{p.program_id}'s gain by {what} depends on the reading of its date: "
                f"{at} or {reading}"
            )
        if worker_of(p.sent) != worker:
            assert gained == [], f"{what} changed another worker's program {p.program_id} (R16)"
        if gained:
            expected[str(p.program_id)] = gained
    others = receipt.get("others")
    assert others is None or others, f"an empty `others` for {what}: it is left out"
    listed = [entry["program_id"] for entry in others or []]
    assert len(listed) == len(set(listed)), f"a program twice in `others` for {what}"
    assert all(entry["findings"] for entry in others or []), f"an empty entry for {what}"
    strangers = {str(p.program_id) for p in programs if p.sent and worker_of(p.sent) != worker}
    assert not strangers & set(listed), f"another worker's program in `others` for {what}"
    got = {entry["program_id"]: sorted(entry["findings"], key=key) for entry in others or []}
    assert got == expected, f"the receipt's others for {what}"


@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_a_receipt_lists_what_its_event_added_to_every_program(
    tracker: Tracker, data: st.DataObject
) -> None:
    nonce = uuid4().hex[:8]  # examples share one store: workers and ids of their own
    count = data.draw(st.integers(2, 3), label="programs of the worker")
    other = data.draw(st.booleans(), label="another worker on the same ids")
    programs = [group_program(data, nonce, i, other) for i in range(count)]
    if other:
        programs.append(stranger(data, nonce))
    # The record order: each program's events in its own order, interleaved by drawn
    # record times; later programs tend to start later (and are dated earlier).
    timed: list[tuple[int, int, Program, Body]] = []
    for i, p in enumerate(programs):
        moment = 8 * i + data.draw(st.integers(0, 20), label="first record time")
        for body in p.events:
            timed.append((moment, i, p, body))
            moment += data.draw(st.integers(1, 8), label="record time gap")
    items = [(p, body) for _, _, p, body in sorted(timed, key=lambda t: t[:2])]

    while items:
        size = min(len(items), data.draw(st.sampled_from([1, 1, 2, 3]), label="batch size"))
        chunk, items = items[:size], items[size:]
        if size == 1:
            ((target, body),) = chunk
            wanted = dates_for(programs, target, body)
            before = read_all(tracker, programs, wanted, None, target, done=False)
            receipt = send(tracker, target.program_id, body)
            after = read_all(tracker, programs, wanted, None, target, done=True)
            assert receipt.status == 201
            check(programs, target, body, receipt.body, before, after)
            target.sent.append(body)
            continue
        receipts = send_batch(tracker, [(p.program_id, body) for p, body in chunk])
        instants = [datetime.fromisoformat(r.body["recorded_at"]) for r in receipts]
        # Each event of the batch is read through known_at: just before and at its
        # record time. Record times of one batch are distinct in practice.
        assume(all(a < b for a, b in zip(instants, instants[1:], strict=False)))
        for (target, body), receipt, instant in zip(chunk, receipts, instants, strict=True):
            wanted = dates_for(programs, target, body)
            just_before = instant - timedelta(microseconds=1)
            before = read_all(tracker, programs, wanted, just_before, target, done=False)
            after = read_all(tracker, programs, wanted, instant, target, done=True)
            assert receipt.status == 201
            check(programs, target, body, receipt.body, before, after)
            target.sent.append(body)
