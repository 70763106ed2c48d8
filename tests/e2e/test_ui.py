"""The web pages under /ui, driven in Debian's Chromium (headless) through Playwright.

The demo programs are served by the real app on a loopback port, with an API key
for every role. Each page is checked against what the JSON API answers the same
key for the same times; screenshots land in test-artifacts/ui/. The Chromium
package is installed when missing, and the tests fail (never skip) if it cannot be.
"""

from __future__ import annotations

import csv
import io
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4
from xml.etree import ElementTree

import httpx
import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import Browser, Page, expect, sync_playwright

from api.app import create_app
from api.ui.render import FIGURE_LABELS, show
from domain.intake import parse_event
from service.application import Tracker
from service.demo import load_demo
from service.security import SecurityStore
from tests.e2e.browser import CHROMIUM_ARGS, ensure_chromium
from tests.e2e.ui_support import AS_OF, Site, demo_site, figures_shown, shot, sign_in

pytestmark = pytest.mark.slow
SVG = "http://www.w3.org/2000/svg"


@pytest.fixture(scope="module")
def chromium() -> str:
    try:
        return ensure_chromium()
    except RuntimeError as error:
        pytest.fail(f"Debian's chromium is needed for the browser tests: {error}")


@pytest.fixture(scope="module")
def browser(chromium: str) -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=chromium, args=CHROMIUM_ARGS, headless=True
        )
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    with demo_site(tmp_path_factory.mktemp("ui-site"), with_keys=True) as served:
        yield served


@dataclass
class Tab:
    """A page in a fresh browser context, with what it logged and fetched."""

    page: Page
    errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)


@pytest.fixture
def tab(browser: Browser) -> Iterator[Tab]:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    opened = Tab(context.new_page())
    opened.page.set_default_timeout(15_000)
    opened.page.on("console", lambda m: opened.errors.append(m.text) if m.type == "error" else None)
    opened.page.on("pageerror", lambda e: opened.errors.append(str(e)))
    opened.page.on("request", lambda r: opened.requests.append(r.url))
    yield opened
    context.close()


def test_signing_in_keeps_a_signed_http_only_strict_cookie_never_the_key(
    tab: Tab, site: Site
) -> None:
    page = tab.page
    page.goto(site.base + "/ui/programs")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    page.get_by_label("API key").fill("wht_not-a-key")
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("#sign-in-error")).to_contain_text("not known or has been revoked")
    page.get_by_label("API key").fill(site.tokens["regulator"])
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/ui/programs$"))  # back where they were going
    expect(page.get_by_role("heading", name="Programs", exact=True)).to_be_visible()
    (cookie,) = page.context.cookies()
    assert cookie["name"] == "wht_session" and cookie["httpOnly"] and cookie["path"] == "/ui"
    assert cookie["sameSite"] == "Strict" and not cookie["secure"]  # Secure over https only
    assert site.tokens["regulator"] not in cookie["value"]
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    assert page.context.cookies() == []
    page.goto(site.base + "/ui/programs")
    expect(page.get_by_label("API key")).to_be_visible()


def test_forged_cookies_revoked_keys_and_foreign_redirects_are_refused(site: Site) -> None:
    with httpx.Client(base_url=site.base, timeout=30) as client:
        client.cookies.set("wht_session", "eyJrIjoiay0xIn0.forged.signature")
        assert client.get("/ui/programs").headers["location"].startswith("/ui/sign-in")
        client.cookies.clear()
        answer = client.post(
            "/ui/sign-in", data={"key": site.tokens["payer"], "next": "https://elsewhere.example/"}
        )
        assert answer.status_code == 303 and answer.headers["location"] == "/ui"
        assert "HttpOnly" in answer.headers["set-cookie"]
        assert "SameSite=strict" in answer.headers["set-cookie"]
        pid = site.programs["compliant"]
        assert client.get(f"/ui/programs/{pid}").status_code == 200
        elsewhere = httpx.post(
            f"{site.base}/ui/sign-in",
            data={"key": site.tokens["payer"]},
            headers={"Origin": "https://elsewhere.example"},
        )
        assert elsewhere.status_code == 403 and "set-cookie" not in elsewhere.headers
        store = SecurityStore.of(site.tracker)
        key, token = store.add_key("payer", label="revoked in a test")
        client.cookies.clear()
        client.post("/ui/sign-in", data={"key": token})
        assert client.get(f"/ui/programs/{pid}").status_code == 200
        store.revoke(key.key_id, "test")
        assert client.get(f"/ui/programs/{pid}").status_code == 303  # signed out at once
        page = client.get(f"/ui/programs/{pid}", follow_redirects=True)
        assert "Sign in" in page.text and page.headers["cache-control"] == "no-store"
        assert "script-src 'self'" in page.headers["content-security-policy"]


