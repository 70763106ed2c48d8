"""Signing in with an API key, and out again."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import HTMLResponse, RedirectResponse, Response

from api.ui.render import page, root
from api.ui.session import end_session, keep_session, safe_next, security, sign_in, viewer

router = APIRouter(include_in_schema=False)


def cross_site(request: Request) -> bool:
    """A form posted from another site (login CSRF): browsers name the posting page's
    origin. Its host is compared, not its scheme, so that a TLS-ending proxy in front
    (https outside, http here) does not lock everyone out."""
    origin = request.headers.get("origin")
    if origin is None:  # not a browser's form post (curl, a test client)
        return False
    return urlsplit(origin).netloc != request.headers.get("host", request.url.netloc)


@router.get("/ui/sign-in", response_class=HTMLResponse)
def sign_in_form(request: Request, next: str | None = None) -> Response:
    """The form that takes a key; open mode has nothing to sign in to."""
    if not security(request).has_keys():
        return RedirectResponse(safe_next(request, next), 303)
    return page(
        request,
        "sign_in.html",
        {"next": safe_next(request, next), "error": None},
        who=viewer(request),
    )


@router.post("/ui/sign-in", response_class=HTMLResponse)
async def sign_in_submit(request: Request) -> Response:
    """Check the key; keep a signed session cookie naming it, never the key itself."""
    if cross_site(request):
        return page(
            request,
            "sign_in.html",
            {"next": f"{root(request)}/ui", "error": "Sign in from this service's own page."},
            403,
        )
    form = parse_qs((await request.body()).decode("utf-8", "replace"))
    token = (form.get("key") or [""])[0]
    target = safe_next(request, (form.get("next") or [""])[0])
    key = await run_in_threadpool(sign_in, request, token)
    if key is None:
        return page(
            request,
            "sign_in.html",
            {"next": target, "error": "That key is not known or has been revoked."},
            401,
        )
    response = RedirectResponse(target, 303)
    keep_session(request, response, key)
    return response


@router.post("/ui/sign-out")
def sign_out(request: Request) -> Response:
    if cross_site(request):
        return RedirectResponse(f"{root(request)}/ui", 303)
    response = RedirectResponse(f"{root(request)}/ui/sign-in", 303)
    end_session(request, response)
    return response
