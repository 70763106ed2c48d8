"""API keys: roles, the keys themselves (only a token's SHA-256 is stored), revocations,
and whose program a provider key may see."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.persistence import IntegrityError

from domain.errors import Conflict, InvalidRequest, NotFound
from service.integrity import TrailDamaged
from service.security.tables import Tables
from service.storage import store_errors_unavailable

TOKEN_PREFIX = "wht_"


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
        program: Any = tracker.program(program_id)  # type: ignore[attr-defined]
    except AggregateNotFoundError:
        return None
    except TrailDamaged:
        # Whose it is still decides who may hear that it is damaged (the others get
        # 404): the referral at version 1, if that much of the trail still reads.
        return _first_provider(tracker, program_id)
    referral = program.referral or (program.trail[0] if program.trail else None)
    return getattr(referral.data, "provider_id", None) if referral else None


def _first_provider(tracker: Application[Any], program_id: UUID) -> str | None:
    try:
        first = tracker.recorder.select_events(program_id, lte=1, limit=1)
        data = getattr(tracker.mapper.to_domain_event(first[0]), "data", None) if first else None
    except Exception:  # damaged there too: nobody's, as far as anyone can tell
        return None
    provider = data.get("provider_id") if isinstance(data, dict) else None
    return provider if isinstance(provider, str) else None


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


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


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


KEY_COLUMNS = "k.key_id, k.role, k.provider_id, k.label, k.created_at, r.revoked_at"
KEYS_FROM = "wht_api_keys k LEFT JOIN wht_api_key_revocations r ON r.key_id = k.key_id"


class Keys(Tables):
    """The keys and their revocations (tables wht_api_keys, wht_api_key_revocations)."""

    _keys_exist = False  # once true it stays true: keys are never deleted

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
    def end_ui_session(self, session_id: str) -> None:
        """Sign a web session out for good, on every server of this store."""
        with self._tx(commit=True) as curs:
            sql = "INSERT INTO wht_ui_session_ends (session_id, ended_at) VALUES (?, ?)"
            if self.sqlite:
                curs.execute(sql.replace("INSERT", "INSERT OR IGNORE"), (session_id, self.clock()))
            else:
                curs.execute(
                    self._sql(sql) + " ON CONFLICT (session_id) DO NOTHING",
                    (session_id, self.clock()),
                )

    def ui_session_ended(self, session_id: str) -> bool:
        """Whether the web session was signed out."""
        rows = self._rows("SELECT 1 FROM wht_ui_session_ends WHERE session_id = ?", (session_id,))
        return bool(rows)

    def has_keys(self) -> bool:
        """Has any key ever been made? Revoking every key does not reopen the service."""
        if not self._keys_exist:  # once true it stays true: keys are never deleted
            self._keys_exist = bool(self._rows("SELECT 1 FROM wht_api_keys LIMIT 1"))
        return self._keys_exist