def check_program_page(tab: Tab, site: Site, pid: str, **times: str) -> dict[str, Any]:
    """The figures, findings and clause words on a program page equal the API's."""
    api: dict[str, Any] = site.api("payer", f"/v1/programs/{pid}/compliance", **times)
    shown = figures_shown(tab.page)
    assert set(shown) == {*FIGURE_LABELS, "version", "known_at"}
    for name, (value, text) in shown.items():
        if name != "known_at" or "known_at" in times:
            assert value == api[name], name
        if name not in ("known_at",):
            assert text == show(api[name]), name
    pack = site.api("payer", f"/v1/policies/{api['policy']}")
    findings = tab.page.locator("article.finding")
    expect(findings).to_have_count(len(api["findings"]))
    # Repeated findings of one code are grouped, codes in the order they first appear.
    codes = list(dict.fromkeys(f["code"] for f in api["findings"]))
    in_groups = sorted(api["findings"], key=lambda f: codes.index(f["code"]))
    for element, finding in zip(findings.all(), in_groups, strict=True):
        assert element.get_attribute("data-code") == finding["code"]
        assert element.locator(".clause").inner_text() == finding["clause"]
        assert finding["message"] in element.locator(".message").inner_text()
        words = element.locator(".clause-text").inner_text().strip()
        assert words == pack["clauses"][finding["clause"]]["text"].strip()
    return api


def test_each_demo_program_page_shows_the_apis_figures_and_the_policys_words(
    tab: Tab, site: Site
) -> None:
    sign_in(tab.page, site.base, site.tokens["payer"])
    for name, pid in site.programs.items():
        tab.page.goto(f"{site.base}/ui/programs/{pid}?as_of={AS_OF}")
        chart = tab.page.locator("#timeline svg.wide")  # the server drew it: no script
        expect(chart).to_be_visible()
        check_program_page(tab, site, pid, as_of=AS_OF)
        labels = [t.strip() for t in chart.locator("text").all_text_contents()]
        assert any(w.startswith("W1") for w in labels) and "End of week 8" in labels
        shot(tab.page, f"program-{name}")
    # Nothing was fetched from anywhere else, and no script but our own.
    assert all(url.startswith(site.base) for url in tab.requests), tab.requests
    assert [u for u in tab.requests if ".js" in u and "/ui/static/ui.js?v=" not in u] == []
    assert [e for e in tab.errors if "Failed to load resource" not in e] == []


def test_moving_the_as_of_and_known_at_pickers_re_renders_the_figures(tab: Tab, site: Site) -> None:
    page = tab.page
    sign_in(page, site.base, site.tokens["payer"])
    pid = site.programs["compliant"]
    page.goto(f"{site.base}/ui/programs/{pid}?as_of=2026-03-20")
    before = check_program_page(tab, site, pid, as_of="2026-03-20")
    # The picker submits the form when its value changes.
    page.get_by_label("As of (business date)", exact=True).fill("2026-04-03")
    expect(page).to_have_url(re.compile(r"as_of=2026-04-03"))
    after = check_program_page(tab, site, pid, as_of="2026-04-03")
    assert after["total_hours"] > before["total_hours"] and after["status"] == "discharged"
    shot(page, "program-as-of-moved")

    # A session recorded later: known_at before it shows the program without it.
    pid = site.programs["excluded-region"]
    time.sleep(1.1)  # the picker has whole seconds: leave the demo's events a second behind
    known = site.tracker.clock().strftime("%Y-%m-%dT%H:%M:%S")
    time.sleep(1.1)
    site.tracker.ingest(
        UUID(pid),
        parse_event(
            uuid4(),
            "SessionLogged",
            date(2026, 3, 16),
            {
                "hours": 6,
                "provider": {
                    "name": "Dana Ruiz",
                    "discipline": "physical_therapist",
                    "license_number": "PT-44120",
                },
                "activities": ["work_simulation"],
                "documented": True,
            },
        ),
    )
    page.goto(f"{site.base}/ui/programs/{pid}?as_of={AS_OF}")
    now = check_program_page(tab, site, pid, as_of=AS_OF)
    page.get_by_label("Known at (UTC; empty: now)", exact=True).fill(known)
    expect(page).to_have_url(re.compile(r"known_at="))
    then = check_program_page(tab, site, pid, as_of=AS_OF, known_at=f"{known}Z")
    assert then["total_hours"] == now["total_hours"] - 6
    assert then["version"] == now["version"] - 1


