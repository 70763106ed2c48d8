"""`wht bench`: the benchmark of the `bench` package, against the stack's own floor."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def bench(
    database_url: Annotated[
        str | None,
        typer.Option(
            "--database-url",
            help="Kind and place of the stores: sqlite:///PATH (default: a "
            "temporary folder) or postgresql://USER@HOST:PORT/DB (a new database per store; DB "
            "is only connected to for CREATE/DROP DATABASE). Not WHT_DATABASE_URL: the "
            "benchmark never touches the service's own store.",
        ),
    ] = None,
    quick: Annotated[
        bool,
        typer.Option("--quick", help="A smoke run (1,000 programs; under a minute on SQLite)."),
    ] = False,
    json_file: Annotated[
        Path | None, typer.Option("--json", help="Also write the results to this file.")
    ] = None,
    programs: Annotated[
        int | None,
        typer.Option(
            help="Programs for the regulator and rebuild phases (default 10,000; quick 1,000)."
        ),
    ] = None,
    phases: Annotated[
        str | None,
        typer.Option(
            help="Comma-separated subset of ingest_single,ingest_batch,known_at,regulator "
            "(regulator includes rebuild)."
        ),
    ] = None,
    no_projection: Annotated[
        bool,
        typer.Option(
            "--no-projection", help="Serve the ingest phases with `wht serve --no-projection`."
        ),
    ] = False,
    keep: Annotated[bool, typer.Option("--keep", help="Keep the stores afterwards.")] = False,
) -> None:
    """Measure ingestion, point-in-time reads, regulator queries and rebuilds against the
    eventsourcing library alone on the same kind of store; print ratios (see BENCHMARKS.md)."""
    from bench.run import main

    argv: list[str] = []
    if database_url:
        argv += ["--database-url", database_url]
    if quick:
        argv.append("--quick")
    if json_file is not None:
        argv += ["--json", str(json_file)]
    if programs is not None:
        argv += ["--programs", str(programs)]
    if phases:
        argv += ["--phases", phases]
    if no_projection:
        argv.append("--no-projection")
    if keep:
        argv.append("--keep")
    raise typer.Exit(main(argv))
