"""The FastAPI application: routers, problem+json errors, the tracker on app.state."""

from __future__ import annotations

import importlib
import pkgutil

from fastapi import FastAPI

from api import problems, routers
from api.limits import BodySizeLimit
from domain.application import Tracker


def router_modules() -> list[str]:
    """Every module in api/routers that defines a `router`, in name order."""
    return sorted(m.name for m in pkgutil.iter_modules(routers.__path__))


def create_app(tracker: Tracker) -> FastAPI:
    app = FastAPI(
        title="Work hardening compliance tracker",
        version="0.1.0",
        description="Records work hardening programs as events and derives their compliance "
        "with the payer's policy (Optum 481), at any business date and any known-at instant.",
    )
    app.state.tracker = tracker
    problems.install(app)
    app.add_middleware(BodySizeLimit)
    for name in router_modules():
        module = importlib.import_module(f"api.routers.{name}")
        if hasattr(module, "router"):
            app.include_router(module.router)

    @app.get("/healthz", tags=["ops"])
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app
