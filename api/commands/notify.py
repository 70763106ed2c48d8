"""`wht notify`: deliver alerts by webhook as its own process (`wht serve` runs the same
notifier in a background thread unless `--no-notify`)."""

from __future__ import annotations

import logging
import signal
from types import FrameType
from typing import Annotated

import typer

from api.settings import Settings
from api.terminal import settings_of, tracker_session
from service.application import Tracker
from service.notify import AlertStore, Destinations, Notifier, RetryPolicy, open_alert_store


def notifier_for(tracker: Tracker, settings: Settings, store: AlertStore | None = None) -> Notifier:
    """The notifier on the tracker's store, timed by the settings (WHT_NOTIFY_*)."""
    return Notifier(
        tracker,
        store if store is not None else open_alert_store(tracker),
        policy=RetryPolicy(
            base=settings.notify_backoff_base,
            cap=settings.notify_backoff_cap,
            retry_for=settings.notify_retry_for,
            timeout=settings.notify_timeout,
        ),
        poll=settings.notify_poll,
        sweep_every=settings.notify_sweep_every,
        destinations=Destinations.allowing(settings.webhook_allow_hosts),
    )


def notify(
    ctx: typer.Context,
    once: Annotated[
        bool,
        typer.Option(
            "--once", help="Follow every event stored now, sweep, attempt what is due, then exit."
        ),
    ] = False,
) -> None:
    """Deliver alerts by webhook (docs/alerts.md), as its own process."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    settings = settings_of(ctx)
    with tracker_session(settings) as tracker:
        notifier = notifier_for(tracker, settings)
        if once:
            if not notifier.lock.acquire():
                typer.echo("error: another notifier is running on this store", err=True)
                raise typer.Exit(1)
            try:
                notifier.step()
            finally:
                notifier.lock.release()
            return

        def stop(signum: int, frame: FrameType | None) -> None:
            notifier.stop()

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        typer.echo(
            f"wht notify: following the store from {notifier.follower.position()}; Ctrl-C to stop",
            err=True,
        )
        notifier.run_forever()
        typer.echo(f"wht notify: stopped at {notifier.follower.position()}", err=True)
