"""Helpers of the browser tests: a served demo site with keys, and reading the pages."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI

from api.app import create_app
from api.auth import install_auth
from service.application import Tracker
from service.security import SecurityStore
from tests.e2e.browser import demo_tracker, serving

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "ui"
AS_OF = "2026-04-10"
KEYS = {  # who: (role, provider_id)
    "regulator": ("regulator", None),
    "auditor": ("auditor", None),
    "payer": ("payer", None),
    "north": ("provider", "clinic-north"),
    "south": ("provider", "clinic-south"),
    "admin": ("admin", None),
}


@dataclass
class Site:
    """The app served on a loopback port, its demo programs and a token per role."""

    base: str
    tracker: Tracker
    app: FastAPI
    programs: dict[str, str]
    tokens: dict[str, str] = field(default_factory=dict)

    def api(self, who: str, path: str, **params: Any) -> Any:
        """What the JSON API answers `who` (its bearer token) for `path`."""
        headers = {"Authorization": f"Bearer {self.tokens[who]}"} if self.tokens else {}
        response = httpx.get(self.base + path, params=params, headers=headers, timeout=30)
        assert response.status_code == 200, response.text
        return response.json()


def guarded_app(tracker: Tracker) -> FastAPI:
    """The app as `wht serve` builds it, with the API keys enforced."""
    app = create_app(tracker)
    if getattr(app.state, "security", None) is None:  # until create_app installs it
        install_auth(app, tracker)
    return app


@contextmanager
def demo_site(folder: Path, with_keys: bool) -> Iterator[Site]:
    """The four demo programs, served; with keys for every role, or in open mode."""
    tracker, programs = demo_tracker(folder)
    try:
        tokens = {}
        if with_keys:
            store = SecurityStore.of(tracker)
            for who, (role, provider) in KEYS.items():
                tokens[who] = store.add_key(role, provider, label=f"ui test {who}")[1]
        app = guarded_app(tracker)
        with serving(app) as base:
            yield Site(base, tracker, app, programs, tokens)
    finally:
        tracker.close()


def figures_shown(page: Any) -> dict[str, Any]:
    """Each figure on a program page: its JSON value and the text a person reads."""
    shown = {}
    for element in page.locator("[data-figure]").all():
        shown[element.get_attribute("data-figure")] = (
            json.loads(element.get_attribute("data-value")),
            element.inner_text().strip(),
        )
    return shown


def shot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def sign_in(page: Any, base: str, token: str, path: str = "/ui") -> None:
    page.goto(base + path)
    page.get_by_label("API key").fill(token)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()
