"""/docs (Swagger UI) and /redoc render offline: their scripts and styles come from the
service itself (the files fastapi-offline ships), and a browser that may reach nothing
but the service still shows every operation. (Checked failing with FastAPI's own pages,
which load swagger-ui and redoc from a CDN.)"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Route, sync_playwright

from api.app import create_app
from tests.e2e.browser import launch, serving

pytestmark = pytest.mark.slow


def test_docs_and_redoc_render_with_nothing_but_the_service_reachable(tmp_path: Path) -> None:
    from api.bootstrap import build_tracker

    tracker = build_tracker(f"sqlite:///{tmp_path / 'wht.sqlite'}")
    app = create_app(tracker, projection=False)
    outside: list[str] = []

    def only_the_service(route: Route) -> None:
        if urlsplit(route.request.url).hostname not in ("127.0.0.1", None):
            outside.append(f"{route.request.resource_type} {route.request.url}")
            route.abort()
        else:
            route.continue_()

    try:
        with serving(app) as base, sync_playwright() as playwright:
            browser = launch(playwright)
            page = browser.new_page()
            page.route("**/*", only_the_service)

            page.goto(f"{base}/docs")
            page.wait_for_selector("#operations-ingest-record_event", timeout=20_000)
            assert page.locator(".opblock").count() >= 15

            page.goto(f"{base}/redoc")
            # Redoc draws each operation under its summary, with its path beside it.
            page.wait_for_selector("h2:has-text('Compliance')", timeout=20_000)
            assert "/v1/programs/{program_id}/compliance" in page.content()
            browser.close()
    finally:
        tracker.close()
    # Nothing the pages need is fetched from outside. Redoc's sidebar still asks for its
    # "API docs by Redocly" logo (an <img> from its CDN), which offline is simply not shown.
    assert [u for u in outside if not u.startswith("image ")] == [], outside
