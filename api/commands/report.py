"""`wht report PROGRAM_ID [--as-of D] [--known-at T] -o FILE.pdf`: the payer's report as
a PDF, printed from the same data as the page /ui/programs/{id}/report
(`api.ui.report.report_data`), with fpdf2 (pure Python, no system libraries)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from fpdf import FPDF

from api.deps import parse_as_of, parse_known_at, program_uuid
from api.terminal import fail, settings_of, tracker_session
from api.ui.report import report_data


def latin(text: Any) -> str:
    # The PDF's core fonts hold Latin-1 only: other characters print as "?".
    plain = str(text).replace("—", "-").replace("–", "-").replace("’", "'")
    return plain.encode("latin-1", "replace").decode("latin-1")


class ReportPdf(FPDF):
    def heading(self, text: str) -> None:
        self.ln(3)
        self.set_font("Helvetica", "B", 12)
        self.cell(0, 7, latin(text), new_x="LMARGIN", new_y="NEXT")
        self.set_font("Helvetica", size=9)

    def line_of(self, text: str, bold: bool = False) -> None:
        self.set_font("Helvetica", "B" if bold else "", 9)
        self.multi_cell(0, 4.6, latin(text), new_x="LMARGIN", new_y="NEXT")

    def rows(self, rows: list[tuple[str, str]], width: float = 55) -> None:
        for label, value in rows:
            self.set_font("Helvetica", "B", 9)
            self.cell(width, 5, latin(label))
            self.set_font("Helvetica", size=9)
            self.multi_cell(0, 5, latin(value), new_x="LMARGIN", new_y="NEXT")


def render_pdf(data: dict[str, Any]) -> bytes:
    """The report as PDF bytes (the page's sections, in the page's order)."""
    pdf = ReportPdf(format="Letter")
    pdf.set_title(latin(f"Work hardening program report {data['program_id']}"))
    pdf.set_margins(15, 15, 15)
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 15)
    pdf.cell(0, 9, "Work hardening program report", new_x="LMARGIN", new_y="NEXT")
    pdf.line_of(
        f"Program {data['program_id']} - provider {data['provider_id']} - policy "
        f"{data['policy']} - version {data['version']}"
    )
    pdf.line_of(f"As of {data['as_of']}, as known at {data['known_at']}", bold=True)
    w, c = data["worker"], data["claim"]
    pdf.heading("Worker and claim")
    pdf.rows(
        [
            ("Worker", f"{w['name']} ({w['worker_id']})"),
            ("Employer", w["employer"]),
            ("Job title", w["job_title"]),
            ("Claim", c["claim_number"]),
            ("Injury", f"{c['injury_date']} - {c['body_region']}"),
        ]
    )
    pdf.heading("Figures")
    pdf.rows(list(data["figures"]))
    pdf.heading("CPT lines per day")
    if not data["billing"]:
        pdf.line_of("No billed days.")
    for day in data["billing"]:
        pdf.line_of(f"{day['date']}   {day['hours']} h   {day['lines']}")
    pdf.heading("Findings")
    if not data["findings"]:
        pdf.line_of("No findings.")
    for f in data["findings"]:
        title = f" - {f['clause_title']}" if f.get("clause_title") else ""
        pdf.line_of(f"{f['occurred_on']}  {f['clause']}{title}  ({f['severity']})", bold=True)
        pdf.line_of(f["message"])
        if f.get("clause_text"):
            pdf.line_of(f'Policy: "{f["clause_text"]}"')
        pdf.ln(1)
    pdf.heading("Due list")
    if not data["due"]:
        pdf.line_of("Nothing is due.")
    else:
        for o in data["due"]:
            pdf.line_of(f"{o['due_on']}  {o['kind']}  {o['clause']}  {o['status']}")
    pdf.heading("Integrity")
    i = data["integrity"]
    verdict = (
        f"Intact: the hash chain of all {i['events_checked']} stored events checks."
        if i["ok"]
        else f"Broken from version {i['first_bad_version']}."
    )
    pdf.line_of(verdict, bold=True)
    pdf.line_of(f"Head hash: {i['head_hash']}")
    return bytes(pdf.output())


def report(
    ctx: typer.Context,
    program_id: Annotated[str, typer.Argument(help="The program's id (a UUID).")],
    output: Annotated[Path, typer.Option("--output", "-o", help="The PDF file to write.")],
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="Business date YYYY-MM-DD (default: today).")
    ] = None,
    known_at: Annotated[
        str | None,
        typer.Option("--known-at", help="RFC 3339 instant: what was known then (default: now)."),
    ] = None,
) -> None:
    """Write the payer's report of one program as a PDF."""
    with tracker_session(settings_of(ctx)) as tracker:
        data = report_data(
            tracker, program_uuid(program_id), parse_as_of(as_of), parse_known_at(known_at)
        )
    try:
        output.write_bytes(render_pdf(data))
    except OSError as error:
        raise fail(f"cannot write {output}: {error}") from None
    typer.echo(f"wrote {output} (head hash {data['integrity']['head_hash']})")
