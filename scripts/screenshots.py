"""Screenshots of the web pages, for docs/screenshots/.

    .venv/bin/python -m scripts.screenshots [--out docs/screenshots]   (from the project root)

Loads the demo programs into a throw-away SQLite store, serves the app on a free
loopback port, and drives Debian's Chromium headless (Playwright, the `dev` extra)
to the program page, its timeline on a 375 px phone screen, and the audit page.
Needs the `chromium` Debian package: `ensure_chromium` installs it when it is
missing, as the browser tests do (their helpers, in tests/e2e/browser.py, are the
ones used here).
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from tests.e2e.browser import demo_tracker, launch, serving

ROOT = Path(__file__).resolve().parent.parent
AS_OF = "2026-04-10"  # the demo programs' week 5: three of them have ended or gone wrong


def take(base: str, programs: dict[str, str], out: Path) -> list[Path]:
    """The program page, its timeline at 375 px and the audit page of the tardiness demo,
    as PNGs in `out`."""
    from playwright.sync_api import sync_playwright

    out.mkdir(parents=True, exist_ok=True)
    program = programs["tardiness-non-compliance"]
    with sync_playwright() as playwright:
        browser = launch(playwright)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(f"{base}/ui/programs/{program}?as_of={AS_OF}")
        page.wait_for_selector("#timeline svg.wide")
        page.screenshot(path=str(out / "program.png"), full_page=True)
        phone = browser.new_page(viewport={"width": 375, "height": 740})
        phone.goto(f"{base}/ui/programs/{program}?as_of={AS_OF}")
        phone.locator("section:has(#timeline)").screenshot(path=str(out / "timeline-375.png"))
        phone.close()
        page.goto(f"{base}/ui/programs/{program}/audit?as_of={AS_OF}")
        # The event that tipped the program into non-compliance (DIS-5a).
        step = page.locator(".step:has([data-code=non_compliance]) >> nth=0")
        number = step.get_attribute("data-step")
        page.fill("#step-range", number or "1")
        page.dispatch_event("#step-range", "input")
        page.evaluate("document.activeElement.blur(); window.scrollTo(0, 0)")
        page.screenshot(path=str(out / "audit.png"), full_page=True)
        browser.close()
    return [out / "program.png", out / "timeline-375.png", out / "audit.png"]


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
