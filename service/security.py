"""Who may see a program, and who did: API keys with roles, and the access log.

The records hold health information about injured workers, so every /v1 call
names a key once any key exists. A key is a random 32-byte token shown once;
only its SHA-256 is stored (a random token needs no slow hash: there is no
dictionary to guess from). Keys, revocations and the access log live in the
same database as the events, in append-only tables: a revocation is a new
row, and each access-log row carries the hash of the one before it, so that a
changed or deleted row shows (`verify_access_log`).
"""

from __future__ import annotations

import hashlib
import json
import secrets
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.persistence import IntegrityError, OperationalError
from eventsourcing.sqlite import SQLiteDatastore

from domain.errors import Conflict, InvalidRequest, NotFound, StoreUnavailable
from service.storage import store_errors_unavailable

GENESIS_HASH = "0" * 64
TOKEN_PREFIX = "wht_"
APPEND_ATTEMPTS = 20


class Role(StrEnum):
    """What a key may do (docs/security.md has the full table)."""

    PROVIDER = "provider"  # writes and reads its own provider_id's programs
    PAYER = "payer"  # reads every program
    AUDITOR = "auditor"  # reads every program, its audit, integrity, bundles, digest
    REGULATOR = "regulator"  # reads every program, the cross-program list, the digest
    ADMIN = "admin"  # keys and the access log, no programs


# Their reads are recorded in the access log (a provider reads only its own).
RECORDED_READERS = frozenset({Role.PAYER, Role.AUDITOR, Role.REGULATOR})


class ApiKeyNotFound(NotFound):
    title = "API key not found"


class ApiKeyAlreadyRevoked(Conflict):
    title = "API key already revoked"


class InvalidApiKey(InvalidRequest):
    title = "Invalid API key request"


@store_errors_unavailable
def program_owner(tracker: Application[Any], program_id: UUID) -> str | None:
    """The provider_id of a program's referral in force (else its first), None if none."""
    try:
        program: Any = tracker.repository.get(program_id)
    except AggregateNotFoundError:
        return None
    referral = program.referral or (program.trail[0] if program.trail else None)
    return getattr(referral.data, "provider_id", None) if referral else None


@dataclass(frozen=True)
class ApiKey:
    """A key as stored: never the token itself."""

    key_id: str
    role: Role
    provider_id: str | None
    label: str
    created_at: str
    revoked_at: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "role": self.role.value, "active": self.revoked_at is None}


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


def now_text() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


def clean(text: str | None, limit: int = 2000) -> str | None:
    """A request's text as the log keeps it: NUL spelled out (PostgreSQL text cannot hold
    it), at most `limit` characters."""
    return None if text is None else text.replace("\x00", "\\x00")[:limit]


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def entry_hash(entry: dict[str, Any]) -> str:
    """SHA-256 of an access-log row's canonical JSON, its predecessor's hash included."""
    fields = {k: v for k, v in entry.items() if k != "hash"}
    canonical = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def check_key_request(role: str, provider_id: str | None) -> Role:
    """The role of a new key; a provider key must name its provider and only it may."""
    try:
        parsed = Role(role)
    except ValueError:
        choices = ", ".join(r.value for r in Role)
        raise InvalidApiKey(f"Unknown role {role!r}: use one of {choices}.") from None
    if parsed is Role.PROVIDER and not (provider_id and provider_id.strip()):
        raise InvalidApiKey(
            "A provider key needs --provider ID: it sees only that provider's programs."
        )
    if parsed is not Role.PROVIDER and provider_id:
        raise InvalidApiKey(f"Only provider keys name a provider; a {parsed.value} key does not.")
    return parsed


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
KEY_COLUMNS = "k.key_id, k.role, k.provider_id, k.label, k.created_at, r.revoked_at"
KEYS_FROM = "wht_api_keys k LEFT JOIN wht_api_key_revocations r ON r.key_id = k.key_id"


