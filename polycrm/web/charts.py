"""Dashboard charts drawn on the server as SVG (no script, no library).

Each chart is a horizontal bar chart: one row per label, one bar per series,
the value written after the bar. The SVG carries ``role="img"``, a ``<title>``
and an ``aria-label`` summing it up, and every bar its own ``<title>``; the
labels are escaped. Sizes are in a viewBox, so the chart scales to its box.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from markupsafe import Markup, escape

ROW = 26
LABEL_WIDTH = 120
BAR_WIDTH = 260
VALUE_WIDTH = 110
COLOURS = ("#1f5fbf", "#b3261e")
# About how wide a character of the 12-unit value text is (digits, separators).
CHAR_WIDTH = 7


def _value_text(text: str, width: float, y: float) -> str:
    """The value after its bar or, where it would run past the chart's right
    edge (the longest bar), inside the bar's end in white."""
    needed = len(text) * CHAR_WIDTH
    if width + 4 + needed > BAR_WIDTH + VALUE_WIDTH and width > needed + 8:
        return (f'<text x="{LABEL_WIDTH + width - 4:.1f}" y="{y + ROW / 2 + 1}" font-size="12" '
                f'text-anchor="end" fill="#fff">{escape(text)}</text>')
    return f'<text x="{LABEL_WIDTH + width + 4:.1f}" y="{y + ROW / 2 + 1}" font-size="12">{escape(text)}</text>'


def bars(title: str, rows: Sequence[tuple[str, Sequence[Decimal | int], Sequence[str]]],
         series: Sequence[str] = ()) -> Markup:
    """rows: (label, values per series, shown text per series)."""
    per_row = max((len(v) for _, v, _ in rows), default=1)
    height = ROW * per_row
    top = 22 if series else 4
    peak = max((v for _, values, _ in rows for v in values), default=0) or 1
    total_height = top + len(rows) * (height + 6) + 4
    summary = "; ".join(f"{label}: " + ", ".join(f"{s} {t}" if s else t for s, t in zip(series or [""], shown))
                        for label, _, shown in rows)
    out = [f'<svg class="chart" viewBox="0 0 {LABEL_WIDTH + BAR_WIDTH + VALUE_WIDTH} {total_height}" role="img" '
           f'aria-label="{escape(title)}: {escape(summary)}" xmlns="http://www.w3.org/2000/svg">',
           f"<title>{escape(title)}</title>"]
    for i, name in enumerate(series):
        x = LABEL_WIDTH + i * 90
        out.append(f'<rect x="{x}" y="4" width="12" height="12" fill="{COLOURS[i % 2]}"/>'
                   f'<text x="{x + 16}" y="14" font-size="12">{escape(name)}</text>')
    for r, (label, values, shown) in enumerate(rows):
        y = top + r * (height + 6)
        out.append(f'<text x="{LABEL_WIDTH - 6}" y="{y + height / 2 + 4}" font-size="12" text-anchor="end">'
                   f"{escape(label[:18])}</text>")
        for i, (value, text) in enumerate(zip(values, shown)):
            width = max(1.0, float(value) / float(peak) * BAR_WIDTH) if value else 0
            by = y + i * ROW + 3
            name = f"{series[i]} " if series else ""
            out.append(f'<rect x="{LABEL_WIDTH}" y="{by}" width="{width:.1f}" height="{ROW - 6}" '
                       f'fill="{COLOURS[i % 2]}"><title>{escape(label)}: {escape(name)}{escape(text)}</title></rect>'
                       + _value_text(text, width, by))
    out.append("</svg>")
    return Markup("".join(out))
