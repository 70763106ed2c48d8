"""The `wht` command: serve the API, load demo programs, and the tools issues add."""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from pydantic import ValidationError

from api.commands import audit, bench, keys, readmodel
from api.settings import Settings
from api.terminal import open_tracker, settings_of

cli = typer.Typer(
    help="Work hardening compliance tracker. Storage: WHT_DATABASE_URL "
    "(default sqlite:///var/wht.sqlite; or postgresql://USER[:PASSWORD]@HOST:PORT/DB).",
    no_args_is_help=True,
    add_completion=False,
)


@cli.callback()
def start(ctx: typer.Context) -> None:
    # The one place the CLI reads the environment: every command receives these settings.
    try:
        ctx.obj = Settings()
    except ValidationError as exc:  # e.g. WHT_PROGRAM_CACHE_SIZE=0: say which, exit 2
        for error in exc.errors():
            name = "WHT_" + "_".join(str(part) for part in error["loc"]).upper()
            typer.echo(f"error: {name}: {error['msg']}", err=True)
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
) -> None:
    """Run the HTTP service."""
    import uvicorn

    from api.app import create_app

    settings = settings_of(ctx)
    tracker = open_tracker(settings)
    from api.auth import check_serve_host

    if refusal := check_serve_host(host, tracker):
        typer.echo(f"error: {refusal}", err=True)
        raise typer.Exit(2)
    typer.echo(
        f"wht: serving on http://{host}:{port} (store: {settings.store_for_humans})", err=True
    )
    app = create_app(tracker, settings=settings, projection=projection)
    uvicorn.run(app, host=host, port=port, log_level="info")


def demo(ctx: typer.Context) -> None:
    """Load four realistic demo programs through the ingestion path (safe to repeat)."""
    from service.demo import load_demo

    tracker = open_tracker(settings_of(ctx))
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
cli.add_typer(keys_cli, name="keys")
cli.command()(readmodel.project)
cli.command()(readmodel.rebuild)
cli.command("import")(readmodel.import_events)


def main() -> None:
    try:
        cli()
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main()
