"""The dashboard's charts as server-rendered SVG, readable without colour.

Each bar segment has its own fill pattern (solid, hatched, dotted) as well as its
colour, each row ends with its numbers in words, and each chart has a title and a
description for screen readers; the page puts the same numbers in a table beside it.
Agencies are named as the register names them (the code where the register has no
name); every text is escaped.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta

from markupsafe import Markup, escape

from app.dashboard import AgencyFigures
from app.timetext import span
from domain.vocabulary import Rating

WIDTH = 480
LABEL_W = 0
BAR_W = 460
LABEL_H = 22
ROW_H = 76
BAR_H = 18
TOP = 10
"""Drawn at about its own size beside its table; each row has the agency's name above
its bar (the whole width: names are longer than codes) and its words under it."""

_DEFS = """<defs>
<pattern id="{p}-hatch" width="8" height="8" patternUnits="userSpaceOnUse"
 patternTransform="rotate(45)"><rect width="8" height="8" fill="#fff4d6"/>
<rect width="3" height="8" fill="#6b4500"/></pattern>
<pattern id="{p}-dots" width="6" height="6" patternUnits="userSpaceOnUse">
<rect width="6" height="6" fill="#fde8e8"/><circle cx="3" cy="3" r="1.6" fill="#8a1111"/>
</pattern></defs>"""

SEGMENTS = (
    ("on time", "#00703c", ""),
    ("late", "url(#{p}-hatch)", "#6b4500"),
    ("overdue now", "url(#{p}-dots)", "#8a1111"),
)
"""Each kind of answer: its words, its fill (a pattern for all but the first) and outline."""


def _svg(chart_id: str, title: str, desc: str, rows: int, body: list[str]) -> Markup:
    height = TOP * 2 + max(rows, 1) * ROW_H
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" '
        f'viewBox="0 0 {WIDTH} {height}" aria-labelledby="{chart_id}-title {chart_id}-desc">'
        f'<title id="{chart_id}-title">{escape(title)}</title>'
        f'<desc id="{chart_id}-desc">{escape(desc)}</desc>' + _DEFS.format(p=chart_id)
    )
    return Markup(head + "".join(body) + "</svg>")  # noqa: S704 - every text is escaped


def answers_chart(
    agencies: list[AgencyFigures], names: Mapping[str, str], chart_id: str = "answers"
) -> Markup:
    """One stacked bar per agency (``names``: code -> the register's name): answered on
    time, answered late, overdue now."""
    most = max((a.answered + a.overdue_now for a in agencies), default=0) or 1
    body: list[str] = []
    for i, a in enumerate(agencies):
        y = TOP + i * ROW_H + LABEL_H
        body.append(_label(names.get(a.agency, a.agency), y))
        x = float(LABEL_W)
        counts = (a.answered_on_time, a.answered_late, a.overdue_now)
        for (words, fill, outline), count in zip(SEGMENTS, counts, strict=True):
            if count:
                w = BAR_W * count / most
                stroke = f' stroke="{outline}"' if outline else ""
                body.append(
                    f'<rect x="{x:.1f}" y="{y}" width="{w:.1f}" height="{BAR_H}" '
                    f'fill="{fill.format(p=chart_id)}"{stroke}>'
                    f"<title>{count} {words}</title></rect>"
                )
                x += w
        said = ", ".join(f"{c} {w}" for (w, _, _), c in zip(SEGMENTS, counts, strict=True))
        body.append(_note(said, y))
    return _svg(
        chart_id,
        "Decisions answered on time, late and overdue now, by agency",
        "A bar per agency: solid for on time, hatched for late, dotted for overdue now; "
        "the numbers are under each bar and in the table.",
        len(agencies),
        body,
    )


def times_chart(
    agencies: list[AgencyFigures],
    rating: Rating,
    names: Mapping[str, str],
    chart_id: str | None = None,
) -> Markup:
    """One bar per agency for ``rating``: the median response time, with a tick at the
    90th percentile."""
    chart_id = chart_id or f"times-{rating.value}"
    rows = [(a.agency, t) for a in agencies for t in a.by_rating if t.rating is rating]
    longest = max((t.p90_seconds or 0.0 for _, t in rows), default=0.0) or 1.0
    body: list[str] = []
    for i, (agency, t) in enumerate(rows):
        y = TOP + i * ROW_H + LABEL_H
        body.append(_label(names.get(agency, agency), y))
        if t.median_seconds is None or t.p90_seconds is None:
            body.append(_note("none answered", y - BAR_H, x=LABEL_W))
            continue
        median, p90 = (
            span(timedelta(seconds=t.median_seconds)),
            span(timedelta(seconds=t.p90_seconds)),
        )
        w = BAR_W * t.median_seconds / longest
        tick = LABEL_W + BAR_W * t.p90_seconds / longest
        body.append(
            f'<rect x="{LABEL_W}" y="{y}" width="{max(w, 1.0):.1f}" height="{BAR_H}" '
            f'fill="#1d3557"><title>median {median}</title></rect>'
            f'<line x1="{tick:.1f}" x2="{tick:.1f}" y1="{y - 3}" y2="{y + BAR_H + 3}" '
            f'stroke="#0b0c0c" stroke-width="3" stroke-dasharray="4 2">'
            f"<title>90% within {p90}</title></line>"
        )
        body.append(_note(f"median {median}, 90% within {p90}", y))
    return _svg(
        chart_id,
        f"Response times to {rating.value} requests, by agency",
        "A bar per agency to its median response time, a dashed line at the "
        "time 90% of its answers came within; the numbers are under each bar and in the "
        "table.",
        len(rows),
        body,
    )


def _label(name: str, y: int) -> str:
    """The agency's name above its bar (at y), bold, cut short only past the chart's width."""
    shown = name if len(name) <= 56 else name[:55] + "…"
    return (
        f'<text x="0" y="{y - 6}" font-size="14" font-weight="bold" fill="#0b0c0c">'
        f"{escape(shown)}</text>"
    )


def _note(words: str, y: int, x: int = 0) -> str:
    return (
        f'<text x="{x}" y="{y + BAR_H + 17}" font-size="14" fill="#0b0c0c">{escape(words)}</text>'
    )
