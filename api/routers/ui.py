"""The web pages under /ui (`api.ui`), and the files they load: our stylesheet and
script, served by this service, so the pages work with no internet (nothing is loaded
from a CDN). The program page's chart is SVG in the page itself."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.responses import Response

from api.problems import problem
from api.ui import pages, regulator, signin, worklist
from api.ui.render import STATIC_DIR
from api.ui.report import router as report_router

router = APIRouter(include_in_schema=False)
for part in (signin.router, pages.router, regulator.router, worklist.router):
    router.include_router(part)
router.include_router(report_router)

STATIC_TYPES = {"ui.css": "text/css; charset=utf-8", "ui.js": "text/javascript; charset=utf-8"}
# Their URLs carry a ?v= content hash: cache them for good.
FOREVER = "public, max-age=31536000, immutable"


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
