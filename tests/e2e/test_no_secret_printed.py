"""The store's password is never printed (issue 16, item 6): not by `wht serve` as
it starts, not by a command that cannot reach the store, not for a URL it refuses."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.e2e.test_serve_process import WHT, serving, wht_env

pytestmark = pytest.mark.slow

SECRET = "s3cr3t-Pa55"


def with_password(url: str) -> str:
    # Trust authentication ignores the password; the URL still carries one.
    return url.replace("postgresql://postgres@", f"postgresql://postgres:{SECRET}@")


def test_serve_prints_the_store_without_its_password(pg_url: str, tmp_path: Path) -> None:
    with serving(with_password(pg_url), tmp_path) as client:
        assert client.get("/healthz").status_code == 200
    logs = "".join(p.read_text() for p in tmp_path.glob("serve-*.log"))
    assert "serving on" in logs and "postgres:***@" in logs
    assert SECRET not in logs


@pytest.mark.parametrize(
    "url",
    [
        f"postgresql://wht:{SECRET}@127.0.0.1:1/wht",  # nothing listens on port 1
        f"mysql://wht:{SECRET}@db.internal/wht",  # not a store wht can use
    ],
)
def test_a_command_that_cannot_open_the_store_hides_the_password(url: str, tmp_path: Path) -> None:
    done = subprocess.run(
        [WHT, "keys", "list"], env=wht_env(url), cwd=tmp_path, capture_output=True, text=True
    )
    assert done.returncode != 0
    assert "***" in done.stderr
    assert SECRET not in done.stderr + done.stdout
