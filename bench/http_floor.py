"""The HTTP floor: the product's server stack doing nothing but store each event.

    python -m bench.http_floor --port N --database-url URL

A FastAPI app served by uvicorn as `wht serve` serves the product (one
process, `uvicorn.run` with the same log level), with one route,
`POST /v1/programs/{program_id}/events`, that takes the event's JSON and
saves it with the eventsourcing library's `Application.save` on a trivial
aggregate (`bench.floor.Trail`): nothing validated, judged, indexed or
chained. `GET /healthz` answers when it is up. The benchmark posts the same
events from the same clients to it and to `wht serve`:
`ingest_single_http_ratio` is the product's rate over this one's.
"""

from __future__ import annotations

import argparse
import threading
from datetime import date
from typing import Any
from uuid import UUID

from fastapi import Body, FastAPI
from fastapi.responses import JSONResponse

from bench.floor import Floor, Trail, library_env


def create_app(url: str) -> FastAPI:
    store = Floor(env=library_env(url))
    trails: dict[UUID, Trail] = {}
    guard = threading.Lock()  # one client owns each program; the dict is shared
    app = FastAPI()

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/v1/programs/{program_id}/events", status_code=201)
    def post_event(program_id: UUID, event: dict[str, Any] = Body(...)) -> JSONResponse:  # noqa: B008
        with guard:
            trail = trails.get(program_id)
        kind, event_id, data = event["type"], event["event_id"], event["data"]
        on = date.fromisoformat(event["occurred_on"])
        if trail is None:
            trail = Trail.start(program_id, kind, event_id, on, data)
            with guard:
                trails[program_id] = trail
        else:
            trail.record(kind, event_id, on, data)
        store.save(trail)
        return JSONResponse({"program_id": str(program_id), "version": trail.version}, 201)

    return app


def main() -> None:
    import uvicorn

    args = argparse.ArgumentParser(description="the benchmark's HTTP floor")
    args.add_argument("--host", default="127.0.0.1")
    args.add_argument("--port", type=int, required=True)
    args.add_argument("--database-url", required=True)
    options = args.parse_args()
    uvicorn.run(
        create_app(options.database_url), host=options.host, port=options.port, log_level="info"
    )


if __name__ == "__main__":
    main()
