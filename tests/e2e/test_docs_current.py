"""The generated reference in docs/reference/ is what the code generates now.

`api.reference` builds the HTTP reference from the app's OpenAPI document (on a
throwaway SQLite tracker), the CLI reference from the typer app and the packs
reference from domain/packs/*.json. A route, parameter, docstring, option or pack
changed without `.venv/bin/python scripts/docs.py` fails here, naming the file.
"""

from __future__ import annotations

import difflib
from pathlib import Path

from api.reference import ROOT, generated, stale


def test_generated_reference_is_current() -> None:
    files = generated()
    out_of_date = stale(ROOT, files)
    diffs = []
    for path in out_of_date:
        committed = ROOT / path
        old = committed.read_text(encoding="utf-8").splitlines() if committed.is_file() else []
        diff = difflib.unified_diff(old, files[path].splitlines(), path, "generated", lineterm="")
        diffs.append("\n".join(list(diff)[:40]))
    assert not out_of_date, (
        f"stale: {', '.join(out_of_date)}; run `.venv/bin/python scripts/docs.py`\n"
        + "\n".join(diffs)
    )


def test_generation_is_deterministic() -> None:
    assert generated() == generated()


def test_stale_names_a_changed_or_missing_file(tmp_path: Path) -> None:
    files = {"docs/reference/a.md": "one\n", "docs/reference/b.md": "two\n"}
    (tmp_path / "docs/reference").mkdir(parents=True)
    (tmp_path / "docs/reference/a.md").write_text("one\n", encoding="utf-8")
    assert stale(tmp_path, files) == ["docs/reference/b.md"]
    (tmp_path / "docs/reference/b.md").write_text("old\n", encoding="utf-8")
    assert stale(tmp_path, files) == ["docs/reference/b.md"]
    (tmp_path / "docs/reference/b.md").write_text("two\n", encoding="utf-8")
    assert stale(tmp_path, files) == []
