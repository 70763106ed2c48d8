"""Tamper evidence on a real SQLite file, altered behind the tracker's back.

Each test records a program, closes the tracker, edits `stored_events` with
the sqlite3 module (its `state` column is the event's JSON bytes), opens a
new tracker on the file and asks for the chain: every change must be caught
and located at the first bad version, by the HTTP-facing report and by
`wht verify`.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

import pytest
from typer.testing import CliRunner

from api.bootstrap import build_tracker
from api.cli import cli
from domain.program import event_hash
from service.application import Tracker
from service.digest import store_digest
from service.replay import integrity
from tests.audit_builders import standard_program


@dataclass
class Stored:
    url: str
    path: str
    program_id: UUID
    events: int
    other_program_id: UUID

    def connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path)

    def state(self, version: int, program_id: UUID | None = None) -> dict[str, Any]:
        with self.connect() as db:
            (raw,) = db.execute(
                "SELECT state FROM stored_events WHERE originator_id = ? AND "
                "originator_version = ?",
                ((program_id or self.program_id).hex, version),
            ).fetchone()
        loaded: dict[str, Any] = json.loads(raw)
        return loaded

    def write(self, version: int, state: dict[str, Any] | bytes) -> None:
        raw = state if isinstance(state, bytes) else json.dumps(state).encode()
        with self.connect() as db:
            db.execute(
                "UPDATE stored_events SET state = ? WHERE originator_id = ? AND "
                "originator_version = ?",
                (raw, self.program_id.hex, version),
            )

    def edit(self, version: int, change: Callable[[dict[str, Any]], None]) -> None:
        state = self.state(version)
        change(state)
        self.write(version, state)

    def sql(self, statement: str, *params: Any) -> None:
        with self.connect() as db:
            db.execute(statement, params)

    def report(self) -> dict[str, Any]:
        tracker = build_tracker(self.url)
        try:
            return integrity(tracker, self.program_id).as_dict()
        finally:
            tracker.close()


@pytest.fixture
def stored(sqlite_url: str) -> Iterator[Stored]:
    """A program of 10 events (and another program) in a closed SQLite file."""
    tracker: Tracker = build_tracker(sqlite_url)
    try:
        clinic = standard_program(tracker, sessions=7)
        other = standard_program(tracker, sessions=2)
    finally:
        tracker.close()
    yield Stored(
        sqlite_url,
        sqlite_url[len("sqlite:///") :],
        clinic.program_id,
        len(clinic.receipts),
        other.program_id,
    )


def verify(stored: Stored, *args: str) -> Any:
    return CliRunner().invoke(cli, ["verify", *args], env={"WHT_DATABASE_URL": stored.url})


def test_an_untouched_chain_verifies_with_its_head_hash(stored: Stored) -> None:
    report = stored.report()
    assert report["ok"] is True
    assert report["events_checked"] == stored.events == 10
    assert report["first_bad_version"] is None
    assert report["head_hash"] == stored.state(10)["hash"]
    result = verify(stored, str(stored.program_id))
    assert result.exit_code == 0, result.output
    assert "ok" in result.stdout and str(stored.program_id) in result.stdout


def test_changed_event_data_is_caught_at_its_version(stored: Stored) -> None:
    stored.edit(6, lambda s: s["data"].update(hours=7))
    report = stored.report()
    assert report["ok"] is False
    assert report["first_bad_version"] == 6
    assert any("altered" in p["reason"] for p in report["problems"] if p["version"] == 6)

    result = verify(stored, str(stored.program_id))
    assert result.exit_code == 1
    assert "first bad version 6" in result.stdout
    assert "integrity check failed" in result.stderr


def test_changed_data_with_a_recomputed_hash_is_still_caught_at_its_version(
    stored: Stored,
) -> None:
    # A careful forger fixes the event's own hash: the next event's prev_hash and the
    # event index (written in the same transaction as the event) still disagree.
    def forge(state: dict[str, Any]) -> None:
        state["data"]["hours"] = 7
        state["hash"] = event_hash(
            stored.program_id,
            6,
            state["type"],
            state["event_id"],
            state["occurred_on"],
            _instant(state),
            state["data"],
            state["prev_hash"],
        )

    stored.edit(6, forge)
    report = stored.report()
    assert report["first_bad_version"] == 6
    assert {p["version"] for p in report["problems"]} == {6, 7}


def test_a_deleted_event_is_caught_at_the_missing_version(stored: Stored) -> None:
    stored.sql(
        "DELETE FROM stored_events WHERE originator_id = ? AND originator_version = 4",
        stored.program_id.hex,
    )
    report = stored.report()
    assert report["ok"] is False
    assert report["events_checked"] == 9
    assert report["first_bad_version"] == 4
    assert "missing" in report["problems"][0]["reason"]


def test_a_deleted_last_event_is_caught_against_the_event_index(stored: Stored) -> None:
    stored.sql(
        "DELETE FROM stored_events WHERE originator_id = ? AND originator_version = 10",
        stored.program_id.hex,
    )
    report = stored.report()
    assert report["first_bad_version"] == 10
    assert "index" in report["problems"][0]["reason"]


def test_two_swapped_events_are_caught_at_the_first_of_them(stored: Stored) -> None:
    third, seventh = stored.state(3), stored.state(7)
    stored.write(3, seventh)
    stored.write(7, third)
    report = stored.report()
    assert report["ok"] is False
    assert report["first_bad_version"] == 3
    assert {3, 7} <= {p["version"] for p in report["problems"]}


def test_two_events_swapped_by_version_number_are_caught(stored: Stored) -> None:
    pid = stored.program_id.hex
    stored.sql(
        "UPDATE stored_events SET originator_version = -5 WHERE originator_id = ? AND "
        "originator_version = 5",
        pid,
    )
    stored.sql(
        "UPDATE stored_events SET originator_version = 5 WHERE originator_id = ? AND "
        "originator_version = 8",
        pid,
    )
    stored.sql(
        "UPDATE stored_events SET originator_version = 8 WHERE originator_id = ? AND "
        "originator_version = -5",
        pid,
    )
    assert stored.report()["first_bad_version"] == 5


def test_an_undecodable_row_is_reported_as_bad_not_raised(stored: Stored) -> None:
    stored.write(5, b"\x00 this is not JSON \xff")
    report = stored.report()
    assert report["ok"] is False
    assert report["first_bad_version"] == 5
    assert "decoded" in report["problems"][0]["reason"]
    assert report["events_checked"] == 10
    assert verify(stored, str(stored.program_id)).exit_code == 1


def test_a_row_with_a_foreign_topic_is_reported_without_importing_it(stored: Stored) -> None:
    stored.sql(
        "UPDATE stored_events SET topic = 'os:system' WHERE originator_id = ? AND "
        "originator_version = 2",
        stored.program_id.hex,
    )
    report = stored.report()
    assert report["first_bad_version"] == 2
    assert "unexpected topic" in report["problems"][0]["reason"]


def test_a_gap_in_versions_is_caught(stored: Stored) -> None:
    stored.sql(
        "UPDATE stored_events SET originator_version = 15 WHERE originator_id = ? AND "
        "originator_version = 10",
        stored.program_id.hex,
    )
    report = stored.report()
    assert report["first_bad_version"] == 10
    assert "version 10 is missing" in " ".join(p["reason"] for p in report["problems"]) or (
        "versions 10-14 are missing" in " ".join(p["reason"] for p in report["problems"])
    )


def test_a_wrong_prev_hash_is_caught_at_its_version(stored: Stored) -> None:
    stored.edit(8, lambda s: s.update(prev_hash="f" * 64))
    report = stored.report()
    assert report["first_bad_version"] == 8
    assert any("prev_hash" in p["reason"] for p in report["problems"])


def test_verify_all_names_only_the_broken_program(stored: Stored) -> None:
    stored.edit(2, lambda s: s["data"].update(targeted_job="Forklift driver"))
    result = verify(stored, "--all")
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert any(line.startswith("BROKEN") and str(stored.program_id) in line for line in lines)
    assert any(line.startswith("ok") and str(stored.other_program_id) in line for line in lines)


def test_verify_needs_a_program_or_all(stored: Stored) -> None:
    result = verify(stored)
    assert result.exit_code == 2
    assert "PROGRAM_ID" in result.stderr


def test_a_published_digest_verifies_until_the_history_behind_it_changes(stored: Stored) -> None:
    tracker = build_tracker(stored.url)
    try:
        whole = store_digest(tracker.recorder)
        first_program = store_digest(tracker.recorder, 10)
    finally:
        tracker.close()
    assert whole.position == whole.events == 10 + 5
    ok = verify(stored, "--digest", f"{whole.digest}@{whole.position}")
    assert ok.exit_code == 0, ok.output

    # a change to the other program (recorded after position 10) leaves the first
    # program's published history intact, but not the whole store's
    with stored.connect() as db:
        db.execute("UPDATE stored_events SET state = state || ' ' WHERE rowid = 15")
    assert verify(stored, "--digest", f"{first_program.digest}@10").exit_code == 0
    broken = verify(stored, "--digest", f"{whole.digest}@{whole.position}")
    assert broken.exit_code == 1
    assert "MISMATCH" in broken.stdout


def test_a_digest_fails_when_history_is_removed(stored: Stored) -> None:
    tracker = build_tracker(stored.url)
    try:
        whole = store_digest(tracker.recorder)
    finally:
        tracker.close()
    stored.sql("DELETE FROM stored_events WHERE rowid = ?", whole.position)
    result = verify(stored, "--digest", f"{whole.digest}@{whole.position}")
    assert result.exit_code == 1
    assert "reaches only position" in result.stdout


def test_a_malformed_digest_token_is_a_usage_error(stored: Stored) -> None:
    result = verify(stored, "--digest", "abc@1")
    assert result.exit_code == 2
    assert "HEX@POSITION" in result.stderr


def _instant(state: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(state["timestamp"]["_data_"])


def test_each_stored_event_carries_its_hash_and_its_predecessors(stored: Stored) -> None:
    first, second = stored.state(1), stored.state(2)
    assert first["prev_hash"] == "0" * 64
    assert second["prev_hash"] == first["hash"]
    assert first["hash"] == event_hash(
        stored.program_id,
        1,
        first["type"],
        first["event_id"],
        first["occurred_on"],
        _instant(first),
        first["data"],
        first["prev_hash"],
    )
