"""The `wht` command: serve the API, load demo programs, and the tools issues add."""

from __future__ import annotations

import logging.config
import sys
from enum import StrEnum
from typing import Annotated

import typer
from pydantic import ValidationError

from api.commands import audit, bench, importing, keys, readmodel
from api.commands.notify import notify as notify_command
from api.commands.report import report as report_command
from api.settings import Settings
from api.terminal import open_tracker, settings_of

cli = typer.Typer(
    help="Work hardening compliance tracker. Storage: WHT_DATABASE_URL "
    "(default sqlite:///var/wht.sqlite; or postgresql://USER[:PASSWORD]@HOST:PORT/DB).",
    no_args_is_help=True,
    add_completion=False,
)


class LogFormat(StrEnum):
    text = "text"
    json = "json"


@cli.callback()
def start(ctx: typer.Context) -> None:
    # The one place the CLI reads the environment: every command receives these settings.
    try:
        ctx.obj = Settings()
    except ValidationError as exc:  # say which variable and why, never its value (a secret?)
        for error in exc.errors():
            message = error["msg"].removeprefix("Value error, ")
            name = "WHT_" + "_".join(str(part) for part in error["loc"]).upper()
            typer.echo(f"error: {message if 'WHT_' in message else f'{name}: {message}'}", err=True)
        raise typer.Exit(2) from None


def serve(
    ctx: typer.Context,
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    projection: Annotated[
        bool,
        typer.Option(
            help="Keep the regulator's read model up to date in this process (a background "
            "thread; with several servers on one PostgreSQL one projects, the others stand by). "
            "--no-projection leaves it to `wht project`."
        ),
    ] = True,
    notify: Annotated[
        bool,
        typer.Option(
            help="Deliver alerts by webhook in this process (a background thread; with "
            "several processes on one store one delivers, the others stand by). --no-notify "
            "leaves it to `wht notify`."
        ),
    ] = True,
    log_format: Annotated[
        LogFormat,
        typer.Option(
            help="text: readable lines; json: one JSON object a line, each with its "
            "request_id (also answered in the X-Request-Id header)."
        ),
    ] = LogFormat.text,
) -> None:
    """Run the HTTP service."""
    import uvicorn

    from api.app import create_app
    from api.telemetry import log_config

    # Configured before anything logs, so that every line of this process has one format.
    config = log_config(log_format.value)
    logging.config.dictConfig(config)
    settings = settings_of(ctx)
    tracker = open_tracker(settings)
    from api.auth import check_serve_host

    if refusal := check_serve_host(host, tracker):
        typer.echo(f"error: {refusal}", err=True)
        raise typer.Exit(2)
    logging.getLogger("wht").info(
        "wht: serving on http://%s:%d (store: %s)", host, port, settings.store_for_humans
    )
    app = create_app(tracker, settings=settings, projection=projection, notify=notify)
    from api.serving import HEAD_BYTES, bounded_protocol

    protocol = bounded_protocol(
        settings.header_timeout, settings.body_timeout, settings.max_connections
    )
    uvicorn.run(
        app,
        host=host,
        port=port,
        log_config=config,
        # Telemetry writes one access line per request, with its route and request id.
        access_log=False,
        http=protocol,
        h11_max_incomplete_event_size=HEAD_BYTES,
    )


def demo(ctx: typer.Context) -> None:
    """Load four realistic demo programs through the ingestion path (safe to repeat)."""
    from service.demo import AS_OF, load_demo

    tracker = open_tracker(settings_of(ctx))
    typer.echo(f"figures as of {AS_OF} (the demo's fixed business date; the same on any day)")
    for name, program_id, figures in load_demo(tracker):
        typer.echo(
            f"{name:<28} {program_id}  status={figures['status']:<10} "
            f"hours={figures['total_hours']:<6} reimbursable={figures['reimbursable_hours']:<6} "
            f"findings={len(figures['findings'])}"
        )


# Every command, in the order `wht --help` lists them.
cli.command()(serve)
cli.command()(demo)
cli.command()(audit.replay)
cli.command()(audit.verify)
cli.command()(audit.bundle)
cli.command("check-bundle")(audit.check_bundle_command)
cli.command()(bench.bench)
keys_cli = typer.Typer(help=keys.HELP, no_args_is_help=True)
keys_cli.command("add")(keys.add)
keys_cli.command("list")(keys.list_keys)
keys_cli.command("revoke")(keys.revoke)
keys_cli.command("cipher-key")(keys.cipher_key)
keys_cli.command("session-secret")(keys.session_secret)
cli.add_typer(keys_cli, name="keys")
cli.command()(readmodel.project)
cli.command()(readmodel.rebuild)
cli.command("import")(importing.import_events)
cli.command("notify")(notify_command)
cli.command("report")(report_command)


def main() -> None:
    try:
        cli()
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main()
