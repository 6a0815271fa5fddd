"""Inline SVG charts with no library: horizontal bars, grouped bars, columns, funnels, sparklines.

Every builder returns one ``<figure class="chart">`` whose ``data-chart``
names the kind and whose ``data-rows`` attribute holds the plotted values as
JSON, so a reader (or a test) can get the numbers without parsing SVG; each
mark carries an SVG ``<title>``, which browsers show as a tooltip. All text
is escaped here; callers pass plain strings. Sizes are in a ``viewBox``, so
charts scale with the page.
"""

from __future__ import annotations

import html
import json
import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

__all__ = [
    "PALETTE", "Formatter", "attr", "column_chart", "compact", "count", "esc", "figure", "funnel_chart",
    "grouped_bar_chart", "bar_chart", "heat", "pct", "ratio_text", "sparkline", "text_width", "yuan",
]

#: Series colours (models, stages), colour-blind friendly first.
PALETTE = ("#2563eb", "#f59e0b", "#059669", "#dc2626", "#7c3aed", "#0891b2", "#db2777", "#65a30d", "#78716c",
           "#ea580c", "#4f46e5")
#: A function turning a number into display text.
Formatter = Callable[[float | None], str]

_MAX_LABEL_W = 260  # widest label column of bar charts, in viewBox units
_BAR_W = 300
_VALUE_W = 70
_FONT = 12


def esc(text: Any) -> str:
    """HTML-escape any value as text (``None`` becomes an empty string)."""
    return html.escape("" if text is None else str(text), quote=True)


def attr(value: Any) -> str:
    """A JSON value escaped for a double-quoted HTML attribute."""
    return html.escape(json.dumps(value, ensure_ascii=False, default=str, allow_nan=False), quote=True)


def _finite(v: float | None) -> float | None:
    return v if v is not None and math.isfinite(v) else None


def yuan(v: float | None) -> str:
    """``¥12,345`` (whole yuan), ``–`` for no value."""
    return "–" if _finite(v) is None else f"¥{v:,.0f}"


def compact(v: float | None) -> str:
    """``12.3k`` / ``4.56M`` for axis-free labels, ``–`` for no value."""
    if _finite(v) is None:
        return "–"
    a = abs(v)  # type: ignore[arg-type]
    for div, unit in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if a >= div:
            return f"{v / div:.3g}{unit}"  # type: ignore[operator]
    return f"{v:.3g}" if a < 100 else f"{v:.0f}"


def count(v: float | None) -> str:
    """``1,234``, ``–`` for no value."""
    return "–" if _finite(v) is None else f"{v:,.0f}"


def ratio_text(v: float | None) -> str:
    """An ROI such as ``2.01`` (revenue per yuan of spend), ``–`` without spend."""
    return "–" if _finite(v) is None else f"{v:.2f}"


def pct(v: float | None) -> str:
    """``+12.3%`` / ``-4.0%``, ``–`` for no value."""
    return "–" if _finite(v) is None else f"{v * 100:+.1f}%"  # type: ignore[operator]


def heat(v: float | None, vmax: float) -> str:
    """CSS for a cell shaded from white to blue by ``v / vmax``, with white text on the dark end."""
    if _finite(v) is None or vmax <= 0 or v <= 0:  # type: ignore[operator]
        return "background:#ffffff"
    t = min(1.0, v / vmax) ** 0.6  # type: ignore[operator]
    r, g, b = (int(255 + (c - 255) * t) for c in (37, 99, 235))
    return f"background:#{r:02x}{g:02x}{b:02x}" + (";color:#ffffff" if t > 0.6 else "")


def text_width(text: str, size: float = _FONT) -> float:
    """Estimated width of ``text`` in pixels at font ``size`` (CJK and full-width characters count double)."""
    return sum(size * (1.0 if ord(ch) >= 0x2E80 else 0.62) for ch in text)


def _clip(text: str, width: float, size: float = _FONT) -> str:
    """``text`` cut with an ellipsis to fit ``width`` pixels."""
    if text_width(text, size) <= width:
        return text
    while text and text_width(text + "…", size) > width:
        text = text[:-1]
    return text + "…"


def _gutter(labels: Sequence[str], size: float = _FONT) -> float:
    """Width of the label column: the widest label, between 60 and :data:`_MAX_LABEL_W` pixels."""
    return min(_MAX_LABEL_W, max([60.0, *(text_width(s, size) + 10 for s in labels)]))


