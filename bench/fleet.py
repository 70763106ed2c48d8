"""Phase 7, fleet: two `wht serve --no-projection` and one `wht project` on one PostgreSQL.

PostgreSQL only (on SQLite the phase is skipped, with a note): two servers
without their projection thread and one projector process on the same fresh
database; 8 client threads (split across the two servers, each owning its
programs) post single events for `Plan.fleet_seconds`. Reported:

- ingest: events accepted (201) over the seconds the clients ran, p50/p99 of
  the requests' latencies;
- the read model's lag, sampled every `SAMPLE_EVERY` seconds while the clients
  run and once more as they finish (see `Lag`): in events (the latest
  notification id minus the read model's position) and in seconds (how long
  ago the oldest event not yet projected was first seen in the log), at the
  end and at its worst; then `catch_up_s`, the seconds from the clients'
  finishing until the read model's position reaches the latest id of that
  moment;
- each process's peak RSS and CPU seconds.

The projector is `FLEET_PROJECT` when `wht project --help` offers
`--partitions`, else plain `wht project` (one partition), which the JSON says.
"""

from __future__ import annotations

import bisect
import os
import re
import subprocess
import threading
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from bench.ingest import encoded, hammer
from bench.stores import (
    Stores,
    cpu_seconds,
    own_cpu,
    peak_rss_mib,
    served,
    spawned,
    store_process_env,
    wht_command,
    worker_children,
)
from bench.workload import Plan, body, by_date, programs

FLEET_PROJECT = ["project", "--partitions", "2"]
FLEET_SERVERS = 2
SAMPLE_EVERY = 0.5  # seconds between samples of the read model's lag
CATCH_UP_POLL = 0.1  # seconds between looks at the position after the clients finish
CATCH_UP_LIMIT_S = 300.0  # give up waiting for the read model after this long
READY_LIMIT_S = 60.0  # how long the projector may take to say it projects


def project_command() -> tuple[list[str], int, str | None]:
    """`FLEET_PROJECT` if this `wht project` takes `--partitions`, else plain `project`:
    the arguments, the partitions, and a note when it fell back."""
    shown = subprocess.run(
        [*wht_command(), "project", "--help"],
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": "200", "NO_COLOR": "1"},
        timeout=60,
        check=False,
    )
    if "--partitions" in shown.stdout:
        return FLEET_PROJECT, int(FLEET_PROJECT[FLEET_PROJECT.index("--partitions") + 1]), None
    note = (
        f"`wht {' '.join(FLEET_PROJECT)}` is not available (`wht project --help` does not "
        "offer --partitions): ran plain `wht project`, one partition"
    )
    return ["project"], 1, note


