"""The templates, the headers every page carries, and how values are shown."""

from __future__ import annotations

import hashlib
from datetime import date, datetime
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.templating import Jinja2Templates
from markupsafe import Markup, escape
from starlette.responses import HTMLResponse

TEMPLATES_DIR = Path(__file__).with_name("templates")
STATIC_DIR = Path(__file__).with_name("static")
# Our static files are cached for good; their URLs change when their content does.
ASSET_VERSION = hashlib.sha256(
    b"".join(p.read_bytes() for p in sorted(STATIC_DIR.glob("ui.*")))
).hexdigest()[:12]

# Pages hold injured workers' health records: no scripts but ours, no framing, no caching.
# The report page carries its print stylesheet inline, hence 'unsafe-inline' for styles only.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; "
        "form-action 'self'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}

# The figures of the compliance answer (docs/reference/http.md), in reading order, as a
# case manager says them.
FIGURE_LABELS = {
    "status": "Status",
    "policy": "Policy pack",
    "as_of": "As of",
    "admitted_on": "Admitted on",
    "discharged_on": "Discharged on",
    "weeks_used": "Program weeks used",
    "days_attended": "Days attended",
    "total_hours": "Total hours",
    "reimbursable_hours": "Reimbursable hours",
    "unexcused_absences": "Unexcused absences",
    "excused_absences": "Excused absences",
    "tardy_days": "Tardy days",
    "absence_equivalents": "Absence equivalents",
    "discharge_eligible": "Discharge eligible",
    "discharge_reasons": "Discharge reasons",
}


def show(value: Any) -> str:
    """A figure as the page prints it: yes/no, a dash for none, lists comma-separated."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list | tuple):
        return ", ".join(show(v) for v in value) if value else "none"
    return str(value)


def breakable(text: str) -> Markup:
    """Text that may wrap after an underscore (non_<wbr>compliance) on a narrow screen."""
    return Markup(escape(text).replace("_", Markup("_<wbr>")))


def words(name: str) -> str:
    """`SessionLogged` -> "Session logged"; `goals_met` -> "goals met"."""
    if "_" in name or name.islower():
        return name.replace("_", " ")
    spaced = "".join(f" {c.lower()}" if c.isupper() else c for c in name).strip()
    return spaced[:1].upper() + spaced[1:]


def local_input(instant: datetime | None) -> str:
    """An instant as a datetime-local picker's value, in UTC (the picker has no zone)."""
    return instant.strftime("%Y-%m-%dT%H:%M:%S") if instant else ""


def day_input(day: date | None) -> str:
    return day.isoformat() if day else ""


templates = Jinja2Templates(directory=TEMPLATES_DIR)
templates.env.filters.update(show=show, words=words, breakable=breakable)
templates.env.globals.update(FIGURE_LABELS=FIGURE_LABELS, ASSET_VERSION=ASSET_VERSION)


def root(request: Request) -> str:
    """The service's own prefix, when it is mounted behind one."""
    return str(request.scope.get("root_path", "")).rstrip("/")


def page(
    request: Request, name: str, context: dict[str, Any], status: int = 200, who: Any = None
) -> HTMLResponse:
    """Render one template with the viewer and the security headers."""
    response = templates.TemplateResponse(
        request, name, {"who": who, "root": root(request), **context}, status_code=status
    )
    response.headers.update(SECURITY_HEADERS)
    return response


def error_page(
    request: Request, status: int, title: str, detail: str, who: Any = None
) -> HTMLResponse:
    """A page that says what went wrong and what to do, with the right status."""
    return page(
        request, "error.html", {"title": title, "detail": detail, "status": status}, status, who
    )
