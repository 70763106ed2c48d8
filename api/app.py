"""The FastAPI application: routers, problem+json errors, the tracker on app.state."""

from __future__ import annotations

from fastapi import FastAPI

from api import problems
from api.routers import ingest, policies, programs
from domain.application import Tracker


def create_app(tracker: Tracker) -> FastAPI:
    app = FastAPI(
        title="Work hardening compliance tracker",
        version="0.1.0",
        description="Records work hardening programs as events and derives their compliance "
        "with the payer's policy (Optum 481), at any business date and any known-at instant.",
    )
    app.state.tracker = tracker
    problems.install(app)
    app.include_router(ingest.router)
    app.include_router(programs.router)
    app.include_router(policies.router)

    @app.get("/healthz", tags=["ops"])
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app