STEPS_JS = """() => [...document.querySelectorAll('.step')].map(s => ({
  version: Number(s.querySelector('[data-field=version]').textContent),
  added: [...s.querySelectorAll('.added [data-code]')].map(f => f.dataset.code),
  resolved: [...s.querySelectorAll('.resolved [data-code]')].map(f => f.dataset.code)}))"""


def test_audit_page_steps_through_the_replay_with_the_integrity_verdict(
    tab: Tab, site: Site
) -> None:
    page = tab.page
    sign_in(page, site.base, site.tokens["auditor"])
    pid = site.programs["tardiness-non-compliance"]
    steps = site.api("auditor", f"/v1/programs/{pid}/audit", as_of=AS_OF)
    verdict = site.api("auditor", f"/v1/programs/{pid}/integrity")
    page.goto(f"{site.base}/ui/programs/{pid}/audit?as_of={AS_OF}")
    assert verdict["ok"]
    expect(page.locator("[data-verdict]")).to_have_text("intact")
    expect(page.locator("[data-events-checked]")).to_have_text(str(verdict["events_checked"]))
    assert verdict["head_hash"] in page.locator("#integrity").inner_text()
    assert page.evaluate(STEPS_JS) == [
        {
            "version": s["version"],
            "added": [f["code"] for f in s["findings_added"]],
            "resolved": [f["code"] for f in s["findings_resolved"]],
        }
        for s in steps
    ]

    n = len(steps)
    position = page.locator("#step-position")
    visible = page.locator(".step:not([hidden])")
    expect(position).to_have_text(f"Event 1 of {n}")
    expect(visible).to_have_count(1)
    expect(visible.locator("h3")).to_have_text(f"Event 1 of {n}: Program referred")
    page.get_by_role("button", name="Next ›").click()
    expect(position).to_have_text(f"Event 2 of {n}")
    expect(visible.locator("[data-field=version]")).to_have_text(str(steps[1]["version"]))
    tipping = next(
        i
        for i, s in enumerate(steps, 1)
        if any(f["code"] == "non_compliance" for f in s["findings_added"])
    )
    page.get_by_label("Event number").fill(str(tipping))
    expect(position).to_have_text(f"Event {tipping} of {n}")
    step = steps[tipping - 1]
    expect(visible.locator(".added [data-code=non_compliance] .clause")).to_have_text("DIS-5a")
    changed = visible.locator("table.changes tbody tr").all_inner_texts()
    before = steps[tipping - 2]["figures"]["absence_equivalents"]
    after = step["figures"]["absence_equivalents"]
    assert any(
        re.sub(r"\s+", " ", row).strip() == f"Absence equivalents {before} {after}"
        for row in changed
    ), changed
    page.evaluate("document.activeElement.blur(); window.scrollTo(0, 0)")
    shot(page, "audit-tipping-step")
    page.get_by_role("button", name="Last event").click()
    expect(position).to_have_text(f"Event {n} of {n}")
    expect(page.get_by_role("button", name="Next ›")).to_be_disabled()
    page.keyboard.press("ArrowLeft")
    expect(position).to_have_text(f"Event {n - 1} of {n}")


def listed_ids(page: Page) -> list[str]:
    return [r.get_attribute("data-program") or "" for r in page.locator("tr[data-program]").all()]