def figure(kind: str, rows: Sequence[Mapping[str, Any]], body: str, caption: str = "",
           *, cls: str = "", label: str = "") -> str:
    """Wrap chart markup with its data: ``<figure class="chart" data-chart=kind data-rows=JSON>``."""
    clean = [{k: (_finite(v) if isinstance(v, float) else v) for k, v in r.items()} for r in rows]
    cap = f"<figcaption>{esc(caption)}</figcaption>" if caption else ""
    aria = f' aria-label="{esc(label or caption)}"' if (label or caption) else ""
    return (f'<figure class="chart {esc(cls)}" data-chart="{esc(kind)}" data-rows="{attr(clean)}"{aria}>'
            f"{body}{cap}</figure>")


def _svg(width: float, height: float, inner: str) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width:.0f} {height:.0f}" '
            f'width="{width:.0f}" height="{height:.0f}" role="img">{inner}</svg>')


def _text(x: float, y: float, text: str, *, anchor: str = "start", cls: str = "", size: int = _FONT) -> str:
    c = f' class="{cls}"' if cls else ""
    return (f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" font-size="{size}"{c}>{esc(text)}</text>')


def _scale(values: Sequence[float | None]) -> float:
    finite = [abs(f) for v in values if (f := _finite(v)) is not None]
    return max(finite, default=0.0) or 1.0


def bar_chart(rows: Sequence[Mapping[str, Any]], label: str, value: str, *, fmt: Formatter = compact,
              caption: str = "", color: str = PALETTE[0], kind: str = "bar") -> str:
    """Horizontal bars, one per row: ``row[label]`` on the left, ``row[value]`` as the bar."""
    step, top = 22, 6
    vmax = _scale([r.get(value) for r in rows])
    gutter = _gutter([str(r.get(label)) for r in rows])
    parts = []
    for i, r in enumerate(rows):
        y = top + i * step
        v = _finite(r.get(value))
        w = 0.0 if v is None else max(0.0, v) / vmax * _BAR_W
        name = str(r.get(label))
        parts.append(f'<g class="mark"><title>{esc(name)}: {esc(fmt(v))}</title>'
                     f'<rect x="{gutter}" y="{y:.1f}" width="{w:.1f}" height="{step - 6}" fill="{color}" rx="2"/>'
                     f"{_text(gutter - 6, y + step - 10, _clip(name, gutter - 8), anchor='end')}"
                     f"{_text(gutter + w + 4, y + step - 10, fmt(v), cls='val')}</g>")
    height = top * 2 + step * len(rows)
    return figure(kind, rows, _svg(gutter + _BAR_W + _VALUE_W, height, "".join(parts)), caption)


def grouped_bar_chart(categories: Sequence[str], series: Sequence[str],
                      values: Mapping[tuple[str, str], float | None], *, fmt: Formatter = compact,
                      caption: str = "", kind: str = "grouped-bar") -> str:
    """Horizontal bar groups: one group per category, one bar per series (e.g. per model), with a legend."""
    bar, gap, top = 13, 10, 24
    group_h = bar * len(series) + gap
    vmax = _scale(list(values.values()))
    gutter = _gutter(categories)
    parts = [_legend(series, gutter)]
    rows = []
    for i, cat in enumerate(categories):
        y0 = top + i * group_h
        parts.append(_text(gutter - 6, y0 + group_h / 2 + 1, _clip(cat, gutter - 8), anchor="end"))
        for j, name in enumerate(series):
            v = _finite(values.get((cat, name)))
            rows.append({"category": cat, "series": name, "value": v})
            w = 0.0 if v is None else max(0.0, v) / vmax * _BAR_W
            y = y0 + j * bar
            parts.append(f'<g class="mark"><title>{esc(cat)} · {esc(name)}: {esc(fmt(v))}</title>'
                         f'<rect x="{gutter}" y="{y:.1f}" width="{w:.1f}" height="{bar - 2}" '
                         f'fill="{PALETTE[j % len(PALETTE)]}" rx="1.5"/>'
                         f"{_text(gutter + w + 4, y + bar - 3, fmt(v), cls='val', size=10)}</g>")
    height = top + group_h * len(categories) + 4
    return figure(kind, rows, _svg(gutter + _BAR_W + _VALUE_W, height, "".join(parts)), caption)


def _legend(series: Sequence[str], x0: float) -> str:
    out, x = [], x0
    for j, name in enumerate(series):
        out.append(f'<rect x="{x:.1f}" y="4" width="10" height="10" fill="{PALETTE[j % len(PALETTE)]}" rx="2"/>'
                   + _text(x + 14, 13, name, size=11))
        x += 24 + text_width(name, 11)
    return f'<g class="legend">{"".join(out)}</g>'


def column_chart(rows: Sequence[Mapping[str, Any]], label: str, value: str, *, fmt: Formatter = count,
                 caption: str = "", color: str = PALETTE[0], kind: str = "column") -> str:
    """Vertical columns (a histogram): ``row[label]`` under each column, ``row[value]`` its height."""
    col, gap, plot_h, base = 44, 12, 150, 180
    vmax = _scale([r.get(value) for r in rows])
    parts = []
    for i, r in enumerate(rows):
        x = 10 + i * (col + gap)
        v = _finite(r.get(value))
        h = 0.0 if v is None else max(0.0, v) / vmax * plot_h
        name = str(r.get(label))
        parts.append(f'<g class="mark"><title>{esc(name)}: {esc(fmt(v))}</title>'
                     f'<rect x="{x}" y="{base - h:.1f}" width="{col}" height="{h:.1f}" fill="{color}" rx="2"/>'
                     f"{_text(x + col / 2, base - h - 4, fmt(v), anchor='middle', cls='val', size=11)}"
                     f"{_text(x + col / 2, base + 15, _clip(name, col + gap), anchor='middle')}</g>")
    width = 20 + len(rows) * (col + gap)
    return figure(kind, rows, _svg(max(width, 200), base + 24, "".join(parts)), caption)


def funnel_chart(stages: Sequence[tuple[str, str]], counts: Mapping[str, int], *, caption: str = "",
                 kind: str = "funnel") -> str:
    """A funnel: one centred bar per stage (``(key, label)``), width proportional to its persons.

    The stage label is on the left and the persons with their share on the
    right, so a narrow bar never hides its number.
    """
    label_w, bar_w, value_w, row_h, top = 116, 170, 96, 30, 4
    vmax = _scale([float(counts.get(k, 0)) for k, _ in stages])
    total = sum(counts.get(k, 0) for k, _ in stages)
    parts, rows = [], []
    for i, (key, name) in enumerate(stages):
        n = counts.get(key, 0)
        rows.append({"stage": key, "label": name, "persons": n})
        w = max(2.0, n / vmax * bar_w)
        y = top + i * row_h
        share = f"{n / total:.0%}" if total else "–"
        parts.append(f'<g class="mark"><title>{esc(name)}: {n:,} persons ({esc(share)})</title>'
                     f"{_text(label_w - 8, y + row_h / 2 + 1, _clip(name, label_w - 10), anchor='end')}"
                     f'<rect x="{label_w + (bar_w - w) / 2:.1f}" y="{y}" width="{w:.1f}" height="{row_h - 6}" '
                     f'fill="{PALETTE[i % len(PALETTE)]}" rx="3"/>'
                     f"{_text(label_w + bar_w + 8, y + row_h / 2 + 1, f'{n:,} · {share}', cls='val')}</g>")
    width = label_w + bar_w + value_w
    return figure(kind, rows, _svg(width, top + row_h * len(stages), "".join(parts)), caption, cls="funnel")


def sparkline(values: Sequence[float], labels: Sequence[str] = (), *, caption: str = "",
              kind: str = "sparkline") -> str:
    """A small line of a daily series (``labels`` name the points, e.g. dates) with a shaded area."""
    width, height, pad = 120, 28, 2
    n = len(values)
    vmax = _scale(list(values))
    pts = [(pad + (i * (width - 2 * pad) / max(1, n - 1)), height - pad - max(0.0, v) / vmax * (height - 2 * pad))
           for i, v in enumerate(values)]
    line = " ".join(f"{x:.1f},{y:.1f}" for x, y in pts)
    area = f"{pad},{height - pad} {line} {width - pad},{height - pad}" if pts else ""
    rows = [{"day": labels[i] if i < len(labels) else str(i), "value": float(v)} for i, v in enumerate(values)]
    title = f"<title>{esc(caption)}</title>" if caption else ""
    inner = (f'{title}<polygon points="{area}" fill="#dbeafe"/>'
             f'<polyline points="{line}" fill="none" stroke="{PALETTE[0]}" stroke-width="1.5"/>') if pts else title
    return figure(kind, rows, _svg(width, height, inner), cls="spark", label=caption)