class SecurityStore:
    """Keys, revocations and the access log, in the tracker's own database.

    `datastore` is the event recorder's (`tracker.recorder.datastore`), SQLite or
    PostgreSQL: the same transactions, the same place to back up.
    """

    @classmethod
    def of(cls, tracker: Application[Any]) -> SecurityStore:
        """The store in the tracker's own database."""
        return cls(tracker.recorder.datastore)  # type: ignore[attr-defined]

    def __init__(self, datastore: Any, clock: Callable[[], str] = now_text) -> None:
        self.datastore = datastore
        self.sqlite = isinstance(datastore, SQLiteDatastore)
        self.clock = clock
        self._keys_exist = False
        self.create_tables()

    # ---- plumbing ----

    @contextmanager
    def _tx(self, commit: bool) -> Iterator[Any]:
        with self.datastore.transaction(commit=commit) as curs:
            yield curs

    def _sql(self, sql: str) -> str:
        return sql if self.sqlite else sql.replace("?", "%s")

    def _rows(self, sql: str, params: tuple[Any, ...] = ()) -> list[Any]:
        with self._tx(commit=False) as curs:
            curs.execute(self._sql(sql), params)
            return list(curs.fetchall())

    def create_tables(self) -> None:
        """Create the three tables and their append-only guards, if missing."""
        seq = "INTEGER" if self.sqlite else "bigint"
        tables = [
            "CREATE TABLE IF NOT EXISTS wht_api_keys (key_id TEXT PRIMARY KEY, "
            "key_hash TEXT NOT NULL UNIQUE, role TEXT NOT NULL, provider_id TEXT, "
            "label TEXT NOT NULL, created_at TEXT NOT NULL)",
            "CREATE TABLE IF NOT EXISTS wht_api_key_revocations (key_id TEXT PRIMARY KEY "
            "REFERENCES wht_api_keys (key_id), revoked_at TEXT NOT NULL, reason TEXT NOT NULL)",
            f"CREATE TABLE IF NOT EXISTS wht_access_log (seq {seq} PRIMARY KEY, at TEXT NOT NULL, "
            "key_id TEXT NOT NULL, role TEXT NOT NULL, method TEXT NOT NULL, "
            "endpoint TEXT NOT NULL, path TEXT NOT NULL, status INTEGER NOT NULL, "
            "program_id TEXT, as_of TEXT, known_at TEXT, query TEXT NOT NULL, "
            "prev_hash TEXT NOT NULL, hash TEXT NOT NULL)",
            "CREATE INDEX IF NOT EXISTS wht_access_log_program ON wht_access_log (program_id)",
        ]
        names = ["wht_api_keys", "wht_api_key_revocations", "wht_access_log"]
        if self.sqlite:
            guards = [
                f"CREATE TRIGGER IF NOT EXISTS {n}_no_{op.lower()} BEFORE {op} ON {n} "
                f"BEGIN SELECT RAISE(ABORT, '{n} is append-only'); END"
                for n in names
                for op in ("UPDATE", "DELETE")
            ]
        else:
            guards = [
                "CREATE OR REPLACE FUNCTION wht_append_only() RETURNS trigger LANGUAGE plpgsql "
                "AS $$ BEGIN RAISE EXCEPTION '% is append-only', TG_TABLE_NAME; END $$",
                *(
                    f"CREATE OR REPLACE TRIGGER {n}_append_only BEFORE UPDATE OR DELETE ON {n} "
                    "FOR EACH ROW EXECUTE FUNCTION wht_append_only()"
                    for n in names
                ),
            ]
        with self._tx(commit=True) as curs:
            if not self.sqlite:  # two processes starting at once must not race on DDL
                curs.execute("SELECT pg_advisory_xact_lock(4815162342)")
            for statement in [*tables, *guards]:
                curs.execute(statement)

    # ---- keys ----

    def add_key(
        self, role: str, provider_id: str | None = None, label: str = ""
    ) -> tuple[ApiKey, str]:
        """Create a key; return it and its token (shown once, never stored)."""
        parsed = check_key_request(role, provider_id)
        if "\x00" in label or "\x00" in (provider_id or ""):
            raise InvalidApiKey("A label or provider id cannot hold a NUL character.")
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        key = ApiKey(
            f"k-{secrets.token_hex(6)}",
            parsed,
            provider_id.strip() if provider_id else None,
            label,
            self.clock(),
        )
        with self._tx(commit=True) as curs:
            curs.execute(
                self._sql(
                    "INSERT INTO wht_api_keys (key_id, key_hash, role, provider_id, label, "
                    "created_at) VALUES (?, ?, ?, ?, ?, ?)"
                ),
                (
                    key.key_id,
                    hash_token(token),
                    key.role.value,
                    key.provider_id,
                    key.label,
                    key.created_at,
                ),
            )
        self._keys_exist = True
        return key, token

    @staticmethod
    def _key(row: Any) -> ApiKey:
        return ApiKey(
            row["key_id"],
            Role(row["role"]),
            row["provider_id"],
            row["label"],
            row["created_at"],
            row["revoked_at"],
        )

    @store_errors_unavailable
    def list_keys(self) -> list[ApiKey]:
        """Every key ever made, revoked ones included, oldest first."""
        rows = self._rows(f"SELECT {KEY_COLUMNS} FROM {KEYS_FROM} ORDER BY k.created_at, k.key_id")
        return [self._key(r) for r in rows]

    def revoke(self, key_id: str, reason: str = "") -> ApiKey:
        """Revoke a key from now on: a new row, the key's own row is never changed."""
        rows = (
            self._rows(f"SELECT {KEY_COLUMNS} FROM {KEYS_FROM} WHERE k.key_id = ?", (key_id,))
            if "\x00" not in key_id
            else []
        )
        if not rows:
            raise ApiKeyNotFound(f"No API key {key_id!r}; `wht keys list` shows them.")
        key = self._key(rows[0])
        if key.revoked_at is not None:
            raise ApiKeyAlreadyRevoked(
                f"API key {key_id} is already revoked (at {key.revoked_at})."
            )
        revoked_at = self.clock()
        try:
            with self._tx(commit=True) as curs:
                curs.execute(
                    self._sql(
                        "INSERT INTO wht_api_key_revocations (key_id, revoked_at, "
                        "reason) VALUES (?, ?, ?)"
                    ),
                    (key_id, revoked_at, reason),
                )
        except IntegrityError:
            raise ApiKeyAlreadyRevoked(f"API key {key_id} is already revoked.") from None
        return ApiKey(key.key_id, key.role, key.provider_id, key.label, key.created_at, revoked_at)

    @store_errors_unavailable
    def authenticate(self, token: str) -> ApiKey | None:
        """The active key a bearer token belongs to, or None (unknown or revoked)."""
        rows = self._rows(
            f"SELECT {KEY_COLUMNS} FROM {KEYS_FROM} WHERE k.key_hash = ?", (hash_token(token),)
        )
        if not rows or rows[0]["revoked_at"] is not None:
            return None
        return self._key(rows[0])

    @store_errors_unavailable
    def has_keys(self) -> bool:
        """Has any key ever been made? Revoking every key does not reopen the service."""
        if not self._keys_exist:  # once true it stays true: keys are never deleted
            self._keys_exist = bool(self._rows("SELECT 1 FROM wht_api_keys LIMIT 1"))
        return self._keys_exist

    # ---- access log ----

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
