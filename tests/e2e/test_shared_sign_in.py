"""Web sign-in across servers (issue 16, item 8): two `wht serve` processes sharing
WHT_SESSION_SECRET and a store share sign-in, and signing out on one ends the
session on both: a copied cookie stops working at once, not 8 hours later."""

from __future__ import annotations

import secrets
import subprocess
from pathlib import Path

import httpx
import pytest

from api.bootstrap import build_tracker
from service.security import SecurityStore
from tests.e2e.test_serve_process import WHT, serving, wht_env

pytestmark = pytest.mark.slow


def signed_in(client: httpx.Client, response: httpx.Response) -> bool:
    return response.status_code == 200 and "/ui/sign-in" not in str(response.url)


def test_two_servers_share_sign_in_and_sign_out(
    store_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tracker = build_tracker(store_url)
    try:
        _, token = SecurityStore.of(tracker).add_key("regulator")
    finally:
        tracker.close()
    monkeypatch.setenv("WHT_SESSION_SECRET", secrets.token_urlsafe(32))
    with serving(store_url, tmp_path) as first, serving(store_url, tmp_path) as second:
        signed = first.post("/ui/sign-in", data={"key": token, "next": "/ui/programs"})
        assert signed.status_code == 303, signed.text
        cookie = signed.cookies["wht_session"]

        on_second = second.get("/ui/programs", cookies={"wht_session": cookie})
        assert on_second.status_code == 200, on_second.text

        out = second.post("/ui/sign-out", cookies={"wht_session": cookie})
        assert out.status_code == 303

        for server in (first, second):  # the captured cookie is dead everywhere
            again = server.get("/ui/programs", cookies={"wht_session": cookie})
            assert again.status_code == 303
            assert "/ui/sign-in" in again.headers["location"]


def test_a_short_session_secret_is_refused_at_start(tmp_path: Path) -> None:
    env = {**wht_env(f"sqlite:///{tmp_path}/w.sqlite"), "WHT_SESSION_SECRET": "x" * 31}
    done = subprocess.run(
        [WHT, "serve", "--port", "1"], env=env, cwd=tmp_path, capture_output=True, text=True
    )
    assert done.returncode == 2
    assert "WHT_SESSION_SECRET must be at least 32 characters" in done.stderr
    assert "x" * 31 not in done.stderr
