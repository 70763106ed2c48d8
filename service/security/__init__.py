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

from typing import Any

from eventsourcing.application import Application

from service.security.access_log import GENESIS_HASH, Access, AccessLog, ChainReport, entry_hash
from service.security.keys import (
    RECORDED_READERS,
    ApiKey,
    ApiKeyAlreadyRevoked,
    ApiKeyNotFound,
    InvalidApiKey,
    Keys,
    Role,
    hash_token,
    program_owner,
)
from service.security.tables import now_text

__all__ = [
    "GENESIS_HASH",
    "RECORDED_READERS",
    "Access",
    "ApiKey",
    "ApiKeyAlreadyRevoked",
    "ApiKeyNotFound",
    "ChainReport",
    "InvalidApiKey",
    "Role",
    "SecurityStore",
    "entry_hash",
    "hash_token",
    "now_text",
    "program_owner",
]


class SecurityStore(Keys, AccessLog):
    """Keys, revocations and the access log, in the tracker's own database.

    `datastore` is the event recorder's (`tracker.recorder.datastore`), SQLite or
    PostgreSQL: the same transactions, the same place to back up.
    """

    @classmethod
    def of(cls, tracker: Application[Any]) -> SecurityStore:
        """The store in the tracker's own database."""
        return cls(tracker.recorder.datastore)  # type: ignore[attr-defined]
