"""Query strings the service refuses before any route runs: 422, the same on every store.

- A control character (NUL above all) in a query parameter: PostgreSQL cannot
  hold a NUL, so a filter with one failed as "store unavailable" (503, and the
  client retried forever) while SQLite took it. No parameter needs one.
- A parameter the route does not take, on the API (`/v1`): a typo (`asof=`)
  would otherwise be ignored silently, and the access log would keep whatever
  was sent in clear. The web pages read a few form fields of their own and are
  left alone.
"""

from __future__ import annotations

from fastapi import Request
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from domain.errors import InvalidQuery
from domain.events import CONTROL


def _query_names(dependant: Dependant) -> set[str]:
    # The route's own query parameters and those of every dependency it has.
    names = {param.alias for param in dependant.query_params}
    for sub in dependant.dependencies:
        names |= _query_names(sub)
    return names


def _declared(route: APIRoute) -> frozenset[str]:
    cached: frozenset[str] | None = getattr(route, "_wht_query_names", None)
    if cached is None:
        cached = frozenset(_query_names(route.dependant))
        route._wht_query_names = cached  # type: ignore[attr-defined]
    return cached


def clean_query(request: Request) -> None:
    """Refuse control characters in the path or query, and unknown `/v1` parameters."""
    bad = [
        {"loc": ["query", name], "msg": "contains a control character (such as NUL)"}
        for name, value in request.query_params.multi_items()
        if not CONTROL.isdisjoint(name) or not CONTROL.isdisjoint(value)
    ]
    if not CONTROL.isdisjoint(request.url.path):
        bad.append({"loc": ["path"], "msg": "contains a control character (such as NUL)"})
    if bad:
        raise InvalidQuery("Control characters cannot be part of a request.", bad)
    route = request.scope.get("route")
    if isinstance(route, APIRoute) and request.url.path.startswith("/v1/"):
        declared = _declared(route)
        unknown = sorted({name for name in request.query_params if name not in declared})
        if unknown:
            takes = ", ".join(sorted(declared)) or "none"
            raise InvalidQuery(
                f"Unknown query parameter(s): {', '.join(unknown)}. This endpoint takes: {takes}.",
                [{"loc": ["query", name], "msg": "unknown query parameter"} for name in unknown],
            )
