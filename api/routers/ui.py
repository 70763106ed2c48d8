"""The web pages under /ui (`api.ui`), and the files they load: our stylesheet and
script, and plotly's bundled script read from the installed plotly package, so the
pages and their charts work with no internet (nothing is loaded from a CDN)."""

from __future__ import annotations

import gzip
from functools import lru_cache
from importlib.resources import files

from fastapi import APIRouter, Request
from starlette.responses import Response

from api.problems import problem
from api.ui import pages, regulator, signin, worklist
from api.ui.render import PLOTLY_VERSION, STATIC_DIR
from api.ui.report import router as report_router

router = APIRouter(include_in_schema=False)
for part in (signin.router, pages.router, regulator.router, worklist.router):
    router.include_router(part)
router.include_router(report_router)

STATIC_TYPES = {"ui.css": "text/css; charset=utf-8", "ui.js": "text/javascript; charset=utf-8"}
# File names carry a version (plotly's) or a ?v= content hash (ours): cache them for good.
FOREVER = "public, max-age=31536000, immutable"


@lru_cache(maxsize=1)
def plotly_script() -> tuple[bytes, bytes]:
    """plotly.js as the plotly package ships it, plain and gzipped (4.8 MB, ~1.4 MB)."""
    script = (files("plotly") / "package_data" / "plotly.min.js").read_bytes()
    return script, gzip.compress(script, compresslevel=6)


def _script(body: bytes, request: Request, packed: bytes | None = None) -> Response:
    headers = {
        "Cache-Control": FOREVER,
        "X-Content-Type-Options": "nosniff",
        "Vary": "Accept-Encoding",
    }
    if packed is not None and "gzip" in request.headers.get("accept-encoding", ""):
        body, headers["Content-Encoding"] = packed, "gzip"
    return Response(body, media_type="text/javascript; charset=utf-8", headers=headers)


@router.get("/ui/static/plotly-{version}.min.js")
def plotly(version: str, request: Request) -> Response:
    """The charting library's script, served by this service."""
    if version != PLOTLY_VERSION:
        return problem(404, "Not found", f"This service serves plotly {PLOTLY_VERSION}.")
    plain, packed = plotly_script()
    return _script(plain, request, packed)


@router.get("/ui/static/{name}")
def static(name: str) -> Response:
    """The pages' stylesheet and script."""
    if name not in STATIC_TYPES:
        return problem(404, "Not found", f"No static file {name!r}.")
    return Response(
        (STATIC_DIR / name).read_bytes(),
        media_type=STATIC_TYPES[name],
        headers={"Cache-Control": FOREVER, "X-Content-Type-Options": "nosniff"},
    )
