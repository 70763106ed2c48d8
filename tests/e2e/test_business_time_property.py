"""R12 as a property, over HTTP on both stores (docs/domain.md, revision 3).

"No program appears in any list, nor answers, at an as_of before its referral."

A program exists in business time from its standing referral's `occurred_on`
("Business time starts at the referral"): the referral as known at `known_at`
that no retraction recorded by then retracted. A retraction counts from the
instant it is recorded, whatever its own `occurred_on` ("Two time axes"), so a
referral retracted and posted again on another date moves the program's first
date to the new one; a program whose every referral is retracted is withdrawn
and has no referral date: it is answered and listed (`withdrawn`) at any date,
and owes nothing (docs/due-dates.md). A `known_at` before a program's first
event answers 404 and lists nothing of it.

Per example: a few programs of one fresh provider, each with a drawn referral
date, some retracted and posted again at another date or retracted for good,
some admitted (before or after the referral: REF-2 is a finding, not a refusal)
with a session or two. At drawn `as_of` dates around those dates, and at now
and one drawn `known_at` instant, the expected answer of every list and read is
worked out here from the bodies posted and their receipts' `recorded_at`:

- before the standing referral (or not known yet): in none of the lists
  (GET /v1/programs, /ui/programs, /ui/programs.csv, GET /v1/worklist and its
  CSV, /ui/worklist), and compliance, billing and due answer 404 problems
  ("no referral on or before <as_of>"), as the program page and its report
  answer 404;
- on or after it: the reads answer 200, the regulator's list (and its page and
  CSV) holds it with its status at that date, and the worklist (window 3660
  days) holds it exactly when it is admitted by that date: with no initial
  evaluation nothing is due before admission, and from admission the
  coverage end (COV-2) is due until discharge (docs/due-dates.md);
- withdrawn: the reads answer 200 and the regulator's list holds it as
  `withdrawn` at any date; the worklist never does.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any
from uuid import uuid4

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, event, given, note, settings
from hypothesis import strategies as st

from api.app import create_app
from service.application import Tracker
from tests.helpers import Body, admitted, plus, referred, retraction, session

PROBLEM = "application/problem+json"
FIRST_DAY = date(2026, 3, 2)  # referral dates are drawn from the 3 weeks after it
READS = ("compliance", "billing", "due")
WITHIN = 3660  # the worklist's widest window: every obligation from as_of on


@pytest.fixture
def client(tracker: Tracker) -> Iterator[TestClient]:
    # The app's lifespan runs the read model's projection; the lists wait for it.
    with TestClient(create_app(tracker)) as test_client:
        yield test_client


@dataclass(frozen=True)
class Plan:
    """One program's history, as drawn: what it is sent, in three phases."""

    referred_on: date
    admitted_on: date | None
    sessions: tuple[date, ...]
    fate: str  # "stands", "reposted" (retracted, then referred again) or "withdrawn"
    retracted_on: date  # the retraction's own occurred_on (it counts from its recording)
    reposted_on: date


@dataclass(frozen=True)
class Scenario:
    plans: tuple[Plan, ...]
    as_of: tuple[date, ...]
    known_at: int  # an index into the posts (-1: an instant before the first one)


@st.composite
def plans(draw: st.DrawFn) -> Plan:
    referred_on = plus(FIRST_DAY, draw(st.integers(0, 20)))
    admitted_on = draw(st.none() | st.integers(-5, 10).map(lambda d: plus(referred_on, d)))
    sessions: tuple[date, ...] = ()
    if admitted_on is not None:
        offsets = draw(st.lists(st.integers(0, 6), max_size=2, unique=True))
        sessions = tuple(plus(admitted_on, d) for d in sorted(offsets))
    fate = draw(st.sampled_from(["stands", "reposted", "withdrawn"]))
    moved = draw(st.sampled_from([-1, 1])) * draw(st.integers(1, 8))
    return Plan(
        referred_on=referred_on,
        admitted_on=admitted_on,
        sessions=sessions,
        fate=fate,
        retracted_on=plus(referred_on, draw(st.integers(-3, 12))),
        reposted_on=plus(referred_on, moved),
    )


def posts_of(plan: Plan) -> int:
    return (
        1
        + (plan.admitted_on is not None)
        + len(plan.sessions)
        + (plan.fate != "stands")
        + (plan.fate == "reposted")
    )


@st.composite
def scenarios(draw: st.DrawFn) -> Scenario:
    drawn = tuple(draw(st.lists(plans(), min_size=2, max_size=3)))
    around: set[date] = set()
    for plan in drawn:
        for day in (plan.referred_on, plan.reposted_on if plan.fate == "reposted" else None):
            if day is not None:
                around |= {plus(day, -1), day, plus(day, 1)}
        if plan.admitted_on is not None:
            around.add(plan.admitted_on)
    as_of = draw(st.lists(st.sampled_from(sorted(around)), min_size=3, max_size=5, unique=True))
    known_at = draw(st.integers(-1, sum(posts_of(p) for p in drawn) - 1))
    return Scenario(drawn, tuple(sorted(as_of)), known_at)


