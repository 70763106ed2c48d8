"""The access log: every read by a payer, auditor or regulator, in a hash chain (each row
carries the hash of the one before it, so that a changed or deleted row shows)."""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import asdict, dataclass
from typing import Any

from eventsourcing.persistence import IntegrityError, OperationalError

from domain.errors import StoreUnavailable
from service.security.tables import Tables
from service.storage import store_errors_unavailable

GENESIS_HASH = "0" * 64
APPEND_ATTEMPTS = 20


@dataclass(frozen=True)
class Access:
    """One read, as the access log records it (`at` is set when it is appended)."""

    key_id: str
    role: str
    method: str
    endpoint: str  # the route template, e.g. /v1/programs/{program_id}/compliance
    path: str
    status: int
    program_id: str | None = None
    as_of: str | None = None
    known_at: str | None = None
    query: str = ""


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    entries_checked: int
    head_hash: str
    first_bad_seq: int | None


def clean(text: str | None, limit: int = 2000) -> str | None:
    """A request's text as the log keeps it: NUL spelled out (PostgreSQL text cannot hold
    it), at most `limit` characters."""
    return None if text is None else text.replace("\x00", "\\x00")[:limit]


def entry_hash(entry: dict[str, Any]) -> str:
    """SHA-256 of an access-log row's canonical JSON, its predecessor's hash included."""
    fields = {k: v for k, v in entry.items() if k != "hash"}
    canonical = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


LOG_COLUMNS = (
    "seq",
    "at",
    "key_id",
    "role",
    "method",
    "endpoint",
    "path",
    "status",
    "program_id",
    "as_of",
    "known_at",
    "query",
    "prev_hash",
    "hash",
)


class AccessLog(Tables):
    """The hash-chained access log (table wht_access_log)."""

    @store_errors_unavailable
    def record_access(self, access: Access) -> dict[str, Any]:
        """Append one read to the hash-chained access log; return the stored row."""
        for attempt in range(APPEND_ATTEMPTS):
            try:
                return self._append(access)
            except (IntegrityError, OperationalError) as error:
                # Another process appended the same seq first, or (SQLite) wrote while
                # this one read: try again. Any other failure is the store's: raise it.
                busy = isinstance(error, OperationalError) and "locked" in str(error)
                if attempt == APPEND_ATTEMPTS - 1 or not (
                    busy or isinstance(error, IntegrityError)
                ):
                    # Even a race lost twenty times over: the log cannot be written now.
                    raise StoreUnavailable(str(error)) from error
                time.sleep(0.005 * (attempt + 1))
        raise AssertionError("unreachable")

    def _append(self, access: Access) -> dict[str, Any]:
        with self._tx(commit=True) as curs:
            if not self.sqlite:  # appenders queue here; readers are not blocked
                curs.execute("LOCK TABLE wht_access_log IN SHARE ROW EXCLUSIVE MODE")
            curs.execute("SELECT seq, hash FROM wht_access_log ORDER BY seq DESC LIMIT 1")
            last = curs.fetchone()
            fields = {k: clean(v) if isinstance(v, str) else v for k, v in asdict(access).items()}
            entry: dict[str, Any] = {
                "seq": (last["seq"] + 1) if last else 1,
                "at": self.clock(),
                **fields,
                "prev_hash": last["hash"] if last else GENESIS_HASH,
            }
            entry["hash"] = entry_hash(entry)
            curs.execute(
                self._sql(
                    f"INSERT INTO wht_access_log ({', '.join(LOG_COLUMNS)}) "
                    f"VALUES ({', '.join('?' for _ in LOG_COLUMNS)})"
                ),
                tuple(entry[c] for c in LOG_COLUMNS),
            )
        return entry

    @store_errors_unavailable
    def access_log(
        self,
        *,
        key_id: str | None = None,
        program_id: str | None = None,
        since: str | None = None,
        until: str | None = None,
        after: int = 0,
        limit: int = 100,
    ) -> list[dict[str, Any]]:
        """Who read what, oldest first, from seq `after` on; filters are ANDed."""
        if any("\x00" in (v or "") for v in (key_id, program_id, since, until)):
            return []  # no stored value holds a NUL (`clean`), and PostgreSQL refuses one
        where, params = ["seq > ?"], list[Any]([after])
        for column, op, value in (
            ("key_id", "=", key_id),
            ("program_id", "=", program_id),
            ("at", ">=", since),
            ("at", "<=", until),
        ):
            if value is not None:
                where.append(f"{column} {op} ?")
                params.append(value)
        rows = self._rows(
            f"SELECT {', '.join(LOG_COLUMNS)} FROM wht_access_log WHERE "
            f"{' AND '.join(where)} ORDER BY seq LIMIT ?",
            (*params, limit),
        )
        return [{c: r[c] for c in LOG_COLUMNS} for r in rows]

    @store_errors_unavailable
    def verify_access_log(self) -> ChainReport:
        """Recompute the whole chain: has any row been changed, removed or inserted?"""
        prev, checked, after = GENESIS_HASH, 0, 0
        while True:
            page = self.access_log(after=after, limit=1000)
            for entry in page:
                checked += 1
                if (
                    entry["seq"] != checked
                    or entry["prev_hash"] != prev
                    or entry_hash(entry) != entry["hash"]
                ):
                    return ChainReport(False, checked, prev, entry["seq"])
                prev = entry["hash"]
            if len(page) < 1000:
                return ChainReport(True, checked, prev, None)
            after = page[-1]["seq"]
