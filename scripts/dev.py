#!/usr/bin/env python3
"""Set-up and run, with nothing but Python 3.11+: `python3 scripts/dev.py serve|test|wht ...`.

Creates `.venv` beside the project and installs the pinned project into it
(again only when pyproject.toml changes), then runs the service or the tests.
`test` first runs the checks (ruff lint and format, mypy, the import contracts)
and runs pytest only when every one passes.
The tests need PostgreSQL at 127.0.0.1:5432: this starts it when it is
installed but stopped, and fails (never skips) when it cannot be reached.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import socket
import subprocess
import sys
import time
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
STAMP = VENV / ".wht-installed"


def ensure_venv() -> None:
    if sys.version_info < (3, 11):  # noqa: UP036 (run by whatever python3 is on PATH)
        sys.exit("wht needs Python 3.11 or newer")
    wanted = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if STAMP.exists() and STAMP.read_text() == wanted:
        return
    if not (BIN / "python").exists():
        print("setting up .venv ...", file=sys.stderr)
        venv.EnvBuilder(with_pip=True).create(VENV)
    subprocess.run(
        [str(BIN / "python"), "-m", "pip", "install", "-q", "--upgrade", "pip"], check=False
    )
    subprocess.run(
        [str(BIN / "python"), "-m", "pip", "install", "-q", "-e", f"{ROOT}[dev]"], check=True
    )
    STAMP.write_text(wanted)


def postgres_reachable() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 5432), timeout=2):
            return True
    except OSError:
        return False


def ensure_postgres() -> None:
    if postgres_reachable():
        return
    if shutil.which("pg_ctlcluster") and Path("/etc/postgresql").is_dir():
        for version in sorted(os.listdir("/etc/postgresql")):
            print(f"starting PostgreSQL {version} ...", file=sys.stderr)
            subprocess.run(
                ["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "start"],
                check=False,
            )
        for _ in range(30):
            if postgres_reachable():
                return
            time.sleep(1)
    sys.exit(
        "PostgreSQL is not reachable at 127.0.0.1:5432 and could not be started: "
        "the PostgreSQL tests cannot run (install and start PostgreSQL, user postgres, "
        "trust auth)."
    )


# (name, command): each must exit 0 before the tests run (configured in pyproject.toml).
CHECKS = [
    ("ruff check", ["ruff", "check", "."]),
    ("ruff format", ["ruff", "format", "--check", "."]),
    ("mypy", ["mypy"]),
    ("lint-imports", ["lint-imports"]),
]


def run_checks() -> list[str]:
    """Run every check (all of them, so that one run shows every problem); return the
    names of those that failed."""
    failed = []
    for name, command in CHECKS:
        print(f"dev.py: check {name} ...", file=sys.stderr, flush=True)
        if subprocess.call([str(BIN / command[0]), *command[1:]]) != 0:
            print(f"dev.py: check FAILED: {name}", file=sys.stderr, flush=True)
            failed.append(name)
    return failed


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in {"serve", "test", "wht"}:
        print(__doc__, file=sys.stderr)
        return 2
    ensure_venv()
    os.chdir(ROOT)
    if argv[0] == "serve":
        return subprocess.call([str(BIN / "wht"), "serve", *argv[1:]])
    if argv[0] == "wht":
        return subprocess.call([str(BIN / "wht"), *argv[1:]])
    if failed := run_checks():
        print(f"dev.py: checks failed: {', '.join(failed)}; tests not run", file=sys.stderr)
        return 1
    ensure_postgres()
    return subprocess.call([str(BIN / "python"), "-m", "pytest", *argv[1:]])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