@dataclass(frozen=True)
class Posted:
    program_id: str
    body: Body
    recorded_at: datetime


def post(client: TestClient, program_id: str, body: Body) -> Posted:
    response = client.post(f"/v1/programs/{program_id}/events", json=body)
    assert response.status_code == 201, response.text
    return Posted(program_id, body, datetime.fromisoformat(response.json()["recorded_at"]))


def send(client: TestClient, clinic: str, ids: list[str], drawn: tuple[Plan, ...]) -> list[Posted]:
    """Every program's referral, admission and sessions; then the retractions; then
    the referrals posted again. The posts, in record order."""
    posted: list[Posted] = []
    firsts: dict[str, Body] = {}
    for pid, plan in zip(ids, drawn, strict=True):
        firsts[pid] = referred(plan.referred_on, provider_id=clinic)
        bodies = [firsts[pid]]
        if plan.admitted_on is not None:
            bodies.append(admitted(plan.admitted_on))
        bodies += [session(day, 4) for day in plan.sessions]
        posted += [post(client, pid, body) for body in bodies]
    for pid, plan in zip(ids, drawn, strict=True):
        if plan.fate != "stands":
            posted.append(post(client, pid, retraction(plan.retracted_on, firsts[pid])))
    for pid, plan in zip(ids, drawn, strict=True):
        if plan.fate == "reposted":
            posted.append(post(client, pid, referred(plan.reposted_on, provider_id=clinic)))
    return posted


@dataclass(frozen=True)
class Known:
    """One program as known at an instant, from the definition: unknown (no event
    recorded yet), withdrawn (no standing referral), or referred on `referred_on`."""

    known: bool
    referred_on: date | None
    admitted_on: date | None

    def exists_on(self, as_of: date) -> bool:
        return self.known and (self.referred_on is None or self.referred_on <= as_of)

    def status(self, as_of: date) -> str:
        if self.referred_on is None:
            return "withdrawn"
        return "admitted" if self.admitted_on and self.admitted_on <= as_of else "referred"

    def owes_on(self, as_of: date) -> bool:
        return self.exists_on(as_of) and self.status(as_of) == "admitted"


def known_at(posted: list[Posted], program_id: str, instant: datetime | None) -> Known:
    mine = [
        p.body
        for p in posted
        if p.program_id == program_id and (instant is None or p.recorded_at <= instant)
    ]
    retracted = {b["data"]["target_event_id"] for b in mine if b["type"] == "EntryRetracted"}
    standing = [
        b for b in mine if b["type"] == "ProgramReferred" and b["event_id"] not in retracted
    ]
    admissions = [b for b in mine if b["type"] == "ProgramAdmitted"]
    return Known(
        known=bool(mine),
        referred_on=date.fromisoformat(standing[-1]["occurred_on"]) if standing else None,
        admitted_on=date.fromisoformat(admissions[0]["occurred_on"]) if admissions else None,
    )


def csv_rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def ok(response: Any) -> Any:
    assert response.status_code == 200, response.text
    return response


def check_lists(
    client: TestClient,
    clinic: str,
    day: date,
    instant: str | None,
    expected: dict[str, Known],
) -> None:
    """Every list, at `day` and `instant` (None: now), holds what the definition says."""
    times = {"as_of": day.isoformat()} | ({"known_at": instant} if instant else {})
    where = (day.isoformat(), instant)
    listed = {pid: k.status(day) for pid, k in expected.items() if k.exists_on(day)}
    owing = {pid for pid, k in expected.items() if k.owes_on(day)}
    ids = set(expected)

    page = ok(client.get("/v1/programs", params={**times, "provider_id": clinic, "limit": 500}))
    programs = page.json()["programs"]
    assert {p["program_id"]: p["status"] for p in programs} == listed, where
    assert {p["as_of"] for p in programs} <= {day.isoformat()}, where
    assert page.json()["next_cursor"] is None

    rows = csv_rows(
        ok(client.get("/ui/programs.csv", params={**times, "provider_id": clinic})).text
    )
    assert {r["program_id"]: r["status"] for r in rows} == listed, where

    html = ok(client.get("/ui/programs", params={**times, "provider_id": clinic, "limit": 500}))
    assert {pid for pid in ids if pid in html.text} == set(listed), where

    work = {**times, "provider_id": clinic, "due_within": WITHIN, "limit": 500}
    items = ok(client.get("/v1/worklist", params=work)).json()["items"]
    assert {i["program_id"] for i in items} == owing, where
    assert {i["as_of"] for i in items} <= {day.isoformat()}, where
    text = ok(client.get("/v1/worklist", params={**work, "format": "csv"})).text
    assert {r["program_id"] for r in csv_rows(text)} == owing, where

    if instant is None:  # the worklist page reads as known now
        params = {"as_of": day.isoformat(), "provider_id": clinic, "due_within": WITHIN}
        worklist_page = ok(client.get("/ui/worklist", params=params)).text
        assert {pid for pid in ids if pid in worklist_page} == owing, where


def check_reads(
    client: TestClient, pid: str, day: date, instant: str | None, expected: Known
) -> None:
    """compliance, billing, due, the program page and its report at `day`."""
    times = {"as_of": day.isoformat()} | ({"known_at": instant} if instant else {})
    where = (pid, day.isoformat(), instant, expected)
    answers = {read: client.get(f"/v1/programs/{pid}/{read}", params=times) for read in READS}
    pages = [client.get(f"/ui/programs/{pid}{page}", params=times) for page in ("", "/report")]
    if expected.exists_on(day):
        for read, answer in answers.items():
            assert answer.status_code == 200, (read, where, answer.text)
        assert answers["compliance"].json()["status"] == expected.status(day), where
        for page in pages:
            assert page.status_code == 200, (where, page.text)
        return
    for read, answer in answers.items():
        assert answer.status_code == 404, (read, where, answer.text)
        assert answer.headers["content-type"].startswith(PROBLEM), (read, where)
        if expected.known:  # a known_at before the first event is 404 for its own reason
            assert f"no referral on or before {day.isoformat()}" in answer.json()["detail"]
    for page in pages:
        assert page.status_code == 404, (where, page.text)
        if expected.known:
            assert f"no referral on or before {day.isoformat()}" in page.text, where


def labels(expected: Known, plan: Plan, day: date) -> list[str]:
    """What this (program, as_of) case exercises, for --hypothesis-show-statistics."""
    if not expected.known:
        return ["not known yet"]
    if expected.referred_on is None:
        return ["withdrawn"]
    found = []
    if day < expected.referred_on:
        found.append("before the standing referral")
        if plan.referred_on <= day:
            found.append("before a referral posted again later, on or after the first one")
        if expected.admitted_on is not None and expected.admitted_on <= day:
            found.append("before the standing referral, admitted already")
    elif day == expected.referred_on:
        found.append("on the standing referral")
    else:
        found.append("after the standing referral")
    if expected.referred_on <= day < plan.referred_on:
        found.append("on or after a referral posted again earlier, before the first one")
    return found


def history_labels(expected: Known, plan: Plan) -> list[str]:
    """Which referral stands, as known at the instant, for the statistics."""
    if not expected.known or plan.fate == "stands":
        return []
    if expected.referred_on is None:
        return ["withdrawn" if plan.fate == "withdrawn" else "retracted, not referred again yet"]
    if expected.referred_on == plan.referred_on:
        return ["the first referral stands (retracted later)"]
    return ["a referral posted again stands"]


SETTINGS = settings(
    max_examples=12,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@SETTINGS
@given(scenario=scenarios())
def test_no_program_is_listed_or_answers_before_its_standing_referral(
    client: TestClient, scenario: Scenario
) -> None:
    clinic = f"clinic-{uuid4().hex[:10]}"
    ids = [str(uuid4()) for _ in scenario.plans]
    note(repr(scenario))  # this Hypothesis prints no drawn values of its own
    posted = send(client, clinic, ids, scenario.plans)
    # Now; the instant the first referrals all stood, when some are retracted later;
    # and a drawn instant (or one before the first event).
    instants: list[datetime | None] = [None]
    built = sum(posts_of(replace(plan, fate="stands")) for plan in scenario.plans)
    if built < len(posted):
        instants.append(posted[built - 1].recorded_at)
    if scenario.known_at < 0:
        instants.append(posted[0].recorded_at - timedelta(microseconds=1))
    elif scenario.known_at != built - 1:
        instants.append(posted[scenario.known_at].recorded_at)
    for instant in instants:
        text = instant.isoformat() if instant else None
        expected = {pid: known_at(posted, pid, instant) for pid in ids}
        for day in scenario.as_of:
            check_lists(client, clinic, day, text, expected)
            for pid, plan in zip(ids, scenario.plans, strict=True):
                for name in labels(expected[pid], plan, day):
                    event(name)
                check_reads(client, pid, day, text, expected[pid])
        for pid, plan in zip(ids, scenario.plans, strict=True):
            for name in history_labels(expected[pid], plan):
                event(f"{'now' if instant is None else 'known_at'}: {name}")
