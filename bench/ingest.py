"""Phases 1 and 2: ingestion over HTTP against the library saving the same events.

ingest_single: single-event POSTs from 8 concurrent clients to `wht serve`;
floor: the same events, one `Application.save` each, from 8 threads; HTTP
floor: the same clients posting to `bench.http_floor` (the same server stack
whose route only saves each event with `Application.save`).
ingest_batch: POST /v1/events in batches of 500 from one client; floor: the
same events saved in batches of 500, one `Application.save` a batch.
"""

from __future__ import annotations

import contextlib
import json
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx

from bench import floor
from bench.stores import Stores, best, own_cpu, percentile, served
from bench.workload import Event, Plan, body, by_date, programs


def encoded(payload: Any) -> bytes:
    return json.dumps(payload, separators=(",", ":")).encode()


JSON = {"content-type": "application/json"}


def projection_lag(url: str) -> dict[str, int]:
    """How far the served read model was behind the log when the clients finished (the
    projection runs in `wht serve`, beside the requests, and catches up afterwards)."""
    from api.bootstrap import build_tracker
    from service.readmodel import partitions
    from service.readmodel.runner import open_read_model

    tracker = build_tracker(url, cipher_key="")
    try:
        latest = tracker.recorder.max_notification_id() or 0
        projected = partitions.position(open_read_model(tracker), tracker.name)
    finally:
        tracker.close()
    return {"latest": latest, "projected": projected, "behind": latest - projected}


# ---- 1. single-event ingestion ----


def post_single(
    base: str | Sequence[str], clients: Sequence[Sequence[Event]], seconds: float
) -> dict[str, Any]:
    """Each client posts its events one by one, in order; all start together."""
    lanes = [[(f"/v1/programs/{e[0]}/events", encoded(body(e))) for e in c] for c in clients]
    return hammer(base, lanes, seconds, 201)


def hammer(
    base: str | Sequence[str],
    lanes: Sequence[Sequence[tuple[str, bytes | None]]],
    seconds: float,
    status: int,
) -> dict[str, Any]:
    """One client thread per lane sends its requests in order (POST with a body, GET
    without); all start together and stop after `seconds`. Rate and latencies. Given
    several bases (servers), lane i sends to base i modulo their number."""
    bases = [base] if isinstance(base, str) else list(base)
    latencies: list[list[float]] = [[] for _ in lanes]
    failures: list[str] = []
    barrier = threading.Barrier(len(lanes) + 1)
    stop = [float("inf")]

    def run(index: int) -> None:
        try:
            send(index)
        except Exception as error:  # a refused connection, a timeout: the run fails
            failures.append(f"client {index}: {error!r}")
            barrier.abort()  # nobody waits for a client that is gone

    def send(index: int) -> None:
        with httpx.Client(base_url=bases[index % len(bases)], timeout=120) as http:
            http.get("/healthz")  # the connection is open before the clock starts
            barrier.wait()
            for path, content in lanes[index]:
                if time.perf_counter() > stop[0]:
                    break
                began = time.perf_counter()
                if content is None:
                    answer = http.get(path)
                else:
                    answer = http.post(path, content=content, headers=JSON)
                latencies[index].append(time.perf_counter() - began)
                if answer.status_code != status:
                    failures.append(f"{answer.status_code} {answer.text[:300]}")

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(lanes))]
    for thread in threads:
        thread.start()
    stop[0] = time.perf_counter() + seconds
    with contextlib.suppress(threading.BrokenBarrierError):
        barrier.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - began
    if failures:
        raise RuntimeError(f"{len(failures)} requests failed; first: {failures[0]}")
    flat = [x for lane in latencies for x in lane]
    return {
        "events": len(flat),
        "seconds": elapsed,
        "events_per_s": len(flat) / elapsed,
        "p50_ms": percentile(flat, 50),
        "p99_ms": percentile(flat, 99),
    }


