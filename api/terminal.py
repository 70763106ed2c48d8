"""What every `wht` command shares: opening the store, and failing on stderr."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import typer

from api.bootstrap import BadDatabaseUrl, build_tracker
from api.settings import Settings
from domain.errors import TrackerError
from service.application import Tracker


def fail(message: str, code: int = 1) -> typer.Exit:
    """Say what went wrong on stderr; the caller raises the returned Exit."""
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code)


def open_tracker() -> Tracker:
    """The tracker on WHT_DATABASE_URL; a bad URL exits 2, an unreachable store 1."""
    url = Settings().database_url
    try:
        return build_tracker(url)
    except BadDatabaseUrl as exc:
        raise fail(str(exc), 2) from None
    except Exception as exc:  # the store itself is unreachable or unreadable
        raise fail(f"cannot open the store at {url}: {exc}") from None


@contextmanager
def tracker_session() -> Iterator[Tracker]:
    """The tracker, closed afterwards; domain refusals become stderr and exit 1."""
    tracker = open_tracker()
    try:
        yield tracker
    except TrackerError as error:
        raise fail(error.detail) from None
    finally:
        tracker.close()
