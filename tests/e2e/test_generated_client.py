"""A client generated from the service's own /openapi.json by openapi-python-client (a
maintained generator, pinned in the dev extras) refers, admits, logs a session and reads
compliance against a real `wht serve`: the document is complete enough to build on."""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
from pathlib import Path
from uuid import uuid4

import pytest

from tests.e2e.test_serve_process import serving
from tests.helpers import ADMITTED_ON, LATER, admitted, referred, session

pytestmark = pytest.mark.slow
BIN = Path(sys.executable).parent


def test_a_generated_client_records_a_program_and_reads_its_compliance(
    sqlite_url: str, tmp_path: Path
) -> None:
    with serving(sqlite_url, tmp_path) as http:
        (tmp_path / "openapi.json").write_bytes(http.get("/openapi.json").content)
        generated = subprocess.run(
            [
                str(BIN / "openapi-python-client"),
                "generate",
                "--path",
                "openapi.json",
                "--meta",
                "none",
                "--output-path",
                "wht_client",
            ],
            cwd=tmp_path,
            env={**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"},
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert generated.returncode == 0, generated.stdout + generated.stderr
        sys.path.insert(0, str(tmp_path))
        try:
            client_module = importlib.import_module("wht_client")
            models = importlib.import_module("wht_client.models")
            record_event = importlib.import_module("wht_client.api.ingest.record_event")
            get_compliance = importlib.import_module("wht_client.api.programs.get_compliance")
        finally:
            sys.path.remove(str(tmp_path))

        client = client_module.AuthenticatedClient(
            base_url=str(http.base_url), token="unused-in-open-mode"
        )
        program_id = str(uuid4())
        bodies = [
            models.ProgramReferredEvent.from_dict(referred()),
            models.ProgramAdmittedEvent.from_dict(admitted()),
            models.SessionLoggedEvent.from_dict(session(ADMITTED_ON, 9)),
        ]
        receipts = [
            record_event.sync_detailed(program_id=program_id, client=client, body=body)
            for body in bodies
        ]
        assert [r.status_code for r in receipts] == [201, 201, 201]
        assert isinstance(receipts[-1].parsed, models.Receipt)
        assert "daily_hours_over_cap" in [f.code for f in receipts[-1].parsed.findings]

        figures = get_compliance.sync(program_id=program_id, client=client, as_of=LATER)
        assert isinstance(figures, models.Compliance), figures
        assert (figures.version, figures.days_attended, figures.total_hours) == (3, 1, 9)
        assert figures.status.value == "admitted"

        missing = get_compliance.sync(program_id=str(uuid4()), client=client)
        assert isinstance(missing, models.Problem) and missing.status == 404
