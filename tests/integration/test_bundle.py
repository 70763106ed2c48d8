"""Dispute bundles: written from a real store, checked offline from the zip alone."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from api.bootstrap import build_tracker
from api.cli import cli
from domain.policy import PolicyPack
from service.application import Tracker
from service.bundle import build_bundle, check_bundle
from tests.audit_builders import ADMITTED_ON, LATER, Clinic, standard_program


def run(url: str, *args: str) -> Any:
    return CliRunner().invoke(cli, list(args), env={"WHT_DATABASE_URL": url})


def members(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def rezip(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, body in files.items():
            archive.writestr(name, body)
    return buffer.getvalue()


def test_a_bundle_round_trips_through_check_bundle(store_url: str, tmp_path: Path) -> None:
    tracker = build_tracker(store_url)
    try:
        clinic = standard_program(tracker, sessions=6)
        clinic.absence(ADMITTED_ON + timedelta(days=8))
        clinic.retract(clinic.receipts[4]["event_id"])
        pack = tracker.catalog.packs["optum-481"]
    finally:
        tracker.close()
    target = tmp_path / "dispute.zip"

    written = run(
        store_url, "bundle", str(clinic.program_id), "-o", str(target), "--as-of", LATER.isoformat()
    )
    assert written.exit_code == 0, written.output
    checked = run(store_url, "check-bundle", str(target))
    assert checked.exit_code == 0, checked.output
    assert "bundle OK" in checked.stdout

    files = members(target.read_bytes())
    assert set(files) == {
        "manifest.json",
        "events.json",
        "policy.json",
        "audit.json",
        "figures.json",
    }
    manifest = json.loads(files["manifest.json"])
    assert manifest["tool"] == {"name": "wht", "version": "0.1.0"}
    assert manifest["program_id"] == str(clinic.program_id)
    assert manifest["as_of"] == LATER.isoformat() and manifest["events"] == 11
    events = json.loads(files["events.json"])
    assert [e["version"] for e in events] == list(range(1, 12))
    assert all(len(e["hash"]) == 64 for e in events)
    assert events[-1]["hash"] == manifest["head_hash"]
    assert PolicyPack.model_validate(json.loads(files["policy.json"])) == pack
    figures = json.loads(files["figures.json"])
    assert figures["total_hours"] == 30 and figures["unexcused_absences"] == 1
    audit = json.loads(files["audit.json"])
    assert len(audit) == 11 and audit[-1]["figures"]["total_hours"] == 30


def test_a_bundle_altered_by_one_byte_of_event_data_is_rejected(
    sqlite_url: str, tmp_path: Path
) -> None:
    tracker = build_tracker(sqlite_url)
    try:
        clinic = standard_program(tracker, sessions=3)
    finally:
        tracker.close()
    target = tmp_path / "dispute.zip"
    assert (
        run(
            sqlite_url,
            "bundle",
            str(clinic.program_id),
            "-o",
            str(target),
            "--as-of",
            LATER.isoformat(),
        ).exit_code
        == 0
    )
    files = members(target.read_bytes())
    events = files["events.json"]
    at = events.index(b'"hours": 6')
    files["events.json"] = events[: at + 9] + b"7" + events[at + 10 :]  # 6 hours become 7
    assert len(files["events.json"]) == len(events)
    target.write_bytes(rezip(files))

    result = run(sqlite_url, "check-bundle", str(target))
    assert result.exit_code == 1
    said = result.stderr
    assert "events.json: its SHA-256 differs" in said
    assert "events.json: version 4: content does not match its hash" in said
    assert "figures.json.total_hours: the bundle says 18, re-derived 19" in said


def test_a_bundle_with_altered_figures_says_which_figure_differs(
    sqlite_url: str, tmp_path: Path
) -> None:
    tracker = build_tracker(sqlite_url)
    try:
        clinic = standard_program(tracker, sessions=3)
        data = build_bundle(tracker, clinic.program_id, tool_version="test", as_of=LATER)
    finally:
        tracker.close()
    files = members(data)
    figures = json.loads(files["figures.json"])
    figures["reimbursable_hours"] = 40
    files["figures.json"] = json.dumps(figures).encode()
    check = check_bundle(rezip(files))
    assert not check.ok
    assert any(
        "figures.json.reimbursable_hours: the bundle says 40, re-derived 18" in line
        for line in check.differences
    )


def test_a_bundle_that_is_not_a_zip_is_rejected_without_a_crash(
    tmp_path: Path, sqlite_url: str
) -> None:
    target = tmp_path / "junk.zip"
    target.write_bytes(b"PK not really")
    result = run(sqlite_url, "check-bundle", str(target))
    assert result.exit_code == 1
    assert "not a readable bundle" in result.stderr


def test_a_bundle_known_at_mid_history_holds_only_what_was_known(
    sqlite_url: str,
) -> None:
    tracker: Tracker = build_tracker(sqlite_url)
    try:
        clinic = standard_program(tracker, sessions=5)
        data = build_bundle(
            tracker,
            clinic.program_id,
            tool_version="test",
            known_at=clinic.recorded_at(4),
            as_of=LATER,
        )
    finally:
        tracker.close()
    files = members(data)
    assert len(json.loads(files["events.json"])) == 5
    assert json.loads(files["figures.json"])["total_hours"] == 12
    assert check_bundle(data).ok


def test_a_washington_program_bundles_its_own_pack(sqlite_url: str) -> None:
    tracker = build_tracker(sqlite_url)
    try:
        clinic = Clinic(tracker)
        clinic.refer(on=date(2023, 5, 1), policy="wa-lni-2023")
        clinic.admit(on=date(2023, 5, 8))
        clinic.weekdays(date(2023, 5, 8), 22)
        data = build_bundle(tracker, clinic.program_id, tool_version="test", as_of=date(2023, 7, 1))
    finally:
        tracker.close()
    files = members(data)
    assert json.loads(files["policy.json"])["id"] == "wa-lni-2023"
    assert check_bundle(data).ok


def test_a_broken_chain_is_not_bundled(sqlite_url: str, tmp_path: Path) -> None:
    import sqlite3

    tracker = build_tracker(sqlite_url)
    try:
        clinic = standard_program(tracker, sessions=2)
    finally:
        tracker.close()
    with sqlite3.connect(sqlite_url[len("sqlite:///") :]) as db:
        db.execute("DELETE FROM stored_events WHERE originator_version = 2")
    result = run(sqlite_url, "bundle", str(clinic.program_id), "-o", str(tmp_path / "b.zip"))
    assert result.exit_code == 1
    assert "broken at version 2" in result.stderr
    assert not (tmp_path / "b.zip").exists()


@pytest.mark.parametrize(
    "args",
    [["bundle", "--help"], ["check-bundle", "--help"], ["replay", "--help"], ["verify", "--help"]],
)
def test_every_audit_command_has_help(sqlite_url: str, args: list[str]) -> None:
    result = run(sqlite_url, *args)
    assert result.exit_code == 0 and "Usage" in result.stdout


def test_a_finding_worded_differently_is_a_note_not_a_difference(sqlite_url: str) -> None:
    tracker = build_tracker(sqlite_url)
    try:
        clinic = standard_program(tracker, sessions=1)
        data = build_bundle(tracker, clinic.program_id, tool_version="test", as_of=LATER)
    finally:
        tracker.close()
    files = members(data)
    figures = json.loads(files["figures.json"])
    assert figures["findings"], "a one-session program has findings"
    figures["findings"][0]["message"] = "Worded by an older version of the tool."
    files["figures.json"] = json.dumps(figures).encode()
    manifest = json.loads(files["manifest.json"])
    manifest["files"]["figures.json"] = hashlib.sha256(files["figures.json"]).hexdigest()
    files["manifest.json"] = json.dumps(manifest).encode()

    check = check_bundle(rezip(files))
    assert check.ok, check.differences
    assert check.notes == ["figures.json.findings[0].message is worded differently now"]
