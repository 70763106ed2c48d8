"""The one place that wires the tracker to its store."""

from __future__ import annotations

import binascii
from base64 import b64decode
from pathlib import Path
from urllib.parse import unquote, urlsplit

from api.settings import Settings, redacted_url
from service.application import PROGRAM_CACHE_SIZE, Tracker
from service.persistence.connect import START_WAIT, await_postgres
from service.persistence.sealed import Sealing


class BadDatabaseUrl(ValueError):
    pass


class BadCipherKey(BadDatabaseUrl):
    """WHT_CIPHER_KEY is not a base64 AES key. (A BadDatabaseUrl, so that the CLI reports
    it as the configuration error it is, exit status 2.)"""


CIPHER_TOPIC = "eventsourcing.cipher:AESCipher"
COMPRESSOR_TOPIC = "eventsourcing.compressor:ZlibCompressor"


def store_env(database_url: str) -> dict[str, str]:
    """The eventsourcing environment for a WHT_DATABASE_URL (docs/reference/cli.md)."""
    if database_url.startswith("sqlite:///"):
        path = database_url[len("sqlite:///") :]
        if not path:
            raise BadDatabaseUrl("sqlite URL needs a path: sqlite:///var/wht.sqlite")
        if path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        return {
            "PERSISTENCE_MODULE": "eventsourcing.sqlite",
            "SQLITE_DBNAME": path if path != ":memory:" else "file::memory:?cache=shared",
            "SQLITE_LOCK_TIMEOUT": "30",
            "APPLICATION_RECORDER_TOPIC": "service.persistence.sealed:SealedSQLiteRecorder",
        }
    if database_url.startswith(("postgresql://", "postgres://")):
        url = urlsplit(database_url)
        dbname = url.path.lstrip("/")
        if not dbname:
            raise BadDatabaseUrl("postgresql URL needs a database: postgresql://USER@HOST:PORT/DB")
        return {
            "PERSISTENCE_MODULE": "eventsourcing.postgres",
            "POSTGRES_DBNAME": dbname,
            "POSTGRES_HOST": url.hostname or "127.0.0.1",
            "POSTGRES_PORT": str(url.port or 5432),
            "POSTGRES_USER": unquote(url.username or "postgres"),
            "POSTGRES_PASSWORD": unquote(url.password or ""),
            "POSTGRES_LOCK_TIMEOUT": "10",
            # The pool keeps 2 connections open and opens more, up to 30, while requests
            # wait for one (the library opens POOL_SIZE at once and keeps them): a server
            # takes 100 by default, and a fleet of idle processes must not hold them all.
            "POSTGRES_POOL_SIZE": "2",
            "POSTGRES_MAX_OVERFLOW": "28",
            # Wait at most 5 s for a connection (the library's default is 30): a stopped
            # database answers 503 promptly. Check a pooled connection before use, so that
            # connections the server dropped are replaced, not handed to a request.
            "POSTGRES_CONNECT_TIMEOUT": "5",
            "POSTGRES_PRE_PING": "y",
            "APPLICATION_RECORDER_TOPIC": "service.persistence.sealed:SealedPostgresRecorder",
        }
    raise BadDatabaseUrl(
        f"Unsupported WHT_DATABASE_URL {redacted_url(database_url)!r}: use sqlite:///PATH or "
        "postgresql://USER[:PASSWORD]@HOST:PORT/DB"
    )


def postgres_conninfo(settings: dict[str, str]) -> dict[str, str | int]:
    """psycopg's connection settings for a PostgreSQL store's eventsourcing settings."""
    return {
        "dbname": settings["POSTGRES_DBNAME"],
        "host": settings["POSTGRES_HOST"],
        "port": int(settings["POSTGRES_PORT"]),
        "user": settings["POSTGRES_USER"],
        "password": settings["POSTGRES_PASSWORD"],
        "connect_timeout": max(1, round(float(settings["POSTGRES_CONNECT_TIMEOUT"]))),
    }


def cipher_env(cipher_key: str | None) -> dict[str, str]:
    """The eventsourcing keys that encrypt (AES-GCM) and compress stored events, or that
    keep them plain when `cipher_key` is empty.

    The library reads each key as WHT_KEY before KEY (the tracker's name is "wht"), from
    the process environment too; both spellings are set so this choice is the one made.
    """
    if cipher_key:
        try:
            size = len(b64decode(cipher_key.encode("ascii"), validate=True))
        except (binascii.Error, UnicodeEncodeError):
            size = -1
        if size not in (16, 24, 32):
            raise BadCipherKey(
                "WHT_CIPHER_KEY must be a base64 AES key of 16, 24 or 32 bytes; "
                "`wht keys cipher-key` prints a new one."
            )
    values = {
        "CIPHER_TOPIC": CIPHER_TOPIC if cipher_key else "",
        "CIPHER_KEY": cipher_key or "",
        "COMPRESSOR_TOPIC": COMPRESSOR_TOPIC if cipher_key else "",
    }
    return {**values, **{f"WHT_{k}": v for k, v in values.items()}}


def build_tracker(
    database_url: str,
    *,
    cipher_key: str | None = None,
    env: dict[str, str] | None = None,
    program_cache_size: int = PROGRAM_CACHE_SIZE,
    start_wait: float = START_WAIT,
) -> Tracker:
    """A tracker on the store the URL names, its tables created if missing.

    PostgreSQL is reached first by `await_postgres`: a server with no free connection
    slot, or starting up, is waited for at most `start_wait` seconds; any other refusal
    raises StoreUnreachable at once, in the server's own words.

    `cipher_key` (None or "" for none; `tracker_for` passes WHT_CIPHER_KEY's) encrypts
    and compresses what is stored: the events, and the receipts the event index keeps for
    retries. `env` adds or overrides eventsourcing settings (e.g. POSTGRES_CONNECT_TIMEOUT).
    `program_cache_size` bounds the programs kept in memory (WHT_PROGRAM_CACHE_SIZE).
    """
    settings = {**store_env(database_url), **cipher_env(cipher_key), **(env or {})}
    if settings["PERSISTENCE_MODULE"] == "eventsourcing.postgres":
        await_postgres(postgres_conninfo(settings), start_wait)
    tracker = Tracker(env=settings, program_cache_size=program_cache_size)
    if isinstance(tracker.recorder, Sealing):
        tracker.recorder.cipher = tracker.mapper.cipher
        tracker.recorder.compressor = tracker.mapper.compressor
    return tracker


def tracker_for(settings: Settings, env: dict[str, str] | None = None) -> Tracker:
    """The tracker on the settings' store (WHT_DATABASE_URL), sealed with WHT_CIPHER_KEY,
    keeping at most WHT_PROGRAM_CACHE_SIZE programs in memory."""
    return build_tracker(
        settings.database_url,
        cipher_key=settings.cipher_key,
        env=env,
        program_cache_size=settings.program_cache_size,
        start_wait=settings.store_start_wait,
    )
