"""The FastAPI application: routers, problem+json errors, the tracker on app.state."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI
from fastapi_offline import FastAPIOffline

from api import problems, tool_version
from api.auth import install_auth
from api.commands.notify import notifier_for
from api.hygiene import clean_query
from api.limits import BodySizeLimit
from api.metrics import Metrics
from api.openapi import install_openapi, operation_id
from api.routers import (
    access_log,
    audit,
    digest,
    due,
    ingest,
    ops,
    policies,
    programs,
    regulator,
    ui,
)
from api.routers.subscriptions import router as subscriptions_router
from api.settings import Settings
from api.telemetry import Telemetry
from service.application import Tracker
from service.notify import Notifier, open_alert_store
from service.readmodel.runner import ReadModelRunner, open_read_model
from service.readmodel.scaleout import PartitionsRunner, make_runner

# Every router, in the order their routes are matched and documented.
ROUTERS = [
    access_log.router,
    audit.router,
    digest.router,
    due.router,
    ingest.router,
    policies.router,
    programs.router,
    regulator.router,
    subscriptions_router,
    ui.router,
    ops.router,
]


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Run the read model's projection (and the alerts) beside the API, from startup to
    shutdown: once per app, however many servers or clients start it (two threads of
    one runner would race each other's caches and tracking)."""
    runner: ReadModelRunner | PartitionsRunner | None = app.state.projection
    notifier: Notifier | None = app.state.notifier
    app.state.lifespans = getattr(app.state, "lifespans", 0) + 1
    if app.state.lifespans == 1:
        if runner is not None:
            runner.start()
        if notifier is not None:
            notifier.start()
    try:
        yield
    finally:
        app.state.lifespans -= 1
        if app.state.lifespans == 0:
            if notifier is not None:
                notifier.stop()
            if runner is not None:
                runner.stop()


def create_app(
    tracker: Tracker,
    *,
    settings: Settings | None = None,
    projection: bool = True,
    read_model_wait: float = 5.0,
    notify: bool = False,
) -> FastAPI:
    """The API on `tracker`. With `projection`, the regulator's read model is kept up to
    date by a background thread (`wht serve --no-projection` leaves it to `wht project`);
    its list waits up to `read_model_wait` seconds for the projection to catch up. With
    `notify`, alerts are delivered by a background thread too (`wht serve` does so unless
    `--no-notify`; `wht notify` alone otherwise).
    `settings` are the process's (`wht serve` passes its own); read here when not given."""
    # /docs and /redoc from the swagger-ui and redoc files fastapi-offline ships: no CDN.
    app = FastAPIOffline(
        lifespan=lifespan,
        dependencies=[Depends(clean_query)],
        generate_unique_id_function=operation_id,
        title="Work hardening compliance tracker",
        version=tool_version(),
        description="Records work hardening programs as events and derives their compliance "
        "with the payer's policy (Optum 481), at any business date and any known-at instant.",
    )
    app.state.settings = settings if settings is not None else Settings()
    app.state.tracker = tracker
    app.state.read_model = open_read_model(tracker)
    app.state.read_model_wait = read_model_wait
    # With the read model in partitions, the thread takes whichever partitions are free.
    app.state.projection = make_runner(tracker, app.state.read_model) if projection else None
    app.state.alert_store = open_alert_store(tracker)
    app.state.notifier = (
        notifier_for(tracker, app.state.settings, app.state.alert_store) if notify else None
    )
    problems.install(app)
    install_openapi(app)
    for router in ROUTERS:
        app.include_router(router)
    install_auth(app, tracker)
    # Outside the guard: a body declared too large is refused before anything reads it
    # (the guard reads a provider's events to check the programs are its own).
    app.add_middleware(BodySizeLimit)
    # Outermost: every answer, the guard's 401/403 too, gets its request id and is counted.
    app.state.metrics = Metrics(tracker, app.state.read_model)
    app.add_middleware(Telemetry, metrics=app.state.metrics, routes=app)
    return app