class Lag:
    """How far the read model is behind the log, read from the database directly.

    latest: the largest notification id in the events table (`<name>_events`).
    position: the read model's position, the smallest of the positions tracked
    in the read model's tracking table (`<name>_tracking`, the library's table
    of `tracker.factory.tracking_recorder(...)`) under the application names
    that start with the tracker's name (one per partition), other than the alert
    follower's (`wht.alerts`, in the same table); 0 while fewer names than
    partitions have tracked anything.
    lag in events: latest - position.
    lag in seconds: the age of the oldest event not yet projected (id position + 1),
    taken as now minus the time of the first sample that saw the latest id reach
    it. Samples are `SAMPLE_EVERY` apart, so this is short of the truth by up to
    one interval (the event was recorded at most that long before it was seen).
    """

    def __init__(self, url: str, partitions: int) -> None:
        import psycopg

        from service.application import Tracker
        from service.notify.store import TRACKING_NAME

        self.name = Tracker.name
        self.others = {TRACKING_NAME}  # not the read model's
        self.partitions = partitions
        self.conn = psycopg.connect(url, autocommit=True, connect_timeout=10)
        self.began = time.perf_counter()
        self.seen_at: list[float] = []  # when each sample was taken (perf_counter)
        self.seen_latest: list[int] = []  # the latest id it saw (never decreasing)
        self.series: list[list[float]] = []  # [t_s, latest, position, events, seconds]
        self.tracked: dict[str, int] = {}
        self.guard = threading.Lock()

    def close(self) -> None:
        self.conn.close()

    def latest(self) -> int:
        row = self.conn.execute(f"SELECT MAX(notification_id) FROM {self.name}_events").fetchone()
        return int(row[0]) if row and row[0] is not None else 0

    def position(self) -> int:
        import psycopg

        try:
            rows = self.conn.execute(
                f"SELECT application_name, MAX(notification_id) FROM {self.name}_tracking "
                "WHERE application_name LIKE %s GROUP BY application_name",
                (f"{self.name}%",),
            ).fetchall()
        except psycopg.errors.UndefinedTable:
            return 0  # the projector has not created its tables yet
        self.tracked = {str(name): int(at) for name, at in rows if name not in self.others}
        if len(self.tracked) < self.partitions:
            return 0
        return min(self.tracked.values())

    def sample(self) -> dict[str, float]:
        """One look: latest, position, and the lag in events and seconds now."""
        with self.guard:
            position = self.position()
            latest = self.latest()  # after the position: never behind it
            now = time.perf_counter()
            if not self.seen_latest or latest > self.seen_latest[-1]:
                self.seen_at.append(now)
                self.seen_latest.append(latest)
            behind = max(latest - position, 0)
            seconds = 0.0
            if behind:
                first = bisect.bisect_left(self.seen_latest, position + 1)
                seconds = round(now - self.seen_at[first], 3)  # as in the series
            self.series.append([round(now - self.began, 3), latest, position, behind, seconds])
            return {"latest": latest, "position": position, "events": behind, "seconds": seconds}

    def follow(self, stop: threading.Event, errors: list[BaseException]) -> None:
        """Sample every `SAMPLE_EVERY` seconds until `stop` is set (a thread's target)."""
        try:
            while not stop.is_set():
                began = time.perf_counter()
                self.sample()
                stop.wait(max(SAMPLE_EVERY - (time.perf_counter() - began), 0.0))
        except BaseException as error:
            errors.append(error)


def skipped(stores: Stores) -> dict[str, Any]:
    return {
        "skipped": True,
        "note": "fleet runs on PostgreSQL only (two `wht serve --no-projection` and one "
        f"`wht project` on one database); this run's stores are {stores.kind}",
    }


