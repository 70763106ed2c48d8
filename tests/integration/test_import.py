"""`wht import FILE.ndjson` on both stores: batches, resumption, bad lines.

The import feeds the file through `Tracker.ingest_batch` (the path of
POST /v1/events), so a rerun after an interruption recognises what is already
stored by event_id and stores only the rest.
"""

from __future__ import annotations

import json
import random
from datetime import date
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import pytest
from eventsourcing.persistence import OperationalError
from typer.testing import CliRunner, Result

import api.commands.importing as readmodel_commands
from api.cli import cli
from service.application import Tracker
from tests.histories import body, sample_program


@pytest.fixture(autouse=True)
def small_chunks(monkeypatch: pytest.MonkeyPatch, store_url: str) -> None:
    monkeypatch.setattr(readmodel_commands, "CHUNK", 10)
    monkeypatch.setenv("WHT_DATABASE_URL", store_url)


def lines(programs: int = 3) -> list[dict[str, Any]]:
    rnd = random.Random(5)
    found = []
    for _ in range(programs):
        pid = str(uuid4())
        start = date(2026, 2, 2)
        found += [{"program_id": pid, **e} for e in sample_program(rnd, "clinic-i", start)]
    return found


def write(path: Path, rows: list[dict[str, Any] | str]) -> Path:
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows))
    return path


def run(path: Path) -> Result:
    return CliRunner().invoke(cli, ["import", str(path)])


def stored(tracker: Tracker, rows: list[dict[str, Any]]) -> list[bool]:
    return [tracker.index.find_event(r["event_id"]) is not None for r in rows]


def test_a_file_goes_in_by_batches_and_a_second_run_stores_nothing_new(
    tracker: Tracker, tmp_path: Path
) -> None:
    rows = lines()
    path = write(tmp_path / "events.ndjson", [*rows[:5], "", *rows[5:]])  # a blank line is skipped
    first = run(path)
    assert first.exit_code == 0, first.output
    assert f"{len(rows)} new, 0 already stored" in first.stdout
    assert all(stored(tracker, rows))
    for pid in {r["program_id"] for r in rows}:
        count = sum(1 for r in rows if r["program_id"] == pid)
        assert tracker.view(UUID(pid)).program.version == count
    second = run(path)
    assert second.exit_code == 0
    assert f"0 new, {len(rows)} already stored" in second.stdout


def test_an_interrupted_import_resumes_where_it_stopped(
    tracker: Tracker, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = lines()
    path = write(tmp_path / "events.ndjson", list(rows))
    real = Tracker.ingest_batch
    calls = {"n": 0}

    def flaky(self: Tracker, items: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 3:
            raise OperationalError("connection lost")
        return real(self, items)

    monkeypatch.setattr(Tracker, "ingest_batch", flaky)
    broken = run(path)
    assert broken.exit_code == 1
    assert "nothing from line 21 on was stored" in broken.stderr
    assert "run the same command again" in broken.stderr
    assert stored(tracker, rows) == [True] * 20 + [False] * (len(rows) - 20)
    monkeypatch.setattr(Tracker, "ingest_batch", real)
    resumed = run(path)
    assert resumed.exit_code == 0, resumed.output
    assert f"{len(rows) - 20} new, 20 already stored" in resumed.stdout
    assert all(stored(tracker, rows))


def test_a_bad_line_is_named_by_number_and_nothing_from_it_on_is_stored(
    tracker: Tracker, tmp_path: Path
) -> None:
    rows = lines(1)
    path = write(tmp_path / "events.ndjson", [*rows[:4], "{not json", *rows[4:]])
    result = run(path)
    assert result.exit_code == 1
    assert "line 5: not JSON" in result.stderr
    assert "4 events" in result.stderr and "4 new" in result.stderr
    assert stored(tracker, rows) == [True] * 4 + [False] * (len(rows) - 4)


def test_an_event_that_is_not_an_event_names_its_line_and_field(
    tracker: Tracker, tmp_path: Path
) -> None:
    rows = lines(1)
    shapeless = {k: v for k, v in rows[1].items() if k != "program_id"}
    result = run(write(tmp_path / "events.ndjson", [rows[0], shapeless]))
    assert result.exit_code == 1
    assert "line 2: not a valid event (program_id: Field required)" in result.stderr
    assert stored(tracker, rows[:1]) == [True]


def test_an_event_the_tracker_refuses_stops_its_batch_and_names_its_line(
    tracker: Tracker, tmp_path: Path
) -> None:
    rows = lines(1)[:6]
    orphan = {
        "program_id": str(uuid4()),
        **body("SessionLogged", date(2026, 3, 3), {"hours": 4, "provider": {}}),
    }
    result = run(write(tmp_path / "events.ndjson", [*rows[:2], orphan, *rows[2:]]))
    assert result.exit_code == 1
    assert f"line 3: Program {orphan['program_id']} does not exist" in result.stderr
    assert "nothing from line 1 on was stored" in result.stderr
    assert not any(stored(tracker, [*rows, orphan]))


def test_a_missing_file_is_a_usage_error(tmp_path: Path) -> None:
    result = run(tmp_path / "nope.ndjson")
    assert result.exit_code == 2