def ingest_single(stores: Stores, plan: Plan, logs: Path, projection: bool) -> dict[str, Any]:
    groups = programs(seed=11, count=plan.single_events // 12 + plan.clients, lengths=(6, 20))
    clients = [by_date(groups[i :: plan.clients]) for i in range(plan.clients)]
    share = plan.single_events // plan.clients
    clients = [c[:share] for c in clients]  # a prefix of each client's day-by-day stream
    with served(stores.fresh("single"), logs / "serve-single.log", projection=projection) as server:
        # Context, not a floor: the HTTP stack's own rate for a request that does nothing.
        noop = hammer(
            server.base, [[("/healthz", None)] * share] * plan.clients, plan.single_seconds, 200
        )
        before, mine = server.cpu(), own_cpu()
        product = post_single(server.base, clients, plan.single_seconds)
        product["server_cpu_s"], product["client_cpu_s"] = server.cpu() - before, own_cpu() - mine
        product["read_model"] = projection_lag(server.url)
        product["server_peak_rss_mib"] = server.peak_rss_mib()
    lib = best(plan.floor_runs, lambda: floor.save_single(stores.fresh("single-floor"), clients))
    http_floor = best(plan.floor_runs, lambda: post_to_http_floor(stores, plan, logs, clients))
    sequential = best(
        1,
        lambda: floor.save_single(
            stores.fresh("single-floor-seq"), [[e for c in clients for e in c]]
        ),
    )
    return {
        "clients": plan.clients,
        "projection": projection,
        "product": product,
        "floor": lib,
        "ratio": product["events_per_s"] / lib["events_per_s"],
        "http_floor": http_floor,
        "http_ratio": product["events_per_s"] / http_floor["events_per_s"],
        "readmodel_lag_events": product["read_model"]["behind"],
        "floor_one_thread": sequential,
        "http_noop": noop,
    }


def post_to_http_floor(
    stores: Stores, plan: Plan, logs: Path, clients: Sequence[Sequence[Event]]
) -> dict[str, Any]:
    """The same clients and events against the HTTP floor (`bench.http_floor`), on a
    fresh store of the same kind."""
    url = stores.fresh("single-http-floor")
    command = [sys.executable, "-m", "bench.http_floor", "--database-url", url]
    with served(url, logs / "serve-http-floor.log", command=command) as server:
        cpu = server.cpu()
        result = post_single(server.base, clients, plan.single_seconds)
        result["server_cpu_s"] = server.cpu() - cpu
        result["server_peak_rss_mib"] = server.peak_rss_mib()
    return result


# ---- 2. batch ingestion ----


def ingest_batch(stores: Stores, plan: Plan, logs: Path, projection: bool) -> dict[str, Any]:
    groups = programs(seed=22, count=plan.batch_events // 12 + 1, lengths=(6, 20))
    events = by_date(groups)[: plan.batch_events]
    chunks = [events[i : i + plan.batch_size] for i in range(0, len(events), plan.batch_size)]
    payloads = [encoded({"events": [body(e, with_program=True) for e in c]}) for c in chunks]
    latencies: list[float] = []
    sent = 0
    with (
        served(stores.fresh("batch"), logs / "serve-batch.log", projection=projection) as server,
        httpx.Client(base_url=server.base, timeout=600) as http,
    ):
        http.get("/healthz")
        cpu = server.cpu()
        began = time.perf_counter()
        for chunk, payload in zip(chunks, payloads, strict=True):
            if time.perf_counter() - began > plan.batch_seconds:
                break
            start = time.perf_counter()
            answer = http.post("/v1/events", content=payload, headers=JSON)
            latencies.append(time.perf_counter() - start)
            if answer.status_code != 201:
                raise RuntimeError(f"batch POST failed: {answer.status_code} {answer.text[:300]}")
            sent += len(chunk)
        elapsed = time.perf_counter() - began
        cpu = server.cpu() - cpu
        lag = projection_lag(server.url)
        rss = server.peak_rss_mib()
    product = {
        "events": sent,
        "seconds": elapsed,
        "events_per_s": sent / elapsed,
        "batch_p50_ms": percentile(latencies, 50),
        "server_cpu_s": cpu,
        "read_model": lag,
        "server_peak_rss_mib": rss,
    }
    lib = best(
        plan.floor_runs,
        lambda: floor.save_batches(stores.fresh("batch-floor"), events[:sent], plan.batch_size),
    )
    return {
        "batch_size": plan.batch_size,
        "product": product,
        "floor": lib,
        "ratio": product["events_per_s"] / lib["events_per_s"],
        "readmodel_lag_events": lag["behind"],
    }