def fleet(stores: Stores, plan: Plan, logs: Path) -> dict[str, Any]:
    if stores.kind != "postgresql":
        return skipped(stores)
    project, partitions, note = project_command()
    groups = programs(seed=77, count=plan.fleet_events // 12 + plan.clients, lengths=(6, 20))
    share = plan.fleet_events // plan.clients
    clients = [by_date(groups[i :: plan.clients])[:share] for i in range(plan.clients)]
    lanes = [[(f"/v1/programs/{e[0]}/events", encoded(body(e))) for e in c] for c in clients]
    url = stores.fresh("fleet")
    with ExitStack() as stack:
        # One after the other: the first creates the tables on the fresh database.
        servers = [
            stack.enter_context(served(url, logs / f"serve-fleet-{n}.log", projection=False))
            for n in range(1, FLEET_SERVERS + 1)
        ]
        project_log = logs / "project-fleet.log"
        projector = stack.enter_context(
            spawned([*wht_command(), *project], store_process_env(url), project_log)
        )
        ready_s = wait_ready(projector, project_log, partitions)
        lag = Lag(url, partitions)
        stack.callback(lag.close)
        pids = {f"serve_{n}": s.pid for n, s in enumerate(servers, start=1)}
        pids["project"] = projector.pid
        for n, worker in enumerate(worker_children(projector.pid), start=1):
            pids[f"project_worker_{n}"] = worker  # --partitions N: the workers do the work
        cpu_before = {name: cpu_seconds(pid) for name, pid in pids.items()}
        mine = own_cpu()
        stop, errors = threading.Event(), list[BaseException]()
        sampler = threading.Thread(target=lag.follow, args=(stop, errors), daemon=True)
        sampler.start()
        try:
            ingest = hammer([s.base for s in servers], lanes, plan.fleet_seconds, 201)
            finished = time.perf_counter()
        finally:
            stop.set()
            sampler.join()
        if errors:
            raise RuntimeError(f"sampling the read model's lag failed: {errors[0]!r}")
        end = lag.sample()  # as the clients finished
        cpu_finished = {name: cpu_seconds(pid) for name, pid in pids.items()}
        ingest["client_cpu_s"] = own_cpu() - mine
        caught_up_s = catch_up(lag, int(end["latest"]), finished, projector, project_log)
        rows = lag.series
        lag_result = {
            "sample_every_s": SAMPLE_EVERY,
            "samples": len(rows),
            "events_end": end["events"],
            "seconds_end": end["seconds"],
            "events_worst": max(int(r[3]) for r in rows),
            "seconds_worst": max(r[4] for r in rows),
            "latest_end": end["latest"],
            "position_end": end["position"],
            "catch_up_s": caught_up_s,
            "caught_up": caught_up_s is not None,
            "catch_up_limit_s": CATCH_UP_LIMIT_S,
            "tracking": lag.tracked,  # the read model's names and positions at the end
            "series_columns": ["t_s", "latest", "position", "lag_events", "lag_s"],
            "series": rows,
        }
        processes = {
            name: {
                "peak_rss_mib": peak_rss_mib(pid),
                "cpu_s_run": cpu_finished[name] - cpu_before[name],
                "cpu_s_catch_up": cpu_seconds(pid) - cpu_finished[name],
                "cpu_s_total": cpu_seconds(pid),
            }
            for name, pid in pids.items()
        }
    result: dict[str, Any] = {
        "skipped": False,
        "servers": FLEET_SERVERS,
        "clients": plan.clients,
        "seconds_planned": plan.fleet_seconds,
        "events_available": sum(len(c) for c in clients),
        "serve_command": "wht serve --no-projection",
        "project_command": "wht " + " ".join(project),
        "partitions": partitions,
        "projector_ready_s": ready_s,
        "ingest": ingest,
        "lag": lag_result,
        "processes": processes,
        "definitions": DEFINITIONS,
    }
    if note:
        result["note"] = note
    return result


DEFINITIONS = {
    "ingest.events_per_s": "events accepted (201) by both servers over the seconds the "
    "8 clients ran",
    "lag.events": "latest notification id minus the read model's position (the smallest "
    "position tracked under the tracker's names in its tracking table, not the alert "
    "follower's)",
    "lag.seconds": "now minus when the sampler first saw the latest id reach the oldest "
    "event not yet projected (position + 1); short by up to one sample interval",
    "lag.series": "every sample: [seconds since the sampler started (just before the "
    "clients), latest, position, lag in events, lag in seconds]",
    "lag.*_end": "the sample taken as the clients finished",
    "lag.*_worst": "the largest of the samples taken every sample_every_s while the "
    "clients ran, and the end sample",
    "lag.catch_up_s": "seconds from the clients' finishing until the position reached "
    "latest_end (polled every 0.1 s); null if not within catch_up_limit_s",
    "processes.cpu_s_run": "CPU seconds (user + system) while the clients ran",
    "processes.cpu_s_catch_up": "CPU seconds from the clients' finishing to the catch-up's end",
    "processes.cpu_s_total": "CPU seconds from the process's start to the catch-up's end",
    "processes.peak_rss_mib": "peak resident set size (VmHWM) at the catch-up's end",
}


ACTIVE_PARTITION = re.compile(r"projection partition (\S+) active")


def wait_ready(projector: subprocess.Popen[bytes], log: Path, partitions: int = 1) -> float | None:
    """Seconds until the projector logs that it projects (`projection active`, or with
    partitions `projection partition k/P active` for each of them); None if it did not
    say so within `READY_LIMIT_S` (the run goes on)."""
    began = time.perf_counter()
    while time.perf_counter() - began < READY_LIMIT_S:
        if projector.poll() is not None:
            raise RuntimeError(f"`wht project` exited ({projector.returncode}); see {log}")
        text = log.read_text(errors="replace")
        if "projection active" in text or len(set(ACTIVE_PARTITION.findall(text))) >= partitions:
            return time.perf_counter() - began
        time.sleep(0.1)
    return None


def catch_up(
    lag: Lag, target: int, since: float, projector: subprocess.Popen[bytes], log: Path
) -> float | None:
    """Seconds from `since` until the read model's position reaches `target`; None if
    not within `CATCH_UP_LIMIT_S`."""
    while True:
        with lag.guard:
            position = lag.position()
        now = time.perf_counter()
        if position >= target:
            return now - since
        if now - since > CATCH_UP_LIMIT_S:
            return None
        if projector.poll() is not None:
            raise RuntimeError(f"`wht project` exited ({projector.returncode}); see {log}")
        time.sleep(CATCH_UP_POLL)
