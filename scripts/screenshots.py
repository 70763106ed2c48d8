"""Screenshots of the web pages, for docs/screenshots/ (and the browser tests' helpers).

    .venv/bin/python scripts/screenshots.py [--out docs/screenshots]

Loads the demo programs into a throw-away SQLite store, serves the app on a free
loopback port, and drives Debian's Chromium headless (Playwright, the `dev` extra)
to the program page and the audit page. Needs the `chromium` Debian package:
`ensure_chromium` installs it when it is missing, as the browser tests do.
"""

from __future__ import annotations

import argparse
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import uvicorn
from fastapi import FastAPI

from api.bootstrap import build_tracker
from scripts.demo import load_demo
from service.application import Tracker

CHROMIUM = "/usr/bin/chromium"
# Headless, and never calling out: the pages must work with no internet.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ROOT = Path(__file__).resolve().parent.parent
AS_OF = "2026-04-10"  # the demo programs' week 5: three of them have ended or gone wrong


def ensure_chromium() -> str:
    """Debian's Chromium, installed with apt-get if missing; raises if it cannot be."""
    if not Path(CHROMIUM).exists():
        if shutil.which("apt-get") is None:
            raise RuntimeError(f"{CHROMIUM} is missing and apt-get is not available")
        env = {"DEBIAN_FRONTEND": "noninteractive", "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"}
        for command in (
            ["apt-get", "update", "-q"],
            ["apt-get", "install", "-y", "-q", "chromium"],
        ):
            done = subprocess.run(
                command, env=env, capture_output=True, text=True, timeout=900, check=False
            )
            if done.returncode != 0:
                raise RuntimeError(f"{' '.join(command)} failed:\n{done.stderr[-2000:]}")
    if not Path(CHROMIUM).exists():
        raise RuntimeError(f"apt-get installed chromium but {CHROMIUM} is still missing")
    return CHROMIUM


def demo_tracker(folder: Path) -> tuple[Tracker, dict[str, str]]:
    """A tracker on a new SQLite file in `folder`, holding the four demo programs."""
    tracker = build_tracker(f"sqlite:///{folder / 'wht.sqlite'}", cipher_key="")
    return tracker, {name: str(pid) for name, pid, _ in load_demo(tracker)}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serving(app: FastAPI) -> Iterator[str]:
    """Serve `app` with uvicorn in a thread on a free loopback port; yield its base URL."""
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=15)


def launch(playwright: Any) -> Any:
    """Debian's Chromium, headless, through Playwright (never a downloaded browser)."""
    return playwright.chromium.launch(
        executable_path=ensure_chromium(), args=CHROMIUM_ARGS, headless=True
    )


def take(base: str, programs: dict[str, str], out: Path) -> list[Path]:
    """The program page and the audit page of the tardiness demo, as PNGs in `out`."""
    from playwright.sync_api import sync_playwright

    out.mkdir(parents=True, exist_ok=True)
    program = programs["tardiness-non-compliance"]
    with sync_playwright() as playwright:
        browser = launch(playwright)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(f"{base}/ui/programs/{program}?as_of={AS_OF}")
        page.wait_for_selector("#timeline[data-drawn=true]")
        page.screenshot(path=str(out / "program.png"), full_page=True)
        page.goto(f"{base}/ui/programs/{program}/audit?as_of={AS_OF}")
        # The event that tipped the program into non-compliance (DIS-5a).
        step = page.locator(".step:has([data-code=non_compliance]) >> nth=0")
        number = step.get_attribute("data-step")
        page.fill("#step-range", number or "1")
        page.dispatch_event("#step-range", "input")
        page.evaluate("document.activeElement.blur(); window.scrollTo(0, 0)")
        page.screenshot(path=str(out / "audit.png"), full_page=True)
        browser.close()
    return [out / "program.png", out / "audit.png"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    args = parser.parse_args()
    from api.app import create_app

    with tempfile.TemporaryDirectory() as folder:
        tracker, programs = demo_tracker(Path(folder))
        try:
            with serving(create_app(tracker)) as base:
                for path in take(base, programs, args.out):
                    print(path)
        finally:
            tracker.close()


if __name__ == "__main__":
    main()
