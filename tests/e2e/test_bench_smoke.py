"""The benchmark runs end to end: `python -m bench --quick` on SQLite, as CI runs it,
and its fleet phase (PostgreSQL only) for 3 seconds on the live PostgreSQL.

A smoke test only: it checks that every phase ran and reported positive
figures, never how fast anything was (BENCHMARKS.md holds the numbers).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
HEADLINES = [
    "ingest_single_ratio",
    "ingest_single_http_ratio",
    "ingest_batch_ratio",
    "known_at_ratio",
    "regulator_p95_ms",
    "rebuild_ratio",
    "replay_growth",
    "ingest_growth",
    "compliance_growth",
]


def test_quick_benchmark_reports_every_ratio_and_the_figures_behind_them(
    tmp_path: Path,
) -> None:
    out = tmp_path / "bench.json"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench",
            "--quick",
            "--json",
            str(out),
            "--database-url",
            f"sqlite:///{tmp_path / 'stores' / 'bench.sqlite'}",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=420,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    results = json.loads(out.read_text())

    for key in HEADLINES:
        assert results[key] > 0, key
        assert key in results["targets"]
    for phase in ("ingest_single", "ingest_batch", "rebuild"):
        assert results[phase]["product"]["events_per_s"] > 0
        assert results[phase]["floor"]["events_per_s"] > 0
        assert results[phase]["product"]["events"] > 0
    assert results["ingest_single"]["product"]["p99_ms"] > 0
    assert set(results["known_at"]["sizes"]) == {"100", "500"}
    assert results["regulator"]["programs"] == 1000
    assert results["regulator"]["p50_ms"] > 0
    assert results["rebuild"]["product"]["events"] == results["regulator"]["events"]
    assert results["readmodel_lag_events"] >= 0
    assert "readmodel_lag_events" in results["targets"]
    assert results["ingest_single"]["http_floor"]["events_per_s"] > 0
    assert set(results["replay"]["sizes"]) == {"100", "1000"}
    assert results["replay"]["sizes"]["1000"]["steps"] == 1000
    growth = results["growth"]["sizes"]
    assert set(growth) == {"10", "1000"}
    for size in growth.values():
        assert size["ingests"] == 20 and size["reads"] == 15
        assert size["ingest_cpu_ms"] > 0 and size["compliance_cpu_ms"] > 0
    peaks = results["peak_rss_mib"]
    for process in ("serve_ingest_single", "serve_ingest_batch", "serve_regulator", "rebuild"):
        assert peaks[process] > 0, process
    assert results["fleet"]["skipped"] is True  # PostgreSQL only: a note, not an error
    assert "PostgreSQL only" in results["fleet"]["note"]
    assert not [key for key in results if key.startswith("fleet_")]
    assert results["meta"]["quick"] is True
    assert results["meta"]["store"] == "sqlite"
    assert "ingest_single" in done.stdout  # the table
    assert not list((tmp_path / "stores").glob("*.sqlite")), "stores are removed afterwards"


def test_fleet_phase_on_postgresql_reports_ingest_lag_and_each_process(tmp_path: Path) -> None:
    out = tmp_path / "fleet.json"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench",
            "--quick",
            "--phases",
            "fleet",
            "--fleet-seconds",
            "3",
            "--json",
            str(out),
            "--database-url",
            PG_ADMIN,
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=420,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    results = json.loads(out.read_text())
    fleet = results["fleet"]

    assert fleet["skipped"] is False
    assert fleet["servers"] == 2
    assert fleet["partitions"] in (1, 2)
    if fleet["partitions"] == 1:  # `wht project` without --partitions: said so
        assert fleet["project_command"] == "wht project"
        assert "--partitions" in fleet["note"]
    assert fleet["ingest"]["events"] > 0
    assert fleet["ingest"]["events_per_s"] > 0
    assert fleet["ingest"]["p99_ms"] >= fleet["ingest"]["p50_ms"] > 0
    lag = fleet["lag"]
    assert lag["samples"] >= 2
    assert lag["latest_end"] >= fleet["ingest"]["events"]  # every accepted event is in the log
    assert lag["events_worst"] >= lag["events_end"] >= 0
    assert lag["seconds_worst"] >= lag["seconds_end"] >= 0
    assert lag["caught_up"] is True
    assert lag["catch_up_s"] >= 0
    assert min(lag["tracking"].values()) >= lag["latest_end"]
    for process in ("serve_1", "serve_2", "project"):
        assert fleet["processes"][process]["peak_rss_mib"] > 0, process
        assert fleet["processes"][process]["cpu_s_total"] > 0, process
        assert fleet["processes"][process]["cpu_s_catch_up"] >= 0, process
        assert results["peak_rss_mib"][f"fleet_{process}"] > 0, process
    assert results["fleet_events_per_s"] > 0
    assert results["fleet_lag_events_worst"] >= results["fleet_lag_events_end"] >= 0
    assert results["fleet_catch_up_s"] >= 0
    assert "fleet ingest" in done.stdout  # the table
