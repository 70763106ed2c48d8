"""The program page's timeline chart: a plotly figure, as plain data, from a `Story`.

Hours per day are bars (blue within the daily cap, red over it, grey where
nothing is reimbursable); the daily cap is a line; program weeks are shaded
and labelled with their attended days against the weekly cap; admission, the
end of the last covered week (week 8), discharge and the as-of date are
vertical lines; absences, tardiness and re-evaluations are markers above the
bars. The page's script hands the figure to plotly.js, served by this service.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from api.ui.story import OVER, UNPAID, WITHIN, Story

BLUE, RED, GREY, INK, PURPLE = "#2563a8", "#c0392b", "#8a94a3", "#1f2933", "#6b46c1"
SHADE = ("rgba(37, 99, 168, 0.07)", "rgba(37, 99, 168, 0.14)")
DAY_MS = 86_400_000
MARKERS = {  # kind: (legend name, symbol, colour, height above the tallest bar or cap)
    "absence": ("Absence", "x", RED, 0.9),
    "tardy": ("Tardiness", "triangle-down", "#b7791f", 1.6),
    "reeval": ("Re-evaluation", "diamond", "#2f855a", 2.3),
}


def _edge(day: date, after: bool) -> str:
    # Bars sit on midnight: a week's shading runs half a day either side of its dates.
    return f"{(day if after else day - timedelta(days=1)).isoformat()} 12:00"


def _vline(
    on: str, text: str, color: str, dash: str = "dash", anchor: str = "left"
) -> tuple[dict[str, Any], dict[str, Any]]:
    line = dict(
        type="line",
        xref="x",
        yref="paper",
        x0=on,
        x1=on,
        y0=0,
        y1=1,
        line=dict(color=color, width=1.5, dash=dash),
    )
    label = dict(
        x=on,
        xref="x",
        yref="paper",
        y=0.98,
        yanchor="top",
        xanchor=anchor,
        text=text,
        showarrow=False,
        font=dict(size=10, color=color),
        bgcolor="rgba(255,255,255,0.85)",
    )
    return line, label


def _traces(story: Story, top: float) -> list[dict[str, Any]]:
    cap = story.pack.limits.max_hours_per_day
    traces: list[dict[str, Any]] = []
    for kind, name, color in (
        (WITHIN, "Hours", BLUE),
        (OVER, f"Hours over the {cap:g}-hour cap", RED),
        (UNPAID, "Hours not reimbursable", GREY),
    ):
        days = [d for d in story.days if d.kind == kind]
        if days:
            traces.append(
                dict(
                    type="bar",
                    name=name,
                    marker=dict(color=color),
                    x=[d.on.isoformat() for d in days],
                    y=[float(d.hours) for d in days],
                    width=0.8 * DAY_MS,
                    hovertemplate=f"%{{x|%a %b %d}}: %{{y}} h<extra>{name}</extra>",
                )
            )
    traces.append(
        dict(
            type="scatter",
            mode="lines",
            name=f"Daily cap {cap:g} h (COV-2)",
            x=[_edge(story.first_day, False), _edge(story.last_day, True)],
            y=[float(cap)] * 2,
            hoverinfo="skip",
            line=dict(color=RED, dash="dot", width=2),
        )
    )
    for kind, (name, symbol, color, height) in MARKERS.items():
        found = [m for m in story.markers if m.kind == kind]
        if found:
            traces.append(
                dict(
                    type="scatter",
                    mode="markers",
                    name=name,
                    x=[m.on.isoformat() for m in found],
                    y=[top + height] * len(found),
                    text=[m.text for m in found],
                    hovertemplate="%{x|%b %d}: %{text}<extra></extra>",
                    marker=dict(symbol=symbol, size=10, color=color),
                )
            )
    return traces


def _decorations(story: Story) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The shaded weeks with their labels, and the vertical lines with theirs."""
    max_weeks = story.pack.limits.max_weeks
    shapes: list[dict[str, Any]] = []
    notes: list[dict[str, Any]] = []
    for w in story.weeks:
        shapes.append(
            dict(
                type="rect",
                xref="x",
                yref="paper",
                layer="below",
                y0=0,
                y1=1,
                x0=_edge(w.start, False),
                x1=_edge(w.end, True),
                fillcolor=SHADE[w.number % 2],
                line=dict(width=0),
            )
        )
        late = w.over or w.number > max_weeks
        notes.append(
            dict(
                x=(w.start + timedelta(days=3)).isoformat(),
                xref="x",
                yref="paper",
                y=1.0,
                yanchor="bottom",
                showarrow=False,
                text=f"W{w.number}<br>{w.attended}/{w.cap} d",
                font=dict(size=10, color=RED if late else INK),
            )
        )
    record = story.record
    lines = []
    if record.admitted_on is not None:
        end = record.admitted_on + timedelta(days=7 * max_weeks - 1)
        lines += [
            _vline(_edge(record.admitted_on, False), "Admitted", INK, "solid"),
            _vline(_edge(end, True), f"End of week {max_weeks}", RED, "solid", "right"),
        ]
    if record.discharged_on is not None:
        lines.append(_vline(_edge(record.discharged_on, True), "Discharged", PURPLE))
    if story.first_day <= record.as_of <= story.last_day:
        lines.append(_vline(_edge(record.as_of, True), "As of", GREY, "dot"))
    for line, label in lines:
        shapes.append(line)
        notes.append(label)
    return shapes, notes


def timeline_figure(story: Story) -> dict[str, Any]:
    """The whole figure: `{"data": [...], "layout": {...}}`, ready for Plotly.newPlot."""
    cap = story.pack.limits.max_hours_per_day
    top = float(max([cap, *(d.hours for d in story.days)]))
    shapes, notes = _decorations(story)
    layout = dict(
        barmode="overlay",
        height=400,
        margin=dict(l=44, r=12, t=44, b=40),
        paper_bgcolor="white",
        plot_bgcolor="white",
        font=dict(size=12),
        hovermode="closest",
        xaxis=dict(
            type="date",
            tickformat="%b %d",
            showgrid=False,
            range=[_edge(story.first_day, False), _edge(story.last_day, True)],
        ),
        yaxis=dict(
            title=dict(text="Hours"),
            range=[0, top + 3.6],
            zeroline=True,
            tickvals=list(range(0, int(top) + 1, 2)),
            gridcolor="#e3e8ee",
        ),
        legend=dict(orientation="h", x=0, y=-0.12, yanchor="top"),
        shapes=shapes,
        annotations=notes,
    )
    return {"data": _traces(story, top), "layout": layout}
