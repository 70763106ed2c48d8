"""Who is looking at a page: the sign-in cookie, the key behind it, and what it may see.

Signing in takes an API key (`SecurityStore.authenticate`); the browser then keeps
only a signed cookie naming the key's id and a random session id (HttpOnly,
SameSite=Strict, Secure over https, 8 hours), never the key itself. Signing out
ends the session in the store, so a copied cookie stops working at once, on
every server. Every page looks the key up again, so a
revoked key signs its sessions out at once. The roles are the JSON API's own
(`api.roles.roles_for`): each page names the /v1 route whose data it shows. With
no key at all (open mode) the pages are open, as the API is.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote
from uuid import UUID

from fastapi import Request
from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.responses import RedirectResponse, Response

from api.roles import roles_for
from api.ui.render import error_page, root
from service.application import Tracker
from service.security import (
    RECORDED_READERS,
    Access,
    ApiKey,
    Role,
    SecurityStore,
    program_owner,
)

COOKIE = "wht_session"
SESSION_SECONDS = 8 * 3600
SALT = "wht-ui-session"


@dataclass(frozen=True)
class Viewer:
    """The person at the browser: their key, or None in open mode."""

    key: ApiKey | None

    @property
    def role(self) -> str:
        return self.key.role.value if self.key else "open"

    def may(self, template: str) -> bool:
        """May this viewer read what the /v1 route `template` answers?"""
        return self.key is None or self.key.role in roles_for("GET", template)

    def sees(self, tracker: Tracker, program_id: UUID) -> bool:
        """A provider sees only its own programs; everyone else who may read, all."""
        if self.key is None or self.key.role is not Role.PROVIDER:
            return True
        return program_owner(tracker, program_id) in (None, self.key.provider_id)


def security(request: Request) -> SecurityStore:
    """The key store of the app (`install_auth` puts one on app.state), made once."""
    state = request.app.state
    store: SecurityStore | None = getattr(state, "security", None) or getattr(
        state, "ui_security", None
    )
    if store is None:
        store = SecurityStore.of(state.tracker)
        state.ui_security = store
    return store


def _serializer(request: Request) -> URLSafeTimedSerializer:
    state = request.app.state
    secret = getattr(state, "ui_session_secret", None)
    if secret is None:
        # WHT_SESSION_SECRET (api.settings, at least 32 characters); unset, a random
        # one for this process (sessions then end when it restarts).
        secret = state.settings.session_secret or secrets.token_urlsafe(32)
        state.ui_session_secret = secret
    return URLSafeTimedSerializer(secret, salt=SALT)


def viewer(request: Request) -> Viewer | None:
    """Who is signed in (open mode: an anonymous viewer); None when nobody is."""
    store = security(request)
    if not store.has_keys():
        return Viewer(None)
    raw = request.cookies.get(COOKIE)
    if not raw:
        return None
    try:
        data: Any = _serializer(request).loads(raw, max_age=SESSION_SECONDS)
    except BadSignature:  # forged, altered or expired
        return None
    key_id = data.get("k") if isinstance(data, dict) else None
    session_id = data.get("s") if isinstance(data, dict) else None
    if not isinstance(session_id, str) or store.ui_session_ended(session_id):
        return None  # signed out (on any server), or a cookie from before sessions had ids
    known = store.list_keys()  # a handful of keys; a lookup by id would spare the list
    key = next((k for k in known if k.key_id == key_id and k.revoked_at is None), None)
    return Viewer(key) if key else None


def session_id(request: Request) -> str | None:
    """The id of the signed-in session of this request's cookie, if it is one of ours."""
    raw = request.cookies.get(COOKIE)
    try:
        data: Any = _serializer(request).loads(raw, max_age=SESSION_SECONDS) if raw else None
    except BadSignature:
        return None
    found = data.get("s") if isinstance(data, dict) else None
    return found if isinstance(found, str) else None


def sign_in(request: Request, token: str) -> ApiKey | None:
    """The active key a token belongs to (None: unknown or revoked)."""
    token = token.strip()
    return security(request).authenticate(token) if token else None


def keep_session(request: Request, response: Response, key: ApiKey) -> None:
    response.set_cookie(
        COOKIE,
        _serializer(request).dumps({"k": key.key_id, "s": secrets.token_urlsafe(16)}),
        max_age=SESSION_SECONDS,
        path=f"{root(request)}/ui",
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )


def end_session(request: Request, response: Response) -> None:
    """Sign out: the session ends in the store (a copy of the cookie no longer works,
    on any server), and the browser drops the cookie."""
    ending = session_id(request)
    if ending is not None:
        security(request).end_ui_session(ending)
    response.delete_cookie(
        COOKIE,
        path=f"{root(request)}/ui",
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )


def safe_next(request: Request, target: str | None) -> str:
    """Where to go after signing in: a page of ours, never another site."""
    home = f"{root(request)}/ui"
    if not target or not target.startswith(home) or target.startswith("//") or "\\" in target:
        return home
    return target


def admit(request: Request, template: str) -> Viewer | Response:
    """The viewer if they may see this page's data (`template`: its /v1 route); else
    the sign-in page (nobody signed in) or a 403 page (a key without the role)."""
    who = viewer(request)
    if who is None:
        here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"{root(request)}/ui/sign-in?next={quote(here, safe='')}", 303)
    if not who.may(template):
        return error_page(
            request, 403, "Not for this key", f"A {who.role} key may not see this page.", who
        )
    return who


def record_read(
    request: Request, who: Viewer, endpoint: str, status: int, program_id: str | None = None
) -> None:
    """Put a payer's, auditor's or regulator's read in the access log, as the API does
    (no log entry, no answer: a failure here raises, and the page is not shown)."""
    if who.key is None or who.key.role not in RECORDED_READERS:
        return
    params = request.query_params
    security(request).record_access(
        Access(
            key_id=who.key.key_id,
            role=who.key.role.value,
            method="GET",
            endpoint=endpoint,
            path=request.url.path,
            status=status,
            program_id=program_id,
            as_of=params.get("as_of") or None,
            known_at=params.get("known_at") or None,
            query=request.url.query[:2000],
        )
    )
