"""The program page's timeline chart: server-rendered SVG from a `Story`, no script.

Hours per day are bars (blue within the daily cap, red over it, grey where nothing
is reimbursable); the daily cap is a dotted line; program weeks are shaded and
labelled with their attended days against the weekly cap; admission, the end of
the last covered week (week 8), discharge and the as-of date are vertical lines
with labels; absences, tardiness and re-evaluations are markers in lanes above
the bars. Each bar and marker carries a `<title>` (the browser's tooltip).

The chart is drawn three times, for a wide, a medium and a narrow figure
(`VARIANTS`); the stylesheet shows one by the figure's width (container queries). Each is laid out
in its own units (the SVG's viewBox scales it to the figure), and no two labels
overlap in it: text widths are estimated generously, labels of vertical lines
stack in rows, and week and date labels are thinned to those that fit.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from markupsafe import Markup, escape

from api.ui.story import OVER, UNPAID, WITHIN, Story

BLUE, RED, GREY, INK, PURPLE = "#2563a8", "#c0392b", "#8a94a3", "#1f2933", "#6b46c1"
AMBER, GREEN, GRID = "#b7791f", "#2f855a", "#e3e8ee"
SHADE = ("#eef3f9", "#e2eaf4")  # alternate program weeks
BARS = {
    WITHIN: ("Hours", BLUE),
    OVER: ("Hours over the cap", RED),
    UNPAID: ("Not reimbursable", GREY),
}
MARKERS = {  # kind: (legend name, colour)
    "absence": ("Absence", RED),
    "tardy": ("Tardiness", AMBER),
    "reeval": ("Re-evaluation", GREEN),
}


@dataclass(frozen=True)
class Variant:
    """One drawing of the chart: its width in its own units and its type size."""

    name: str
    width: float
    font: float
    plot_height: float
    left: float  # room for the hour ticks
    right: float
    short: bool  # terse labels ("5/5" rather than "5/5 d")


VARIANTS = (
    Variant("wide", 1000, 12, 220, 44, 12, False),
    Variant("medium", 640, 12, 200, 36, 10, False),
    Variant("narrow", 360, 12, 170, 30, 8, True),
)
GAP = 6.0  # the least room between two labels, in the variant's units


def text_width(text: str, size: float) -> float:
    """A generous estimate of `text`'s width in a sans-serif face of `size` (em widths of
    DejaVu Sans, the widest common fallback, plus 8 %)."""
    em = 0.0
    for c in text:
        if c.isdigit():
            em += 0.64
        elif c.isupper() or c in "mw":
            em += 0.76
        elif c in " il.,:;|/'":
            em += 0.34
        else:
            em += 0.62
    return em * size * 1.08


@dataclass(frozen=True)
class Label:
    x0: float
    x1: float

    def clear_of(self, others: Iterable[Label]) -> bool:
        return all(self.x1 + GAP <= o.x0 or o.x1 + GAP <= self.x0 for o in others)


def _attrs(**values: object) -> str:
    return "".join(
        f' {k.rstrip("_").replace("_", "-")}="{escape(str(v))}"'
        for k, v in values.items()
        if v is not None
    )


def _el(tag: str, body: str = "", **values: object) -> str:
    return f"<{tag}{_attrs(**values)}>{body}</{tag}>" if body else f"<{tag}{_attrs(**values)}/>"


def _num(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def _hours(value: Decimal | float) -> str:
    return f"{float(value):g}"


def _day(on: date) -> str:
    return f"{on:%a %b} {on.day}"


class _Layout:
    """Where things go in one variant: x of a date, y of an hour count."""

    def __init__(self, story: Story, variant: Variant) -> None:
        self.story, self.v = story, variant
        self.first, self.last = story.first_day, story.last_day
        self.days = (self.last - self.first).days + 1
        self.x_left, self.x_right = variant.left, variant.width - variant.right
        self.slot = (self.x_right - self.x_left) / self.days
        cap = story.pack.limits.max_hours_per_day
        self.top = float(max([cap, *(d.hours for d in story.days)]))

    def edge(self, on: date) -> float:
        """The x where `on` begins (its slot's left edge)."""
        return self.x_left + (on - self.first).days * self.slot

    def middle(self, on: date) -> float:
        return self.edge(on) + self.slot / 2


def _placed(
    wanted: list[tuple[float, float]], within: tuple[float, float], order: list[int]
) -> set[int]:
    """Which of the labels (centre, width) fit in one row, taken in `order`, none
    overlapping another or leaving `within`."""
    kept: dict[int, Label] = {}
    for i in order:
        centre, width = wanted[i]
        x0 = min(max(centre - width / 2, within[0]), within[1] - width)
        label = Label(x0, x0 + width)
        if label.clear_of(kept.values()):
            kept[i] = label
    return set(kept)


def _thinned(wanted: list[tuple[float, float]], within: tuple[float, float]) -> list[int]:
    """Every label if they fit, else every 2nd, 3rd, ... (the first always kept)."""
    for stride in range(1, len(wanted) + 1):
        pick = list(range(0, len(wanted), stride))
        if len(_placed(wanted, within, pick)) == len(pick):
            return pick
    return []


def _svg(story: Story, v: Variant, uid: str) -> str:
    lay = _Layout(story, v)
    record, limits = story.record, story.pack.limits
    size, line_h = v.font, v.font * 1.25
    parts: list[str] = []

    # The vertical lines and their labels, which stack in rows at the top.
    lines: list[tuple[float, str, str, str | None]] = []  # x, label, colour, dash
    if record.admitted_on is not None:
        end = record.admitted_on + timedelta(days=7 * limits.max_weeks - 1)
        lines.append((lay.edge(record.admitted_on), "Admitted", INK, None))
        lines.append(
            (lay.edge(end + timedelta(days=1)), f"End of week {limits.max_weeks}", RED, None)
        )
    if record.discharged_on is not None:
        lines.append(
            (lay.edge(record.discharged_on + timedelta(days=1)), "Discharged", PURPLE, "5 3")
        )
    if lay.first <= record.as_of <= lay.last:
        lines.append((lay.edge(record.as_of + timedelta(days=1)), "As of", GREY, "2 3"))
    rows: list[list[Label]] = []
    line_labels: list[tuple[float, int, float, str, str, str | None]] = []
    for x, text, colour, dash in sorted(lines, key=lambda item: item[0]):
        width = text_width(text, size)
        x0 = x + 3 if x + 3 + width <= v.width else x - 3 - width
        x0 = max(x0, 0.0)
        label = Label(x0, x0 + width)
        row = next((i for i, r in enumerate(rows) if label.clear_of(r)), len(rows))
        if row == len(rows):
            rows.append([])
        rows[row].append(label)
        line_labels.append((x, row, x0, text, colour, dash))

    y = 4.0
    label_top = y
    y += len(rows) * line_h + 4
    week_top = y
    week_lines = 2
    y += week_lines * line_h + 2
    kinds = [k for k in MARKERS if any(m.kind == k for m in story.markers)]
    lane = v.font * 1.1
    marker_top = y
    y += len(kinds) * lane + (4 if kinds else 0)
    plot_top = y
    plot_bottom = plot_top + v.plot_height
    y_max = lay.top * 1.05

    def y_of(hours: float) -> float:
        return plot_bottom - hours / y_max * v.plot_height

    # Shaded weeks, then grid, bars, cap, lines, markers, labels (later ones on top).
    for w in story.weeks:
        x0, x1 = lay.edge(w.start), lay.edge(w.end + timedelta(days=1))
        parts.append(
            _el(
                "rect",
                x=_num(x0),
                y=_num(week_top - 2),
                width=_num(x1 - x0),
                height=_num(plot_bottom - week_top + 2),
                fill=SHADE[w.number % 2],
            )
        )
    for hours in range(0, int(lay.top) + 1, 2):
        yy = y_of(hours)
        parts.append(
            _el(
                "line",
                x1=_num(lay.x_left),
                x2=_num(lay.x_right),
                y1=_num(yy),
                y2=_num(yy),
                stroke=GRID if hours else INK,
                stroke_width=1,
            )
        )
        parts.append(
            _el(
                "text",
                str(hours),
                x=_num(lay.x_left - 5),
                y=_num(yy + size * 0.35),
                text_anchor="end",
                class_="tick",
            )
        )
    cap = limits.max_hours_per_day
    bar_width = max(lay.slot * 0.8, 1.0)
    for d in story.days:
        if not d.hours:
            continue
        name, colour = BARS.get(d.kind, BARS[UNPAID])
        top = y_of(float(d.hours))
        why = {OVER: f", over the {_hours(cap)}-hour cap", UNPAID: ", not reimbursable"}
        title = f"{_day(d.on)}{f', week {d.week}' if d.week else ''}: {_hours(d.hours)} h"
        parts.append(
            _el(
                "rect",
                _el("title", str(escape(title + why.get(d.kind, "")))),
                x=_num(lay.middle(d.on) - bar_width / 2),
                y=_num(top),
                width=_num(bar_width),
                height=_num(plot_bottom - top),
                fill=colour,
            )
        )
    cap_y = y_of(float(cap))
    parts.append(
        _el(
            "line",
            x1=_num(lay.x_left),
            x2=_num(lay.x_right),
            y1=_num(cap_y),
            y2=_num(cap_y),
            stroke=RED,
            stroke_width=2,
            stroke_dasharray="2 3",
        )
    )
    for x, row, _, _, colour, dash in line_labels:
        parts.append(
            _el(
                "line",
                x1=_num(x),
                x2=_num(x),
                y1=_num(label_top + (row + 1) * line_h - 2),
                y2=_num(plot_bottom),
                stroke=colour,
                stroke_width=1.5,
                stroke_dasharray=dash,
            )
        )
    for row_index, kind in enumerate(kinds):
        name, colour = MARKERS[kind]
        cy = marker_top + (row_index + 0.5) * lane
        r = lane * 0.36
        for m in (m for m in story.markers if m.kind == kind):
            cx = lay.middle(m.on)
            parts.append(_marker(kind, cx, cy, r, colour, f"{_day(m.on)}: {m.text}"))

    # Labels: the lines' (stacked rows), the weeks' (thinned), the dates' (thinned).
    for _x, row, x0, text, colour, _ in line_labels:
        parts.append(
            _el(
                "text",
                str(escape(text)),
                x=_num(x0),
                y=_num(label_top + (row + 0.8) * line_h),
                fill=colour,
                class_="mark",
            )
        )
    within = (0.0, v.width)
    week_texts = [
        (f"W{w.number}", f"{w.attended}/{w.cap}" if v.short else f"{w.attended}/{w.cap} d")
        for w in story.weeks
    ]
    wanted = [
        (
            (lay.edge(w.start) + lay.edge(w.end + timedelta(days=1))) / 2,
            max(text_width(a, size), text_width(b, size)),
        )
        for w, (a, b) in zip(story.weeks, week_texts, strict=True)
    ]
    shown = set(_thinned(wanted, within))
    late = [i for i, w in enumerate(story.weeks) if w.over or w.number > limits.max_weeks]
    shown = _placed(wanted, within, sorted(shown) + [i for i in late if i not in shown])
    for i in sorted(shown):
        w, (a, b) = story.weeks[i], week_texts[i]
        centre, width = wanted[i]
        cx = min(max(centre, width / 2), v.width - width / 2)
        colour = RED if w.over or w.number > limits.max_weeks else INK
        parts.append(
            _el(
                "text",
                _el("tspan", str(escape(a)), x=_num(cx), font_weight="600")
                + _el("tspan", str(escape(b)), x=_num(cx), dy=_num(line_h)),
                x=_num(cx),
                y=_num(week_top + 0.8 * line_h),
                fill=colour,
                text_anchor="middle",
                class_="week",
            )
        )
    ticks = [w.start for w in story.weeks] or [lay.first]
    tick_texts = [f"{t:%b} {t.day}" for t in ticks]
    wanted = [(lay.edge(t), text_width(s, size)) for t, s in zip(ticks, tick_texts, strict=True)]
    tick_y = plot_bottom + size * 1.9  # below the "0" tick, clear of it
    for i in _thinned(wanted, within):
        centre, width = wanted[i]
        cx = min(max(centre, width / 2), v.width - width / 2)
        parts.append(
            _el(
                "text",
                tick_texts[i],
                x=_num(cx),
                y=_num(tick_y),
                text_anchor="middle",
                class_="tick",
            )
        )

    # The legend, wrapped in rows.
    items: list[tuple[str, str]] = [
        (shape, name)
        for shape, name in (
            *((k, BARS[k][0]) for k in BARS if any(d.kind == k and d.hours for d in story.days)),
            ("cap", f"Daily cap {_hours(cap)} h"),
            *((k, MARKERS[k][0]) for k in kinds),
        )
    ]
    x, row_y = lay.x_left, tick_y + line_h * 1.2
    swatch = size
    for shape, name in items:
        width = swatch + 4 + text_width(name, size)
        if x + width > v.width - v.right and x > lay.x_left:
            x, row_y = lay.x_left, row_y + line_h * 1.1
        parts.append(_swatch(shape, x, row_y - swatch * 0.8, swatch))
        parts.append(
            _el("text", str(escape(name)), x=_num(x + swatch + 4), y=_num(row_y), class_="legend")
        )
        x += width + GAP * 2
    height = row_y + size * 0.6

    title = f"Hours per day against the {_hours(cap)}-hour daily cap, by program week"
    return _el(
        "svg",
        _el("title", str(escape(title)), id=f"{uid}-title")
        + _el("desc", str(escape(describe(story))), id=f"{uid}-desc")
        + "".join(parts),
        xmlns="http://www.w3.org/2000/svg",
        viewBox=f"0 0 {_num(v.width)} {_num(height)}",
        role="img",
        aria_labelledby=f"{uid}-title {uid}-desc",
        class_=f"timeline-chart {v.name}",
        font_size=_num(size),
    )


def _path(*points: tuple[float, float], close: bool = True) -> str:
    """An SVG path through `points` ("M x y L x y ... Z")."""
    steps = " L".join(f"{_num(x)} {_num(y)}" for x, y in points)
    return f"M{steps}{'Z' if close else ''}"


def _marker(kind: str, cx: float, cy: float, r: float, colour: str, text: str) -> str:
    title = _el("title", str(escape(text)))
    if kind == "absence":  # a cross
        d = _path((cx - r, cy - r), (cx + r, cy + r), close=False) + _path(
            (cx - r, cy + r), (cx + r, cy - r), close=False
        )
        return _el("path", title, d=d, stroke=colour, stroke_width=2, fill="none")
    if kind == "tardy":  # a triangle pointing down
        d = _path((cx - r, cy - r), (cx + r, cy - r), (cx, cy + r))
    else:  # a diamond
        d = _path((cx, cy - r), (cx + r, cy), (cx, cy + r), (cx - r, cy))
    return _el("path", title, d=d, fill=colour)


def _swatch(shape: str, x: float, y: float, s: float) -> str:
    if shape in BARS:
        return _el("rect", x=_num(x), y=_num(y), width=_num(s), height=_num(s), fill=BARS[shape][1])
    if shape == "cap":
        mid = y + s / 2
        return _el(
            "line",
            x1=_num(x),
            x2=_num(x + s),
            y1=_num(mid),
            y2=_num(mid),
            stroke=RED,
            stroke_width=2,
            stroke_dasharray="2 2",
        )
    return _marker(shape, x + s / 2, y + s / 2, s * 0.4, MARKERS[shape][1], MARKERS[shape][0])


def describe(story: Story) -> str:
    """The chart in words (its SVG `<desc>`); the table below the chart has every day."""
    record, limits = story.record, story.pack.limits
    cap = limits.max_hours_per_day
    attended = [d for d in story.days if d.hours]
    said = [f"{len(attended)} days with hours from {story.first_day} to {story.last_day}"]
    over = [d for d in story.days if d.kind == OVER]
    if over:
        said.append(
            f"{len(over)} over the {_hours(cap)}-hour cap ({', '.join(str(d.on) for d in over)})"
        )
    if record.admitted_on is not None:
        end = record.admitted_on + timedelta(days=7 * limits.max_weeks - 1)
        said.append(f"admitted {record.admitted_on}, week {limits.max_weeks} ends {end}")
    for kind, (name, _) in MARKERS.items():
        found = [str(m.on) for m in story.markers if m.kind == kind]
        if found:
            said.append(f"{name.lower()}: {', '.join(found)}")
    if record.discharged_on is not None:
        said.append(f"discharged {record.discharged_on}")
    said.append(f"as of {record.as_of}")
    return "; ".join(said) + "."


def timeline_svg(story: Story) -> Markup:
    """Every drawing of the chart, for the page to show one of by its width."""
    return Markup("".join(_svg(story, v, f"timeline-{v.name}") for v in VARIANTS))