def api_list(site: Site, **params: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        answer = site.api(
            "regulator", "/v1/programs", **params, **({"cursor": cursor} if cursor else {})
        )
        items += answer["programs"]
        cursor = answer["next_cursor"]
        if not cursor:
            return items


def test_regulator_page_filters_pages_and_downloads_the_csv_of_the_result(
    tab: Tab, site: Site
) -> None:
    page = tab.page
    sign_in(page, site.base, site.tokens["regulator"])
    expect(page).to_have_url(re.compile(r"/ui/programs$"))
    assert listed_ids(page) == [p["program_id"] for p in api_list(site)]
    assert sorted(listed_ids(page)) == sorted(site.programs.values())
    shot(page, "programs")

    page.get_by_label("Finding", exact=True).select_option("non_compliance")
    page.get_by_label("As of (business date)", exact=True).fill(AS_OF)
    page.get_by_role("button", name="Apply filters").click()
    expect(page).to_have_url(re.compile(r"finding=non_compliance"))
    assert listed_ids(page) == [site.programs["tardiness-non-compliance"]]
    assert listed_ids(page) == [
        p["program_id"] for p in api_list(site, finding="non_compliance", as_of=AS_OF)
    ]

    page.goto(f"{site.base}/ui/programs?limit=2&as_of={AS_OF}")
    first = listed_ids(page)
    page.get_by_role("link", name="Next page ›").click()
    expect(page.get_by_role("heading", name=re.compile("^Page 2"))).to_be_visible()
    assert page.get_by_role("link", name="Next page ›").count() == 0
    assert first + listed_ids(page) == [p["program_id"] for p in api_list(site, as_of=AS_OF)]

    page.goto(f"{site.base}/ui/programs?status=admitted&as_of={AS_OF}&limit=10")
    with page.expect_download() as download:
        page.get_by_role("link", name="Download CSV").click()
    rows = list(csv.DictReader(io.StringIO(Path(download.value.path()).read_text("utf-8"))))
    expected = api_list(site, status="admitted", as_of=AS_OF)
    assert [
        (
            r["program_id"],
            r["provider_id"],
            r["status"],
            r["discharge_eligible"],
            r["findings"].split(";") if r["findings"] else [],
            r["as_of"],
        )
        for r in rows
    ] == [
        (
            p["program_id"],
            p["provider_id"],
            p["status"],
            str(p["discharge_eligible"]).lower(),
            p["findings"],
            AS_OF,
        )
        for p in expected
    ]
    assert download.value.suggested_filename == f"wht-programs-as-of-{AS_OF}.csv"


def test_each_page_shows_only_what_the_keys_role_may_see(tab: Tab, site: Site) -> None:
    page, north = tab.page, site.programs["compliant"]
    expect_status = {
        "payer": {
            "/ui/programs": 403,
            f"/ui/programs/{north}": 200,
            f"/ui/programs/{north}/audit": 403,
        },
        "auditor": {"/ui/programs": 403, f"/ui/programs/{north}/audit": 200},
        "north": {f"/ui/programs/{north}": 200, f"/ui/programs/{north}/audit": 403},
        "south": {f"/ui/programs/{north}": 404, f"/ui/programs/{uuid4()}": 404},
        "admin": {f"/ui/programs/{north}": 403, "/ui/programs": 403},
        "regulator": {f"/ui/programs/{north}": 200, f"/ui/programs/{north}/audit": 403},
    }
    for who, pages in expect_status.items():
        page.context.clear_cookies()
        sign_in(page, site.base, site.tokens[who])
        for path, status in pages.items():
            answer = page.goto(site.base + path)
            assert answer is not None and answer.status == status, (who, path)
    log = SecurityStore.of(site.tracker).access_log(program_id=north, limit=1000)
    assert {(e["role"], e["endpoint"]) for e in log} >= {
        ("payer", "/ui/programs/{program_id}"),
        ("auditor", "/ui/programs/{program_id}/audit"),
    }


LABELS_JS = """() => [...document.querySelectorAll('input:not([type=hidden]), select, textarea')]
  .filter(e => !(e.labels && e.labels.length) && !e.getAttribute('aria-label')).map(e => e.id)"""


def test_pages_fit_a_375_px_wide_screen_with_headings_and_labels(
    browser: Browser, site: Site
) -> None:
    pid = site.programs["over-daily-cap"]
    pages = {
        "regulator": ["/ui/programs", f"/ui/programs/{pid}?as_of={AS_OF}"],
        "auditor": [f"/ui/programs/{pid}/audit?as_of={AS_OF}"],
    }
    for who, paths in pages.items():
        context = browser.new_context(
            viewport={"width": 375, "height": 740},
            device_scale_factor=1,
            is_mobile=True,
            has_touch=True,
        )
        page = context.new_page()
        page.goto(site.base + "/ui/sign-in")
        assert page.evaluate("document.documentElement.scrollWidth") <= 375
        sign_in(page, site.base, site.tokens[who])
        for path in paths:
            page.goto(site.base + path)
            if "/audit" not in path and path != "/ui/programs":
                expect(page.locator("#timeline svg.narrow")).to_be_visible()
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= 375, (path, width)
            assert page.locator("h1").count() == 1
            assert page.evaluate(LABELS_JS) == [], path
            shot(page, "375-" + path.split("?")[0].strip("/").replace("/", "-")[-40:])
        context.close()


def test_open_mode_shows_the_four_demo_programs_at_ui(browser: Browser, tmp_path: Path) -> None:
    with demo_site(tmp_path, with_keys=False) as open_site:
        context = browser.new_context()
        page = context.new_page()
        page.goto(open_site.base + "/ui")
        expect(page).to_have_url(re.compile(r"/ui/programs$"))
        expect(page.locator(".open-mode")).to_be_visible()
        assert sorted(listed_ids(page)) == sorted(open_site.programs.values())
        page.locator("tr[data-program] a").first.click()
        expect(page.locator("#timeline svg.wide")).to_be_visible()
        context.close()


def test_pages_answer_on_both_stores_and_refuse_bad_input_with_a_page(tracker: Tracker) -> None:
    ids = [str(pid) for _, pid, _ in load_demo(tracker)]
    with TestClient(create_app(tracker)) as client:
        listed = client.get(f"/ui/programs?as_of={AS_OF}")
        assert listed.status_code == 200 and all(pid in listed.text for pid in ids)
        for pid in ids:
            assert client.get(f"/ui/programs/{pid}?as_of={AS_OF}").status_code == 200
            assert client.get(f"/ui/programs/{pid}/audit?as_of={AS_OF}").status_code == 200
        rows = client.get(f"/ui/programs.csv?as_of={AS_OF}").text.splitlines()
        assert len(rows) == 1 + len(ids)
        for path, status in [
            ("/ui/programs/not-a-uuid", 404),
            (f"/ui/programs/{uuid4()}", 404),
            (f"/ui/programs/{ids[0]}?as_of=2026-13-01", 422),
            (f"/ui/programs/{ids[0]}?known_at=yesterday", 422),
            (f"/ui/programs/{ids[0]}?known_at=2000-01-01T00:00:00", 404),
            ("/ui/programs?status=bogus", 422),
            ("/ui/programs?cursor=x", 422),
            ("/ui/programs?limit=0", 422),
            ("/ui/programs.csv?as_of=x", 422),
            ("/ui/static/nothing.js", 404),
            ("/ui/static/plotly-7.1.0.min.js", 404),  # the chart is SVG: no chart script
        ]:
            answer = client.get(path)
            assert answer.status_code == status, (path, answer.text[:300])
        for pid in ids:  # each drawing of the chart is well-formed SVG with a title and words
            html = client.get(f"/ui/programs/{pid}").text
            assert re.findall(r'<script src="([^"?]+)', html) == ["/ui/static/ui.js"]
            drawings = re.findall(r"<svg .*?</svg>", html, re.S)
            assert len(drawings) == 3
            for drawing in drawings:
                svg = ElementTree.fromstring(drawing)
                title, desc = (svg.find(f"{{{SVG}}}{tag}") for tag in ("title", "desc"))
                assert title is not None and desc is not None and desc.text
                assert svg.get("role") == "img"
                assert svg.get("aria-labelledby") == f"{title.get('id')} {desc.get('id')}"


def test_what_a_program_page_costs_does_not_grow_with_how_far_as_of_lies_ahead(
    tracker: Tracker,
) -> None:
    """Issue 23, item 6: `as_of=2999-12-31` drew a week band for every week up to that
    date (17 MB, 17 s of CPU). The chart now stops at today (or at a later entry or
    covered week), so a page a year ahead and one a millennium ahead are the same page
    but for the dates they print."""
    ids = [str(pid) for _, pid, _ in load_demo(tracker)]
    with TestClient(create_app(tracker)) as client:
        for pid in ids:
            near = client.get(f"/ui/programs/{pid}?as_of=2027-12-31")
            far = client.get(f"/ui/programs/{pid}?as_of=2999-12-31")
            assert near.status_code == far.status_code == 200
            assert abs(len(far.content) - len(near.content)) < 2_000, (
                len(near.content),
                len(far.content),
            )
            assert len(far.content) < 250_000


def test_a_regulators_program_page_names_no_worker_employer_or_claim(tab: Tab, site: Site) -> None:
    page = tab.page
    sign_in(page, site.base, site.tokens["regulator"])
    for pid in site.programs.values():
        referral = site.api("payer", f"/v1/programs/{pid}/events")[0]["data"]
        secrets = [
            referral["worker"]["worker_id"],
            referral["worker"]["name"],
            referral["worker"]["employer"],
            referral["claim"]["claim_number"],
        ]
        page.goto(f"{site.base}/ui/programs/{pid}?as_of={AS_OF}")
        expect(page.locator("#verdict")).to_be_visible()
        shown = page.content()
        assert [s for s in secrets if s and s in shown] == [], pid
        assert "[redacted]" in shown
    # The payer's page of the same program names the worker: the search above can find it.
    page.context.clear_cookies()
    sign_in(page, site.base, site.tokens["payer"])
    page.goto(f"{site.base}/ui/programs/{pid}?as_of={AS_OF}")
    assert secrets[1] in page.content()


def test_the_program_page_gives_a_verdict_what_is_left_and_what_is_due(
    tab: Tab, site: Site
) -> None:
    page = tab.page
    sign_in(page, site.base, site.tokens["payer"])
    for pid in site.programs.values():
        page.goto(f"{site.base}/ui/programs/{pid}?as_of={AS_OF}")
        api = site.api("payer", f"/v1/programs/{pid}/compliance", as_of=AS_OF)
        due = site.api("payer", f"/v1/programs/{pid}/due", as_of=AS_OF)
        violations = sum(1 for f in api["findings"] if f["severity"] == "violation")
        want = "Compliant so far" if violations == 0 else f"{violations} violation"
        expect(page.locator("#verdict")).to_contain_text(want)
        left = page.locator("[data-budget=weeks_left]").inner_text()
        assert left == f"{due['budgets']['weeks_left']} of 8"
        rows = page.locator("#due-list tbody tr")
        expect(rows).to_have_count(len(due["obligations"]))
        for row, obligation in zip(rows.all(), due["obligations"], strict=True):
            assert row.get_attribute("data-kind") == obligation["kind"]
            assert row.get_attribute("data-status") == obligation["status"]


# Every text of the chart on screen: its words and its box, and the chart's own box.
CHART_TEXTS_JS = """() => {
  const texts = [...document.querySelectorAll('#timeline svg text')]
    .filter(t => t.checkVisibility() && t.textContent.trim())
    .map(t => { const r = t.getBoundingClientRect();
      return {text: t.textContent.trim(), x0: r.left, y0: r.top, x1: r.right, y1: r.bottom}; })
    .filter(b => b.x1 > b.x0 && b.y1 > b.y0);
  const box = document.querySelector('#timeline').getBoundingClientRect();
  return {texts, chart: {x0: box.left, y0: box.top, x1: box.right, y1: box.bottom}};
}"""


def overlapping(texts: list[dict[str, Any]], slack: float = 0.5) -> list[tuple[str, str]]:
    """Pairs of labels whose boxes overlap by more than `slack` px both ways."""
    return [
        (a["text"], b["text"])
        for i, a in enumerate(texts)
        for b in texts[i + 1 :]
        if min(a["x1"], b["x1"]) - max(a["x0"], b["x0"]) > slack
        and min(a["y1"], b["y1"]) - max(a["y0"], b["y0"]) > slack
    ]


@pytest.mark.parametrize("width", [1280, 700, 375])  # each drawing of the chart
def test_the_timeline_labels_never_overlap_and_the_page_loads_no_heavy_script(
    browser: Browser, site: Site, width: int
) -> None:
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    scripts: dict[str, int] = {}
    page.on(
        "response",
        lambda r: (
            scripts.__setitem__(r.url, len(r.body()))
            if r.request.resource_type == "script"
            else None
        ),
    )
    sign_in(page, site.base, site.tokens["payer"])
    for name, pid in site.programs.items():
        for query in (f"?as_of={AS_OF}", "?as_of=2026-06-30", ""):
            page.goto(f"{site.base}/ui/programs/{pid}{query}")
            drawn = page.evaluate(CHART_TEXTS_JS)
            texts, chart = drawn["texts"], drawn["chart"]
            words = [t["text"] for t in texts]
            assert "End of week 8" in words and "As of" in words, (name, query, words)
            assert any(w.startswith("W1") for w in words), (name, query, words)
            assert overlapping(texts) == [], (name, query)
            outside = [
                t["text"]
                for t in texts
                if t["x0"] < chart["x0"] - 0.5 or t["x1"] > chart["x1"] + 0.5
            ]
            assert outside == [], (name, query)  # no label cut at the chart's edge
            assert page.evaluate("document.documentElement.scrollWidth") <= width
        shot(page, f"timeline-{width}-{name}")
    assert scripts and max(scripts.values()) < 100_000, scripts
    context.close()
