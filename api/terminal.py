"""What every `wht` command shares: opening the store, and failing on stderr."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import typer

from api.bootstrap import BadDatabaseUrl, tracker_for
from api.settings import Settings, redacted
from domain.errors import TrackerError
from service.application import Tracker


def fail(message: str, code: int = 1) -> typer.Exit:
    """Say what went wrong on stderr; the caller raises the returned Exit."""
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code)


def settings_of(ctx: typer.Context) -> Settings:
    """The settings `wht` read as it started (`api.cli.start` puts them on the context)."""
    settings = ctx.find_object(Settings)
    if settings is None:  # pragma: no cover - every command runs under `start`
        raise RuntimeError("wht: the command ran without the CLI's settings")
    return settings


def open_tracker(settings: Settings) -> Tracker:
    """The tracker on WHT_DATABASE_URL; a bad URL exits 2, an unreachable store 1."""
    try:
        return tracker_for(settings)
    except BadDatabaseUrl as exc:
        raise fail(redacted(str(exc), settings.database_url), 2) from None
    except Exception as exc:  # the store itself is unreachable or unreadable
        message = redacted(str(exc), settings.database_url)
        raise fail(f"cannot open the store at {settings.store_for_humans}: {message}") from None


@contextmanager
def tracker_session(settings: Settings) -> Iterator[Tracker]:
    """The tracker, closed afterwards; domain refusals become stderr and exit 1."""
    tracker = open_tracker(settings)
    try:
        yield tracker
    except TrackerError as error:
        raise fail(error.detail) from None
    finally:
        tracker.close()
