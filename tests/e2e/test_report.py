"""The payer's report: `wht report … -o FILE.pdf` read back with pypdf, and the page
/ui/programs/{id}/report over HTTP (open, and de-identified for a regulator)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from uuid import uuid4

import pytest
from fastapi.testclient import TestClient
from pypdf import PdfReader

from api.app import create_app
from api.auth import install_auth
from api.bootstrap import build_tracker
from service import replay
from service.application import Tracker
from tests.alert_script import scripted_events
from tests.helpers import LATER, admitted, referred, send_all

WHT = str(Path(sys.executable).with_name("wht"))


def scripted_program(tracker: Tracker) -> tuple[str, dict[str, object], str]:
    program_id = uuid4()
    send_all(tracker, program_id, scripted_events())
    figures = tracker.view(program_id).assess(LATER).figures()
    head = replay.integrity(tracker, program_id).as_dict()["head_hash"]
    return str(program_id), figures, head


@pytest.mark.slow
def test_wht_report_writes_a_pdf_with_the_worker_the_figures_and_the_head_hash(
    store_url: str, tmp_path: Path
) -> None:
    tracker = build_tracker(store_url)
    try:
        program_id, figures, head = scripted_program(tracker)
    finally:
        tracker.close()
    out = tmp_path / "report.pdf"
    env = {**os.environ, "WHT_DATABASE_URL": store_url}
    done = subprocess.run(
        [WHT, "report", program_id, "--as-of", LATER.isoformat(), "-o", str(out)],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    missing = subprocess.run(
        [WHT, "report", str(uuid4()), "-o", str(tmp_path / "none.pdf")],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert done.returncode == 0, done.stderr
    text = "\n".join(page.extract_text() for page in PdfReader(out).pages)
    assert "Ana Diaz" in text and "WC-77812" in text
    assert f"Total hours {figures['total_hours']}" in text
    assert f"Reimbursable hours {figures['reimbursable_hours']}" in text
    assert f"Absence equivalents {figures['absence_equivalents']}" in text
    assert head in text.replace("\n", "")
    assert "97545 x1" in text and "COV-2" in text and "Due list" in text
    assert f"As of {LATER.isoformat()}" in text
    assert missing.returncode == 1 and "is not known" in missing.stderr
    assert not (tmp_path / "none.pdf").exists()


def test_the_report_page_prints_the_program_with_the_policys_words(tracker: Tracker) -> None:
    program_id, figures, head = scripted_program(tracker)
    app = create_app(tracker, projection=False)
    with TestClient(app) as client:
        page = client.get(f"/ui/programs/{program_id}/report", params={"as_of": LATER.isoformat()})
        due = client.get(f"/v1/programs/{program_id}/due", params={"as_of": LATER.isoformat()})

    assert page.status_code == 200
    html = page.text
    assert "Ana Diaz" in html and "WC-77812" in html and head in html
    assert "@media print" in html
    assert f"<td>{figures['reimbursable_hours']}</td>" in html
    pack = tracker.catalog.get(str(figures["policy"]))
    assert pack is not None and pack.clauses["COV-2"].text in html
    assert "Due list" in html
    obligations = due.json()["obligations"]
    assert obligations  # the scripted program owes something by LATER
    for o in obligations:  # the report lists what GET .../due lists
        assert f"<td>{o['due_on']}</td><td>{o['kind']}</td><td>{o['clause']}</td>" in html


def test_the_report_of_a_referral_without_an_injury_date_is_printed_not_a_500(
    tracker: Tracker,
) -> None:
    """`injury_date` is optional in a referral: the page answered 500 without it."""
    program_id = uuid4()
    referral = referred()
    del referral["data"]["claim"]["injury_date"]
    send_all(tracker, program_id, [referral, admitted()])
    with TestClient(create_app(tracker, projection=False)) as client:
        page = client.get(f"/ui/programs/{program_id}/report")
    assert page.status_code == 200, page.text[:300]
    assert referral["data"]["claim"]["claim_number"] in page.text


def test_a_regulator_sees_the_report_de_identified_and_a_provider_only_its_own(
    tracker: Tracker,
) -> None:
    program_id, _, head = scripted_program(tracker)
    app = create_app(tracker, projection=False)
    store = install_auth(app, tracker)
    _, regulator = store.add_key("regulator")
    _, south = store.add_key("provider", "clinic-south")
    with TestClient(app) as client:
        url = f"/ui/programs/{program_id}/report"
        client.post("/ui/sign-in", data={"key": regulator})
        seen = client.get(url)
        client.post("/ui/sign-out")
        client.post("/ui/sign-in", data={"key": south})
        other = client.get(url)

    assert seen.status_code == 200, seen.text[:500]
    assert head in seen.text
    assert "Ana Diaz" not in seen.text and "WC-77812" not in seen.text
    assert other.status_code == 404
