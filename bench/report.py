"""The benchmark's report: the machine it ran on, the headline ratios, the terminal table."""

from __future__ import annotations

import os
import platform
import shutil
import sqlite3
import subprocess
import sys
from dataclasses import asdict
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parent.parent

# name -> (comparison, bound): ">=" means the figure should be at least the bound.
# Issue 13's targets; `ingest_single_ratio` keeps the first target it had (against
# the library in-process, which no HTTP server reaches: see ingest_single_http_ratio).
TARGETS: dict[str, tuple[str, float]] = {
    "ingest_single_ratio": (">=", 0.5),
    "ingest_single_http_ratio": (">=", 0.5),
    "ingest_batch_ratio": (">=", 0.25),
    "readmodel_lag_events": ("<=", 500),
    "known_at_ratio": ("<=", 2.0),
    "regulator_p95_ms": ("<=", 100.0),
    "rebuild_ratio": (">=", 0.25),
    "replay_growth": ("<=", 15.0),
    # Issue 21's (one fold): the cost of an event and of a read, whatever the program's length.
    "ingest_growth": ("<=", 1.5),
    "compliance_growth": ("<=", 2.0),
}


def _memory() -> str:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    except OSError:
        pass
    return "unknown"


def _cpu() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _git() -> str:
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=ROOT,
            text=True,
            capture_output=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain"], cwd=ROOT, text=True, capture_output=True, check=True
        ).stdout.strip()
        return head + (" (with uncommitted changes)" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def _postgres_version(stores: Any) -> str | None:
    if stores.kind != "postgresql":
        return None
    import psycopg

    with psycopg.connect(stores.admin, connect_timeout=10) as conn:
        row = conn.execute("SHOW server_version").fetchone()
    return str(row[0]) if row else None


def _package(name: str) -> str:
    try:
        return version(name)
    except PackageNotFoundError:
        return "unknown"


def machine(stores: Any, quick: bool, plan: Any, argv: list[str]) -> dict[str, Any]:
    """What the figures depend on besides the code: machine, versions, store, date."""
    return {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": " ".join(argv),
        "quick": quick,
        "store": stores.kind,
        "store_detail": stores.describe(),
        "cpus": os.cpu_count(),
        "cpu_model": _cpu(),
        "memory": _memory(),
        "os": platform.platform(),
        "python": sys.version.split()[0],
        "sqlite": sqlite3.sqlite_version,
        "postgresql": _postgres_version(stores),
        "eventsourcing": _package("eventsourcing"),
        "git": _git(),
        "plan": asdict(plan),
    }


def summary(results: dict[str, Any]) -> dict[str, Any]:
    """The headline figures (top-level keys of the JSON) and whether each meets its target."""
    out: dict[str, Any] = {}
    if "ingest_single" in results:
        out["ingest_single_ratio"] = results["ingest_single"]["ratio"]
        out["ingest_single_http_ratio"] = results["ingest_single"]["http_ratio"]
    if "ingest_batch" in results:
        out["ingest_batch_ratio"] = results["ingest_batch"]["ratio"]
    lags = [
        results[p]["readmodel_lag_events"]
        for p in ("ingest_single", "ingest_batch")
        if p in results
    ]
    if lags:
        out["readmodel_lag_events"] = max(lags)
    if "replay" in results:
        out["replay_growth"] = results["replay"]["growth"]
    if "growth" in results:
        out["ingest_growth"] = results["growth"]["ingest_growth"]
        out["compliance_growth"] = results["growth"]["compliance_growth"]
    out["peak_rss_mib"] = {
        name: value
        for name, value in (
            (
                "serve_ingest_single",
                _get(results, "ingest_single", "product", "server_peak_rss_mib"),
            ),
            ("serve_ingest_batch", _get(results, "ingest_batch", "product", "server_peak_rss_mib")),
            ("serve_regulator", _get(results, "regulator", "server_peak_rss_mib")),
            ("rebuild", _get(results, "rebuild", "product", "peak_rss_mib")),
            ("http_floor", _get(results, "ingest_single", "http_floor", "server_peak_rss_mib")),
            *(
                (f"fleet_{name}", _get(results, "fleet", "processes", name, "peak_rss_mib"))
                for name in sorted((_get(results, "fleet", "processes") or {}).keys())
            ),
        )
        if value is not None
    }
    fleet = results.get("fleet")
    if fleet and not fleet["skipped"]:
        out["fleet_events_per_s"] = fleet["ingest"]["events_per_s"]
        out["fleet_lag_events_worst"] = fleet["lag"]["events_worst"]
        out["fleet_lag_events_end"] = fleet["lag"]["events_end"]
        out["fleet_lag_s_worst"] = fleet["lag"]["seconds_worst"]
        out["fleet_catch_up_s"] = fleet["lag"]["catch_up_s"]
    if "known_at" in results:
        out["known_at_ratio"] = results["known_at"]["ratio"]
    if "regulator" in results:
        out["regulator_p50_ms"] = results["regulator"]["p50_ms"]
        out["regulator_p95_ms"] = results["regulator"]["p95_ms"]
    if "rebuild" in results:
        out["rebuild_ratio"] = results["rebuild"]["ratio"]
        parallel = results["rebuild"].get("workers")
        if parallel is not None:
            out["rebuild_workers_ratio"] = parallel["ratio"]
    targets = {}
    for name, (op, bound) in TARGETS.items():
        if name in out:
            value = out[name]
            targets[name] = {
                "target": f"{op} {bound:g}",
                "value": value,
                "met": value >= bound if op == ">=" else value <= bound,
            }
    out["targets"] = targets
    return out


def _get(results: dict[str, Any], *path: str) -> Any:
    found: Any = results
    for name in path:
        if not isinstance(found, dict) or name not in found:
            return None
        found = found[name]
    return found


def _rss(value: float | None) -> str:
    return "" if value is None else f"\npeak RSS {value:,.0f} MiB"


def _rate(x: dict[str, Any]) -> str:
    return f"{x['events_per_s']:,.0f} ev/s ({x['events']:,} in {x['seconds']:.1f} s)"


def _behind(product: dict[str, Any]) -> str:
    lag = product.get("read_model")
    if not lag:
        return ""
    return f"\nread model {lag['behind']:,} events behind at the end"


def _verdict(name: str, value: float) -> str:
    op, bound = TARGETS[name]
    met = value >= bound if op == ">=" else value <= bound
    return f"{op} {bound:g}: " + ("[green]met[/]" if met else "[red]missed[/]")


def _met(results: dict[str, Any], name: str) -> str:
    t = results["targets"].get(name)
    return "" if t is None else _verdict(name, t["value"])


def _fleet_rows(table: Table, fleet: dict[str, Any]) -> None:
    if fleet["skipped"]:
        table.add_row("fleet", f"skipped: {fleet['note']}", "", "", "")
        return
    i, lag, procs = fleet["ingest"], fleet["lag"], fleet["processes"]
    setup = (
        f"{fleet['servers']} x {fleet['serve_command']}, {fleet['clients']} clients;\n"
        f"{fleet['project_command']} ({fleet['partitions']} partition"
        f"{'s' if fleet['partitions'] != 1 else ''})"
    )
    if fleet.get("note"):
        setup += "\n[yellow]no --partitions: one partition[/]"
    table.add_row(
        "fleet ingest",
        f"{_rate(i)}\np50 {i['p50_ms']:.1f} ms, p99 {i['p99_ms']:.1f} ms",
        setup,
        f"{i['events_per_s']:,.0f} ev/s",
        "",
    )
    caught = (
        f"caught up {lag['catch_up_s']:.1f} s after the clients"
        if lag["caught_up"]
        else f"not caught up within {lag['catch_up_limit_s']:g} s"
    )
    table.add_row(
        "fleet read model lag",
        f"end {lag['events_end']:,} events, {lag['seconds_end']:.1f} s\n"
        f"worst {lag['events_worst']:,} events, {lag['seconds_worst']:.1f} s\n{caught}",
        "\n".join(
            f"{name}: peak RSS {p['peak_rss_mib'] or 0:,.0f} MiB, CPU {p['cpu_s_run']:.1f} s"
            for name, p in procs.items()
        ),
        f"worst {lag['events_worst']:,} ev",
        "",
    )


def print_table(results: dict[str, Any]) -> None:
    meta = results["meta"]
    table = Table(
        title=f"wht bench on {meta['store']} ({'quick' if meta['quick'] else 'full'}), "
        f"{meta['cpus']} cpus, {meta['date']}"
    )
    for column in ("phase", "product", "floor", "ratio / figure", "target"):
        table.add_column(column)
    if "ingest_single" in results:
        r = results["ingest_single"]
        p = r["product"]
        table.add_row(
            "ingest_single",
            f"{_rate(p)}\np50 {p['p50_ms']:.1f} ms, p99 {p['p99_ms']:.1f} ms{_behind(p)}"
            f"{_rss(p.get('server_peak_rss_mib'))}",
            _rate(r["floor"]),
            f"{r['ratio']:.3f}",
            _met(results, "ingest_single_ratio"),
        )
        h = r["http_floor"]
        table.add_row(
            "ingest_single over HTTP",
            _rate(p),
            f"HTTP floor {_rate(h)}{_rss(h.get('server_peak_rss_mib'))}",
            f"{r['http_ratio']:.3f}",
            _met(results, "ingest_single_http_ratio"),
        )
    if "ingest_batch" in results:
        r = results["ingest_batch"]
        p = r["product"]
        table.add_row(
            "ingest_batch",
            f"{_rate(p)}\nbatch p50 {p['batch_p50_ms']:.0f} ms{_behind(p)}"
            f"{_rss(p.get('server_peak_rss_mib'))}",
            _rate(r["floor"]),
            f"{r['ratio']:.3f}",
            _met(results, "ingest_batch_ratio"),
        )
    if "known_at" in results:
        for size, row in results["known_at"]["sizes"].items():
            table.add_row(
                f"known_at ({size} events)",
                f"known_at p50 {row['known_at_p50_ms']:.2f} ms",
                f"now p50 {row['now_p50_ms']:.2f} ms",
                f"{row['ratio']:.2f}",
                _verdict("known_at_ratio", row["ratio"]),
            )
    if "regulator" in results:
        r = results["regulator"]
        table.add_row(
            "regulator",
            f"p50 {r['p50_ms']:.1f} ms\np95 {r['p95_ms']:.1f} ms"
            f"{_rss(r.get('server_peak_rss_mib'))}",
            f"{r['programs']:,} programs, {r['events']:,} events",
            f"p95 {r['p95_ms']:.1f} ms",
            _met(results, "regulator_p95_ms"),
        )
    if "rebuild" in results:
        r = results["rebuild"]
        table.add_row(
            "rebuild",
            f"{_rate(r['product'])}{_rss(r['product'].get('peak_rss_mib'))}",
            _rate(r["floor"]),
            f"{r['ratio']:.3f}",
            _met(results, "rebuild_ratio"),
        )
        parallel = r.get("workers")
        if parallel is not None:
            w = parallel["product"]
            table.add_row(
                f"rebuild --workers {w['workers']}",
                f"{_rate(w)}\n{parallel['speedup']:.2f} x the plain rebuild",
                _rate(r["floor"]),
                f"{parallel['ratio']:.3f}",
                "",
            )
    if "readmodel_lag_events" in results:
        table.add_row(
            "read model lag",
            "events recorded minus the projector's position, end of each ingest phase",
            "",
            f"{results['readmodel_lag_events']:,}",
            _met(results, "readmodel_lag_events"),
        )
    if "fleet" in results:
        _fleet_rows(table, results["fleet"])
    if "replay" in results:
        r = results["replay"]
        small, large = r["sizes"]["100"], r["sizes"]["1000"]
        table.add_row(
            "replay (audit)",
            f"1,000 events: CPU {large['cpu_ms']:,.0f} ms (wall {large['wall_ms']:,.0f} ms)",
            f"100 events: CPU {small['cpu_ms']:,.0f} ms (wall {small['wall_ms']:,.0f} ms)",
            f"growth {r['growth']:.1f}",
            _met(results, "replay_growth"),
        )
    if "growth" in results:
        r = results["growth"]
        small, large = r["sizes"]["10"], r["sizes"]["1000"]
        for what, key in (("ingest", "ingest_cpu_ms"), ("compliance", "compliance_cpu_ms")):
            table.add_row(
                f"{what} growth",
                f"1,000 events: CPU {large[key]:.2f} ms a call",
                f"10 events: CPU {small[key]:.2f} ms a call",
                f"growth {r[f'{what}_growth']:.1f}",
                _met(results, f"{what}_growth"),
            )
    console = Console(width=max(shutil.get_terminal_size((140, 24)).columns, 100))
    console.print(table)
    console.print(f"total {meta['total_s']:.0f} s; store: {meta['store_detail']}")
