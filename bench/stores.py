"""Where the benchmarks run and how they time: fresh stores, a `wht serve` process, percentiles.

`Stores` hands out one fresh store per use, of the kind `--database-url`
names (SQLite files in one folder, or new PostgreSQL databases on that
server), and removes them afterwards. `served` runs a real `wht serve`
process on a free loopback port.
"""

from __future__ import annotations

import os
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx


class Stores:
    """Fresh, empty stores of one kind, removed on close (unless `keep`).

    `sqlite:///PATH`: files beside PATH named `STEM-ROLE.sqlite` (the default
    is a temporary folder). `postgresql://USER@HOST:PORT/DB`: new databases
    `wht_bench_<token>_<role>` on that server; DB is only the one connected to
    for CREATE and DROP DATABASE.
    """

    def __init__(self, url: str | None, keep: bool = False) -> None:
        self.keep = keep
        self.token = os.urandom(3).hex()
        self.made: list[str] = []
        self._tmp: str | None = None
        if url is None or url in ("sqlite", "sqlite://", "sqlite:///"):
            self._tmp = tempfile.mkdtemp(prefix="wht-bench-")
            url = f"sqlite:///{self._tmp}/bench.sqlite"
        self.url = url
        if url.startswith("sqlite:///"):
            self.kind = "sqlite"
            self.base = Path(url[len("sqlite:///") :])
        elif url.startswith(("postgresql://", "postgres://")):
            self.kind = "postgresql"
            self.admin = url
        else:
            raise SystemExit(f"--database-url must be sqlite:///PATH or postgresql://...: {url}")

    def fresh(self, role: str) -> str:
        """The URL of a new, empty store for `role`."""
        if self.kind == "sqlite":
            path = self.base.with_name(f"{self.base.stem}-{role}.sqlite")
            self._remove_sqlite(path)
            path.parent.mkdir(parents=True, exist_ok=True)
            self.made.append(str(path))
            return f"sqlite:///{path}"
        import psycopg

        name = f"wht_bench_{self.token}_{role}"
        with psycopg.connect(self.admin, autocommit=True, connect_timeout=10) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}"')
        self.made.append(name)
        parts = urlsplit(self.admin)
        return urlunsplit((parts.scheme, parts.netloc, f"/{name}", "", ""))

    def describe(self) -> str:
        if self.kind == "sqlite":
            return f"SQLite files in {self.base.parent}"
        parts = urlsplit(self.admin)
        return f"PostgreSQL at {parts.hostname}:{parts.port or 5432}, a new database per store"

    @staticmethod
    def _remove_sqlite(path: Path) -> None:
        for suffix in ("", "-wal", "-shm", ".projector.lock"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)

    def close(self) -> None:
        if self.keep:
            return
        if self.kind == "sqlite":
            for path in self.made:
                self._remove_sqlite(Path(path))
            for lock in self.base.parent.glob(f"{self.base.stem}-*.lock"):
                lock.unlink(missing_ok=True)
        else:
            import psycopg

            with psycopg.connect(self.admin, autocommit=True, connect_timeout=10) as conn:
                for name in self.made:
                    conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if self._tmp:
            shutil.rmtree(self._tmp, ignore_errors=True)


def wht_command() -> list[str]:
    """The installed `wht` beside this Python, else the same CLI as a module."""
    script = Path(sys.executable).with_name("wht")
    return [str(script)] if script.exists() else [sys.executable, "-m", "api.cli"]


def store_process_env(url: str) -> dict[str, str]:
    """The environment of a `wht` child process on `url`, stored in the clear."""
    env = {**os.environ, "WHT_DATABASE_URL": url}
    env.pop("WHT_CIPHER_KEY", None)
    return env


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) a process has used so far (Linux; 0.0 elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def worker_children(pid: int) -> list[int]:
    """A process's child processes that are workers of its own (`wht project
    --partitions N` spawns them), not multiprocessing's resource tracker (Linux)."""
    try:
        found = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return []
    workers = []
    for child in found:
        try:
            command = Path(f"/proc/{child}/cmdline").read_bytes().replace(b"\0", b" ")
        except OSError:
            continue
        if b"resource_tracker" not in command:
            workers.append(int(child))
    return workers


def peak_rss_mib(pid: int) -> float | None:
    """A live process's peak resident set size so far (VmHWM, Linux), in MiB."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def run_measured(args: list[str], env: dict[str, str]) -> tuple[int, str, str, float]:
    """Run a child to its end: exit status, stdout, stderr, and its own peak RSS in MiB
    (`os.wait4`'s rusage of that child alone; ru_maxrss is in KiB on Linux)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        process = subprocess.Popen(args, env=env, stdout=out, stderr=err)
        _, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return (
            process.returncode,
            out.read().decode(errors="replace"),
            err.read().decode(errors="replace"),
            usage.ru_maxrss / 1024,
        )


@dataclass(frozen=True)
class Server:
    base: str
    pid: int
    url: str  # its store

    def cpu(self) -> float:
        return cpu_seconds(self.pid)

    def peak_rss_mib(self) -> float | None:
        return peak_rss_mib(self.pid)


@contextmanager
def spawned(args: list[str], env: dict[str, str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """A child process writing to `log`; stopped on leaving, however it is left
    (SIGTERM, then SIGKILL after 15 s)."""
    with log.open("ab") as out:
        process = subprocess.Popen(args, env=env, stdout=out, stderr=out)
    try:
        yield process
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@contextmanager
def served(
    url: str, log: Path, *, projection: bool = True, command: list[str] | None = None
) -> Iterator[Server]:
    """A `wht serve` process on `url` at a free loopback port (or `command`, given
    `--host` and `--port`, e.g. the HTTP floor)."""
    port = free_port()
    args = [*(command or [*wht_command(), "serve"]), "--host", "127.0.0.1", "--port", str(port)]
    if not projection:
        args.append("--no-projection")
    base = f"http://127.0.0.1:{port}"
    with spawned(args, store_process_env(url), log) as process:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"`wht serve` exited ({process.returncode}); see {log}")
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"`wht serve` did not answer within 60 s; see {log}")
            time.sleep(0.1)
        yield Server(base, process.pid, url)


def best(runs: int, measure: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """The fastest of `runs` runs of a floor (each on its own fresh store): a floor is a
    bound, and a shared machine only ever makes a run slower."""
    results = [measure() for _ in range(runs)]
    fastest = max(results, key=lambda r: r["events_per_s"])
    return {**fastest, "runs_events_per_s": [r["events_per_s"] for r in results]}


def percentile(samples: Sequence[float], p: float) -> float:
    """The p-th percentile (0-100), interpolated; of seconds, in milliseconds."""
    ordered = sorted(samples)
    if len(ordered) == 1:
        return ordered[0] * 1000
    rank = (len(ordered) - 1) * p / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return (ordered[low] + (ordered[high] - ordered[low]) * (rank - low)) * 1000


def own_cpu() -> float:
    """CPU seconds this process (the clients) has used so far."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime
