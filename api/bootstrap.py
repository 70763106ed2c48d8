"""The one place that wires the tracker to its store."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlsplit

from domain.application import Tracker


class BadDatabaseUrl(ValueError):
    pass


def store_env(database_url: str) -> dict[str, str]:
    """The eventsourcing environment for a WHT_DATABASE_URL (API.md, "Command line")."""
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
            "APPLICATION_RECORDER_TOPIC": "domain.persistence.sqlite:IndexedSQLiteRecorder",
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
            "POSTGRES_POOL_SIZE": "10",
            "POSTGRES_MAX_OVERFLOW": "20",
            "APPLICATION_RECORDER_TOPIC": "domain.persistence.postgres:IndexedPostgresRecorder",
        }
    raise BadDatabaseUrl(
        f"Unsupported WHT_DATABASE_URL {database_url!r}: use sqlite:///PATH or "
        "postgresql://USER[:PASSWORD]@HOST:PORT/DB"
    )


def build_tracker(database_url: str) -> Tracker:
    """A tracker on the store the URL names, its tables created if missing."""
    return Tracker(env=store_env(database_url))
