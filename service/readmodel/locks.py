"""Electing the one projector among the processes that share a store.

The runner takes a lock before it projects and stands by while another
process holds it: a PostgreSQL session advisory lock (released by the server
when the holder's connection ends, however the process died), or an flock on
a file beside the SQLite database (released by the kernel likewise).
"""

from __future__ import annotations

import contextlib
import fcntl
from pathlib import Path
from typing import IO, Any, Protocol

import psycopg
from eventsourcing.sqlite import SQLiteApplicationRecorder

from service.application import Tracker
from service.readmodel.partitions import Partition

PROJECTOR_LOCK = 0x77687402  # pg advisory lock key of the one active projector


class ProjectorLock(Protocol):
    def acquire(self) -> bool: ...

    def release(self) -> None: ...


class FileLock:
    """An exclusive flock on a file beside the SQLite database."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._file: IO[bytes] | None = None

    def acquire(self) -> bool:
        if self._file is not None:
            return True
        handle = self.path.open("ab")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.close()
            return False
        self._file = handle
        return True

    def release(self) -> None:
        # Stopping and the projection thread may both release: take the handle
        # first, and let a descriptor already closed (process teardown) pass.
        handle, self._file = self._file, None
        if handle is not None:
            with contextlib.suppress(OSError):
                fcntl.flock(handle, fcntl.LOCK_UN)
            handle.close()


class AdvisoryLock:
    """A PostgreSQL session advisory lock, on its own connection: one bigint key, or
    two int keys (`pg_try_advisory_lock(int, int)`, a key space of its own)."""

    def __init__(
        self, conninfo: dict[str, Any], key: int = PROJECTOR_LOCK, second: int | None = None
    ) -> None:
        self.conninfo = {k: v for k, v in conninfo.items() if k != "row_factory"}
        self.key = key
        self.keys: tuple[int, ...] = (key,) if second is None else (key, second)
        self._conn: psycopg.Connection[Any] | None = None

    def acquire(self) -> bool:
        try:
            if self._conn is not None:
                self._conn.execute("SELECT 1")  # still connected, so still held
                return True
            conn = psycopg.connect(**self.conninfo, autocommit=True, connect_timeout=5)
            marks = ", ".join("%s" for _ in self.keys)
            row = conn.execute(f"SELECT pg_try_advisory_lock({marks})", self.keys).fetchone()
            if row is None or not row[0]:
                conn.close()
                return False
            self._conn = conn
            return True
        except psycopg.Error:
            self.release()
            return False

    def release(self) -> None:
        """Unlock, then close. The server also frees a session's locks when its backend
        exits, but only a moment after the client has closed (later still when the
        backend has work to do on exit, such as dropping temporary tables): a process
        that took over at once would be refused. So the unlock is explicit, and closing
        is only the fallback for a connection that is already broken."""
        conn, self._conn = self._conn, None
        if conn is None:
            return
        try:
            marks = ", ".join("%s" for _ in self.keys)
            conn.execute(f"SELECT pg_advisory_unlock({marks})", self.keys)
        except psycopg.Error:
            pass  # the session is gone or going: the server frees the lock with it
        finally:
            conn.close()


class NoLock:
    def acquire(self) -> bool:
        return True

    def release(self) -> None:
        pass


def projector_lock(tracker: Tracker) -> ProjectorLock:
    """The lock that elects one projector among the processes sharing the store."""
    return partition_lock(tracker, Partition(0, 1))


def partition_lock(tracker: Tracker, partition: Partition) -> ProjectorLock:
    """The lock of one partition of the read model: with one partition, the projector's
    lock as ever (advisory key PROJECTOR_LOCK, `<db>.projector.lock`); partition k of
    P > 1 takes advisory keys (PROJECTOR_LOCK, k), or `<db>.projector.lock.{k}of{P}`."""
    recorder: Any = tracker.recorder
    k, count = partition.index, partition.count
    if isinstance(recorder, SQLiteApplicationRecorder):
        name = tracker.env.get("SQLITE_DBNAME") or ""
        if "memory" in name:
            return NoLock()
        suffix = "" if count == 1 else f".{k}of{count}"
        return FileLock(Path(f"{name}.projector.lock{suffix}"))
    conninfo = dict(recorder.datastore.pool.kwargs)
    return AdvisoryLock(conninfo) if count == 1 else AdvisoryLock(conninfo, PROJECTOR_LOCK, k)
