"""Charts as inline SVG, drawn on the server: they need no script, no font and no network.

Each chart is an ``<svg role="img">`` named by its ``<title>`` and described by its ``<desc>``
(which spells out every value, for a screen reader), with the figures also written beside
the bars. Colours are presentation attributes, not inline styles, so the portal's strict
Content-Security-Policy lets them through.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

Format = Callable[[float], str]
COLOURS = ("#0b4f9c", "#b35c00", "#11612b", "#6b2c91")
TEXT = "#1b1b1b"
AXIS = "#555"
FONT = 'font-family="system-ui, sans-serif" font-size="12"'
LABEL_CHARS = 34
TITLE_ROOM = 26


@dataclass(frozen=True)
class Series:
    name: str
    values: Sequence[float | None]


def _plain(value: float) -> str:
    return f"{value:g}"


def _short(label: str, limit: int = LABEL_CHARS) -> str:
    return label if len(label) <= limit else label[:limit - 1] + "…"


def _open(chart_id: str, width: int, height: int, title: str, description: str) -> list[str]:
    """The chart's opening: its accessible name and description, its title shown above it, and a
    group that moves the drawing below the title (closed by `_close`)."""
    full = height + TITLE_ROOM
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" viewBox="0 0 {width} {full}" '
        f'width="{width}" height="{full}" aria-labelledby="{chart_id}-title {chart_id}-desc" {FONT}>',
        f'<title id="{chart_id}-title">{escape(title)}</title>',
        f'<desc id="{chart_id}-desc">{escape(description)}</desc>',
        f'<text x="0" y="16" font-size="14" font-weight="bold" fill="{TEXT}">{escape(title)}</text>',
        f'<g transform="translate(0 {TITLE_ROOM})">',
    ]


def _close(parts: list[str]) -> Markup:
    parts.append("</g></svg>")
    return Markup("".join(parts))


def _described(description: str, pairs: Sequence[tuple[str, str]]) -> str:
    listed = "; ".join(f"{label}: {value}" for label, value in pairs)
    return f"{description} {listed}." if listed else description


def column_chart(chart_id: str, title: str, description: str, columns: Sequence[tuple[str, float]], *,
                 fmt: Format = _plain, width: int = 640, height: int = 260) -> Markup:
    """Vertical bars, one per label (years, for instance), each with its value above it."""
    top, bottom, left, right = 24, 28, 8, 8
    plot_height = height - top - bottom
    largest = max((value for _, value in columns), default=0) or 1
    slot = (width - left - right) / max(len(columns), 1)
    bar = max(min(slot * 0.7, 64), 2)
    parts = _open(chart_id, width, height, title, _described(description, [(k, fmt(v)) for k, v in columns]))
    parts.append(f'<line x1="{left}" y1="{top + plot_height}" x2="{width - right}" y2="{top + plot_height}" '
                 f'stroke="{AXIS}"/>')
    for index, (label, value) in enumerate(columns):
        x = left + slot * index + (slot - bar) / 2
        bar_height = plot_height * max(value, 0) / largest
        y = top + plot_height - bar_height
        parts.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar:.1f}" height="{bar_height:.1f}" '
                     f'fill="{COLOURS[0]}"/>')
        centre = x + bar / 2
        parts.append(f'<text x="{centre:.1f}" y="{y - 6:.1f}" text-anchor="middle" fill="{TEXT}">'
                     f'{escape(fmt(value))}</text>')
        parts.append(f'<text x="{centre:.1f}" y="{height - 8}" text-anchor="middle" fill="{TEXT}">'
                     f'{escape(_short(label, 12))}</text>')
    return _close(parts)


def bar_chart(chart_id: str, title: str, description: str, bars: Sequence[tuple[str, float]], *,
              fmt: Format = _plain, width: int = 640, label_width: int = 250) -> Markup:
    """Horizontal bars, one row per label (regions, tiers): long names stay readable."""
    row, top = 24, 8
    height = top * 2 + row * max(len(bars), 1)
    value_room = 70
    plot_width = width - label_width - value_room
    largest = max((value for _, value in bars), default=0) or 1
    parts = _open(chart_id, width, height, title, _described(description, [(k, fmt(v)) for k, v in bars]))
    parts.append(f'<line x1="{label_width}" y1="{top}" x2="{label_width}" y2="{height - top}" stroke="{AXIS}"/>')
    for index, (label, value) in enumerate(bars):
        y = top + row * index
        bar_width = plot_width * max(value, 0) / largest
        parts.append(f'<text x="{label_width - 6}" y="{y + 16}" text-anchor="end" fill="{TEXT}">'
                     f'{escape(_short(label))}</text>')
        parts.append(f'<rect x="{label_width}" y="{y + 4}" width="{bar_width:.1f}" height="{row - 8}" '
                     f'fill="{COLOURS[0]}"/>')
        parts.append(f'<text x="{label_width + bar_width + 6:.1f}" y="{y + 16}" fill="{TEXT}">'
                     f'{escape(fmt(value))}</text>')
    return _close(parts)


def line_chart(chart_id: str, title: str, description: str, labels: Sequence[str], series: Sequence[Series], *,
               fmt: Format = _plain, ceiling: float | None = None, width: int = 640, height: int = 260) -> Markup:
    """One line per series over the same labels (years); a missing value breaks the line there."""
    top, bottom, left, right = 28, 28, 64, 40
    plot_width, plot_height = width - left - right, height - top - bottom
    values = [value for line in series for value in line.values if value is not None]
    largest = ceiling if ceiling is not None else (max(values, default=0) or 1)
    step = plot_width / max(len(labels) - 1, 1)
    pairs = [(f"{line.name}, {label}", fmt(value)) for line in series
             for label, value in zip(labels, line.values, strict=False) if value is not None]
    parts = _open(chart_id, width, height, title, _described(description, pairs))
    for fraction in (0, 0.5, 1):
        y = top + plot_height * (1 - fraction)
        parts.append(f'<line x1="{left}" y1="{y:.1f}" x2="{width - right}" y2="{y:.1f}" stroke="#ccc"/>')
        parts.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" fill="{TEXT}">'
                     f'{escape(fmt(largest * fraction))}</text>')
    for index, label in enumerate(labels):
        x = left + (step * index if len(labels) > 1 else plot_width / 2)
        parts.append(f'<text x="{x:.1f}" y="{height - 8}" text-anchor="middle" fill="{TEXT}">'
                     f'{escape(_short(label, 12))}</text>')
    for number, line in enumerate(series):
        colour = COLOURS[number % len(COLOURS)]
        points: list[tuple[float, float, float]] = []
        for index, value in enumerate(line.values):
            if value is None:
                points.append((-1, -1, -1))
                continue
            x = left + (step * index if len(labels) > 1 else plot_width / 2)
            points.append((x, top + plot_height * (1 - min(value, largest) / largest), value))
        path, pen_down = [], False
        for x, y, _ in points:
            if x < 0:
                pen_down = False
                continue
            path.append(f"{'L' if pen_down else 'M'}{x:.1f},{y:.1f}")
            pen_down = True
        if path:
            parts.append(f'<path d="{" ".join(path)}" fill="none" stroke="{colour}" stroke-width="2"/>')
        for x, y, value in points:
            if x >= 0:
                parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3.5" fill="{colour}"/>')
                parts.append(f'<text x="{x:.1f}" y="{y - 8:.1f}" text-anchor="middle" fill="{colour}">'
                             f'{escape(fmt(value))}</text>')
        legend_x = left + 8 + number * 200
        parts.append(f'<rect x="{legend_x}" y="6" width="12" height="12" fill="{colour}"/>')
        parts.append(f'<text x="{legend_x + 18}" y="16" fill="{TEXT}">{escape(_short(line.name, 28))}</text>')
    return _close(parts)
