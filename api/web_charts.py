"""Inline SVG charts for the console: drawn on the server from numbers, no chart library and
nothing fetched by the browser."""

from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup, escape

W, H, PAD = 560, 160, 28


def _scale(values: Sequence[float], lo: float | None = None,
           hi: float | None = None) -> tuple[float, float]:
    lo = min(values) if lo is None else lo
    hi = max(values) if hi is None else hi
    if hi <= lo:
        hi = lo + 1
    return lo, hi


def bars(points: Sequence[tuple[str, float]], label: str) -> Markup:
    """A bar chart of (label, value) pairs, e.g. overtime hours per day."""
    if not points:
        return Markup("")
    lo, hi = _scale([v for _, v in points], lo=0)
    step = (W - 2 * PAD) / len(points)
    parts = []
    for i, (name, value) in enumerate(points):
        h = (H - 2 * PAD) * (value - lo) / (hi - lo)
        x = PAD + i * step
        parts.append(
            f'<rect x="{x:.1f}" y="{H - PAD - h:.1f}" width="{max(step - 2, 1):.1f}" '
            f'height="{h:.1f}" class="bar"><title>{escape(name)}: {value:g}</title></rect>')
    return _frame(label, "".join(parts), hi, lo, points[0][0], points[-1][0])


def line(points: Sequence[tuple[str, float]], label: str, lo: float | None = None,
         hi: float | None = None) -> Markup:
    """A line chart of (label, value) pairs, e.g. satisfaction per survey or per week."""
    if not points:
        return Markup("")
    lo, hi = _scale([v for _, v in points], lo, hi)
    n = max(len(points) - 1, 1)
    xy = [(PAD + i * (W - 2 * PAD) / n, H - PAD - (H - 2 * PAD) * (v - lo) / (hi - lo))
          for i, (_, v) in enumerate(points)]
    path = " ".join(f"{x:.1f},{y:.1f}" for x, y in xy)
    dots = "".join(
        f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" class="dot"><title>{escape(name)}: '
        f'{v:g}</title></circle>' for (x, y), (name, v) in zip(xy, points, strict=True))
    body = f'<polyline points="{path}" class="line" fill="none"/>{dots}'
    return _frame(label, body, hi, lo, points[0][0], points[-1][0])


def _frame(label: str, body: str, hi: float, lo: float, first: str, last: str) -> Markup:
    # One point (or one week) is one label: said once, under the left end.
    last_tick = "" if last == first else (
        f'<text x="{W - PAD}" y="{H - 6}" class="tick" text-anchor="end">{escape(last)}</text>')
    return Markup(
        f'<svg class="chart" viewBox="0 0 {W} {H}" role="img" aria-label="{escape(label)}">'
        f'<line x1="{PAD}" y1="{H - PAD}" x2="{W - PAD}" y2="{H - PAD}" class="axis"/>'
        f'<text x="2" y="{PAD}" class="tick">{hi:g}</text>'
        f'<text x="2" y="{H - PAD}" class="tick">{lo:g}</text>'
        f'<text x="{PAD}" y="{H - 6}" class="tick">{escape(first)}</text>'
        f"{last_tick}"
        f"{body}</svg>"
    )
