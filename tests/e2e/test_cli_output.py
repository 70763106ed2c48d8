"""The `wht` command as a person reads it in an 80-column terminal: boolean options shown
as flags in --help (never `--all <bool>`, as typer 0.29 printed), `wht demo` saying the
as_of of its figures (the same on any day), `wht replay` fitting 80 columns."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

WHT = str(Path(sys.executable).with_name("wht"))


def wht(*args: str, database_url: str = "sqlite:///unused.sqlite") -> str:
    result = subprocess.run(
        [WHT, *args],
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": "80", "NO_COLOR": "1", "WHT_DATABASE_URL": database_url},
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def help_of(*command: str) -> str:
    return wht(*command, "--help")


@pytest.mark.parametrize(
    ("command", "flags"),
    [
        (["verify"], ["--all", "--json"]),
        (["replay"], ["--json"]),
        (["serve"], ["--host", "--port", "--projection", "--log-format"]),
        (["project"], ["--once"]),
        ([], []),
    ],
)
def test_help_shows_boolean_options_as_flags(command: list[str], flags: list[str]) -> None:
    text = help_of(*command)
    assert "<bool>" not in text
    for flag in flags:
        assert flag in text


def test_demo_prints_its_as_of_and_replay_fits_80_columns_unless_wide(sqlite_url: str) -> None:
    demo = wht("demo", database_url=sqlite_url)
    assert demo.splitlines()[0].startswith("figures as of 2026-06-30")
    compliant = demo.splitlines()[1].split()
    assert compliant[0] == "compliant" and "hours=120" in compliant

    narrow = wht("replay", compliant[1], "--as-of", "2026-06-30", database_url=sqlite_url)
    assert max(len(line) for line in narrow.splitlines()) <= 80
    assert "staff_conference" in narrow  # the codes wrap; none is cut off with an ellipsis
    assert "\u2026" not in narrow

    wide = wht("replay", compliant[1], "--wide", database_url=sqlite_url)
    assert "recorded at (UTC)" in wide and "abs.eq" in wide
