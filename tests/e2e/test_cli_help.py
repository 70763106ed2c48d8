"""`wht ... --help` as a person reads it: boolean options shown as flags, never as
`--all <bool>` (typer 0.29 printed that), and serve's options named."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

WHT = str(Path(sys.executable).with_name("wht"))


def help_of(*command: str) -> str:
    result = subprocess.run(
        [WHT, *command, "--help"],
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": "80", "NO_COLOR": "1"},
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


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
