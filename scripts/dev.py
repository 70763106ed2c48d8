#!/usr/bin/env python3
"""Set-up and run, with nothing but Python 3.11+: `python3 scripts/dev.py serve|test|wht|lock`.

Creates `.venv` beside the project and installs exactly the locked dependencies
into it with pip (`--require-hashes`), then the project itself (again only when
pyproject.toml or the lock changes), then runs the service or the tests. `serve`
and `wht` install the runtime (requirements/runtime.txt); `test` the runtime and
the dev tools (requirements/dev.txt). `lock` rewrites both lock files from
pyproject.toml with uv (a dev tool), which only this command needs.
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
LOCKS = {"runtime": ROOT / "requirements" / "runtime.txt", "dev": ROOT / "requirements" / "dev.txt"}


def _stamp(kind: str) -> Path:
    return VENV / f".wht-installed-{kind}"


def _wanted(kind: str) -> str:
    text = (ROOT / "pyproject.toml").read_bytes() + LOCKS[kind].read_bytes()
    return hashlib.sha256(text).hexdigest()


def _installed(kind: str) -> bool:
    return _stamp(kind).exists() and _stamp(kind).read_text() == _wanted(kind)


def ensure_venv(kind: str = "dev") -> None:
    """`.venv` holding exactly the `kind` lock (dev holds runtime too) and the project."""
    if sys.version_info < (3, 11):  # noqa: UP036 (run by whatever python3 is on PATH)
        sys.exit("wht needs Python 3.11 or newer")
    if _installed(kind) or (kind == "runtime" and _installed("dev")):
        return
    if not (BIN / "python").exists():
        print("setting up .venv ...", file=sys.stderr)
        venv.EnvBuilder(with_pip=True).create(VENV)
    pip = [str(BIN / "python"), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
    # Every package, direct or not, at its locked version and hash; nothing resolved here.
    subprocess.run([*pip, "--require-hashes", "--no-deps", "-r", str(LOCKS[kind])], check=True)
    subprocess.run([*pip, "--no-deps", "-e", str(ROOT)], check=True)
    for other in LOCKS:
        _stamp(other).unlink(missing_ok=True)
    _stamp(kind).write_text(_wanted(kind))


def lock() -> int:
    """Rewrite requirements/dev.txt, then requirements/runtime.txt within it (same
    versions), from pyproject.toml: every platform, hashes for every file."""
    uv = [str(BIN / "uv"), "pip", "compile", "pyproject.toml", "--universal"]
    uv += ["--generate-hashes", "--python-version", "3.11", "--quiet"]
    dev, runtime = (str(p.relative_to(ROOT)) for p in (LOCKS["dev"], LOCKS["runtime"]))
    first = subprocess.call([*uv, "--extra", "dev", "-o", dev], cwd=ROOT)
    return first or subprocess.call([*uv, "-c", dev, "-o", runtime], cwd=ROOT)


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
    if not argv or argv[0] not in {"serve", "test", "wht", "lock"}:
        print(__doc__, file=sys.stderr)
        return 2
    ensure_venv("runtime" if argv[0] in {"serve", "wht"} else "dev")
    os.chdir(ROOT)
    if argv[0] == "lock":
        return lock()
    if argv[0] == "serve":
        return subprocess.call([str(BIN / "wht"), "serve", *argv[1:]])
    if argv[0] == "wht":
        return subprocess.call([str(BIN / "wht"), *argv[1:]])
    if failed := run_checks():
        print(f"dev.py: checks failed: {', '.join(failed)}; tests not run", file=sys.stderr)
        return 1
    ensure_postgres()
    # One pytest worker per core (pytest-xdist) unless told otherwise (`-n 0`: one
    # process): the suite's slow part is real servers and stores, which overlap well.
    given = argv[1:]
    workers = [] if any(a == "-n" or a.startswith("-n") for a in given) else ["-n", "auto"]
    return subprocess.call([str(BIN / "python"), "-m", "pytest", *workers, *given])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
