"""The distribution of totals of a simulation: binned, drawn in the terminal with block
characters, and drawn as a small hand-built SVG (no script; a title and a description for screen
readers; the numbers are also in the report's table, so nothing is told by colour alone)."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from xml.sax.saxutils import escape

BIN_WIDTH = 10


@dataclass(frozen=True)
class Bin:
    low: int
    """Totals from ``low`` to ``low + BIN_WIDTH - 1`` (whole points; a fraction rounds down)."""
    count: int
    baseline: int | None = None
    """The count in the same bin under the version compared against, if any."""

    @property
    def label(self) -> str:
        return f"{self.low}–{self.low + BIN_WIDTH - 1}"


def bins(totals: Iterable[float], baseline: Iterable[float] | None = None,
         width: int = BIN_WIDTH) -> list[Bin]:
    """Counts per bin of ``width`` points, every bin between the lowest and the highest total
    shown (empty ones too, so the shape is not distorted)."""
    counts: dict[int, int] = {}
    for total in totals:
        low = math.floor(total / width) * width
        counts[low] = counts.get(low, 0) + 1
    before: dict[int, int] | None = None
    if baseline is not None:
        before = {}
        for total in baseline:
            low = math.floor(total / width) * width
            before[low] = before.get(low, 0) + 1
    lows = set(counts) | set(before or {})
    if not lows:
        return []
    return [Bin(low, counts.get(low, 0), None if before is None else before.get(low, 0))
            for low in range(min(lows), max(lows) + width, width)]


def terminal(histogram: Sequence[Bin], threshold: float | None = None, width: int = 50) -> str:
    """One line per bin: its range, a bar of block characters, the count (and the count under
    the compared version in brackets). The bin holding the pass mark is marked with ◀."""
    if not histogram:
        return ""
    top = max(max(b.count, b.baseline or 0) for b in histogram)
    eighths = " ▏▎▍▌▋▊▉"
    lines = []
    label_width = max(len(b.label) for b in histogram)
    for b in histogram:
        length = b.count * width / top if top else 0
        full, part = divmod(round(length * 8), 8)
        bar = "█" * full + (eighths[part] if part else "")
        count = f"{b.count}" if b.baseline is None else f"{b.count} (was {b.baseline})"
        mark = " ◀ pass mark" if threshold is not None and b.low <= threshold < b.low + BIN_WIDTH \
            else ""
        lines.append(f"{b.label:>{label_width}} │{bar:<{width}} {count}{mark}")
    return "\n".join(lines)


def svg(histogram: Sequence[Bin], *, title: str, description: str,
        threshold: float | None = None, threshold_label: str = "",
        series: tuple[str, str] = ("", "")) -> str:
    """The histogram as an SVG document: a bar per bin, the compared version's counts as an
    outline over each bar, and a dashed line at the pass mark. ``series`` names the two
    versions for the legend (the second is empty when nothing is compared)."""
    width, height = 640, 300
    left, right, top_margin, bottom = 48, 16, 36, 48
    plot_w, plot_h = width - left - right, height - top_margin - bottom
    top = max([max(b.count, b.baseline or 0) for b in histogram] or [1]) or 1
    step = plot_w / max(1, len(histogram))
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" aria-labelledby="chart-title chart-desc" '
        'font-family="sans-serif" font-size="11">',
        f'<title id="chart-title">{escape(title)}</title>',
        f'<desc id="chart-desc">{escape(description)}</desc>',
        f'<rect x="0" y="0" width="{width}" height="{height}" fill="#ffffff"/>',
        f'<line x1="{left}" y1="{top_margin + plot_h}" x2="{left + plot_w}" '
        f'y2="{top_margin + plot_h}" stroke="#0b0c0c"/>',
        f'<line x1="{left}" y1="{top_margin}" x2="{left}" y2="{top_margin + plot_h}" '
        'stroke="#0b0c0c"/>',
    ]
    for fraction in (0.5, 1.0):
        y = top_margin + plot_h * (1 - fraction)
        parts.append(f'<text x="{left - 4}" y="{y + 4:.1f}" text-anchor="end">'
                     f'{round(top * fraction)}</text>')
    label_every = max(1, math.ceil(len(histogram) / 12))
    for i, b in enumerate(histogram):
        x = left + i * step
        bar_h = plot_h * b.count / top
        parts.append(
            f'<rect x="{x + 1:.1f}" y="{top_margin + plot_h - bar_h:.1f}" '
            f'width="{max(1.0, step - 2):.1f}" height="{bar_h:.1f}" fill="#1d70b8">'
            f'<title>{escape(b.label)}: {b.count}</title></rect>')
        if b.baseline is not None:
            base_h = plot_h * b.baseline / top
            parts.append(
                f'<rect x="{x + 1:.1f}" y="{top_margin + plot_h - base_h:.1f}" '
                f'width="{max(1.0, step - 2):.1f}" height="{base_h:.1f}" fill="none" '
                f'stroke="#d4351c" stroke-width="1.5"/>')
        if i % label_every == 0:
            parts.append(f'<text x="{x + step / 2:.1f}" y="{top_margin + plot_h + 14}" '
                         f'text-anchor="middle">{b.low}</text>')
    if threshold is not None and histogram:
        first = histogram[0].low
        span = len(histogram) * BIN_WIDTH
        x = left + plot_w * (threshold - first) / span
        if left <= x <= left + plot_w:
            parts.append(f'<line x1="{x:.1f}" y1="{top_margin - 6}" x2="{x:.1f}" '
                         f'y2="{top_margin + plot_h}" stroke="#0b0c0c" stroke-dasharray="4 3"/>')
            parts.append(f'<text x="{x + 3:.1f}" y="{top_margin - 8}">'
                         f'{escape(threshold_label)}</text>')
    now, before = series
    legend_y = height - 12
    if now:
        parts.append(f'<rect x="{left}" y="{legend_y - 9}" width="10" height="10" '
                     'fill="#1d70b8"/>')
        parts.append(f'<text x="{left + 14}" y="{legend_y}">{escape(now)}</text>')
    if before:
        parts.append(f'<rect x="{left + 260}" y="{legend_y - 9}" width="10" height="10" '
                     'fill="none" stroke="#d4351c" stroke-width="1.5"/>')
        parts.append(f'<text x="{left + 274}" y="{legend_y}">{escape(before)}</text>')
    parts.append("</svg>")
    return "\n".join(parts) + "\n"
