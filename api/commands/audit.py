"""`wht replay`, `wht verify`, `wht bundle`, `wht check-bundle`: the auditor's tools."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any
from uuid import UUID

import typer
from rich.console import Console
from rich.table import Table

from api import tool_version
from api.deps import parse_as_of, parse_known_at
from api.terminal import fail, settings_of, tracker_session
from domain.errors import TrackerError

KnownAtOpt = Annotated[
    str | None,
    typer.Option(
        "--known-at", help="As the tracker knew it at this RFC 3339 instant (default: now)."
    ),
]
AsOfOpt = Annotated[
    str | None,
    typer.Option("--as-of", help="Figures as of this business date YYYY-MM-DD (default: today)."),
]


def parse_program(text: str) -> UUID:
    try:
        return UUID(text)
    except ValueError:
        raise fail(f"{text!r} is not a program id (a UUID).", 2) from None


def parse_times(known_at: str | None, as_of: str | None) -> tuple[datetime | None, date | None]:
    try:
        return parse_known_at(known_at), parse_as_of(as_of)
    except TrackerError as error:
        raise fail(error.detail, 2) from None


def _codes(findings: list[dict[str, Any]], mark: str) -> str:
    return "\n".join(f"{mark}{f['code']} ({f['clause']}) {f['occurred_on']}" for f in findings)


# The columns of `wht replay`: (name, shown without --wide). Narrow fits 80 columns.
COLUMNS = [
    ("v", True),
    ("recorded at (UTC)", False),
    ("occurred", True),
    ("event", True),
    ("status", False),
    ("days", False),
    ("hours", True),
    ("reimb.", False),
    ("abs.eq", False),
]


def replay_table(program_id: UUID, steps: list[dict[str, Any]], wide: bool = False) -> Table:
    dates = {step["figures"]["as_of"] for step in steps}
    # Without --as-of each step is judged at its own receipt date (docs/domain.md R21).
    when = f"as of {dates.pop()}" if len(dates) == 1 else "each as of its event's receipt date"
    table = Table(title=f"Program {program_id}: audit replay (figures {when})", show_lines=True)
    shown = [wide or narrow for _, narrow in COLUMNS]
    for (name, _), show in zip(COLUMNS, shown, strict=True):
        if show:
            left = name in ("recorded at (UTC)", "occurred", "event", "status")
            table.add_column(name, justify="left" if left else "right", no_wrap=True)
    table.add_column(
        "findings added (+) / resolved (-)", min_width=50 if wide else 20, overflow="fold"
    )
    for step in steps:
        fig = step["figures"]
        changes = "\n".join(
            filter(
                None,
                [_codes(step["findings_added"], "+ "), _codes(step["findings_resolved"], "- ")],
            )
        )
        cells = [
            str(step["version"]),
            step["recorded_at"][:23].replace("T", " "),
            step["occurred_on"],
            step["type"],
            fig["status"],
            str(fig["days_attended"]),
            str(fig["total_hours"]),
            str(fig["reimbursable_hours"]),
            str(fig["absence_equivalents"]),
        ]
        table.add_row(*[c for c, show in zip(cells, shown, strict=True) if show], changes or "")
    return table


def replay(
    ctx: typer.Context,
    program_id: Annotated[str, typer.Argument(help="The program's UUID.")],
    known_at: KnownAtOpt = None,
    as_of: Annotated[
        str | None,
        typer.Option(
            "--as-of",
            help="Every step's figures as of this business date YYYY-MM-DD (default: each "
            "step as of its event's receipt date).",
        ),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the JSON of GET /v1/programs/{id}/audit.")
    ] = False,
    wide: Annotated[
        bool,
        typer.Option(
            "--wide",
            help="Every column (record time, status, days, reimbursable hours, absence "
            "equivalents): needs about 170 columns. Without it the table fits the terminal.",
        ),
    ] = False,
) -> None:
    """Replay a program event by event: the figures after each, findings added/resolved."""
    from service.replay import audit

    pid = parse_program(program_id)
    instant, day = parse_times(known_at, as_of)
    with tracker_session(settings_of(ctx)) as tracker:
        steps = audit(tracker, pid, instant, day)
    if as_json:
        typer.echo(json.dumps(steps, indent=2, ensure_ascii=False))
        return
    console = Console(width=max(Console().width, 170)) if wide else Console()
    console.print(replay_table(pid, steps, wide))
    last = steps[-1]["figures"]
    console.print(
        f"{len(steps)} events; now: status {last['status']}, "
        f"{len(last['findings'])} findings, discharge eligible: "
        f"{last['discharge_eligible']}"
    )


def verify(
    ctx: typer.Context,
    program_id: Annotated[str | None, typer.Argument(help="The program's UUID.")] = None,
    all_programs: Annotated[bool, typer.Option("--all", help="Every program.")] = False,
    digest: Annotated[
        str | None,
        typer.Option(
            "--digest",
            metavar="HEX@POSITION",
            help="Prove the store still holds exactly the history a published digest "
            "(GET /v1/digest) names.",
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON reports.")] = False,
) -> None:
    """Recompute hash chains (one program or --all) or check a published digest.
    Exits 1 on any break, naming the first bad version."""
    from service.digest import check_digest, parse_token
    from service.replay import all_program_ids, integrity

    if not (program_id or all_programs or digest):
        raise fail("give a PROGRAM_ID, --all or --digest HEX@POSITION (see --help).", 2)
    if program_id and all_programs:
        raise fail("give either a PROGRAM_ID or --all, not both.", 2)
    token = None
    if digest:
        try:
            token = parse_token(digest)
        except ValueError as exc:
            raise fail(f"--digest: {exc}", 2) from None
    broken = 0
    with tracker_session(settings_of(ctx)) as tracker:
        ids = (
            [parse_program(program_id)]
            if program_id
            else (all_program_ids(tracker) if all_programs else [])
        )
        reports = [integrity(tracker, pid) for pid in ids]
        digest_result = check_digest(tracker.recorder, *token) if token else None
    for report in reports:
        broken += not report.ok
        if as_json:
            typer.echo(json.dumps(report.as_dict()))
        elif report.ok:
            typer.echo(
                f"ok      {report.program_id}  {report.events_checked} events  "
                f"head {report.head_hash}"
            )
        else:
            typer.echo(f"BROKEN  {report.program_id}  first bad version {report.first_bad_version}")
            for problem in report.as_dict()["problems"]:
                typer.echo(f"        version {problem['version']}: {problem['reason']}")
    if digest_result is not None:
        ok, message = digest_result
        typer.echo(f"{'ok' if ok else 'MISMATCH'}  digest: {message}")
        broken += not ok
    if all_programs and not ids:
        typer.echo("no programs in the store")
    if broken:
        raise fail(f"integrity check failed ({broken} problem report(s)).")


def bundle(
    ctx: typer.Context,
    program_id: Annotated[str, typer.Argument(help="The program's UUID.")],
    output: Annotated[
        Path, typer.Option("-o", "--output", help="The zip file to write.", dir_okay=False)
    ],
    known_at: KnownAtOpt = None,
    as_of: AsOfOpt = None,
) -> None:
    """Write a dispute bundle: events with hashes, the policy pack, the replay, the
    figures and the tool's version, checkable offline with `wht check-bundle`."""
    from service.bundle import build_bundle

    pid = parse_program(program_id)
    instant, day = parse_times(known_at, as_of)
    with tracker_session(settings_of(ctx)) as tracker:
        data = build_bundle(tracker, pid, tool_version=tool_version(), known_at=instant, as_of=day)
    try:
        output.write_bytes(data)
    except OSError as exc:
        raise fail(f"cannot write {output}: {exc}") from None
    typer.echo(f"wrote {output} ({len(data)} bytes)")


def check_bundle_command(
    path: Annotated[Path, typer.Argument(help="A bundle written by `wht bundle`.", dir_okay=False)],
) -> None:
    """Re-derive every figure of a bundle offline and check its hash chain.
    Exits 1, saying what differs, if anything does."""
    from service.bundle import check_bundle

    try:
        data = path.read_bytes()
    except OSError as exc:
        raise fail(f"cannot read {path}: {exc}") from None
    result = check_bundle(data)
    written_by = (result.summary.get("tool") or {}).get("version")
    if written_by and written_by != tool_version():
        typer.echo(f"note: written by wht {written_by}, checked by {tool_version()}", err=True)
    for note in result.notes:
        typer.echo(f"note: {note}", err=True)
    if not result.ok:
        for line in result.differences:
            typer.echo(f"difference: {line}", err=True)
        raise fail(f"{path} does not hold: {len(result.differences)} difference(s).")
    s = result.summary
    typer.echo(
        f"bundle OK: program {s['program_id']}, {s['events']} events, chain intact "
        f"(head {s['head_hash']}), policy {s['policy']}, figures as of {s['as_of']} "
        f"known at {s['known_at']} re-derived and equal."
    )
