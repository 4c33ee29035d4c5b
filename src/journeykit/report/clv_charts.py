"""CLV diagnostics as plain SVG, in the style of charts.py: the tracking chart, a frequency ×
recency heat map, predicted vs actual holdout purchases, and each group's CLV with its interval.

Each takes the data object from journeykit.clv (no fitting here: report/ only draws results)
and returns an ``<svg>`` string that works offline and in a notebook (``IPython.display.SVG``).
"""

from __future__ import annotations

from collections.abc import Sequence

from journeykit.clv.diagnostics import RecencyFrequencyMatrix, Tracking
from journeykit.clv.uncertainty import GroupInterval
from journeykit.clv.value import HoldoutCheck
from journeykit.report.charts import _svg
from journeykit.report.svg import esc

INK, MODEL, GRID = "#1f3550", "#c8402f", "#c9ced4"


def _polyline(points: Sequence[tuple[float, float]], colour: str, dash: str = "") -> str:
    d = " ".join(f"{'M' if k == 0 else 'L'}{x:.1f},{y:.1f}" for k, (x, y) in enumerate(points))
    extra = f' stroke-dasharray="{dash}"' if dash else ""
    return f'<path d="{d}" fill="none" stroke="{colour}" stroke-width="2"{extra}/>'


def tracking_chart(
    tracking: Tracking,
    *,
    incremental: bool = False,
    calibration_end: float | None = None,
    width: float = 860,
    height: float = 240,
) -> str:
    """Actual (solid) and expected (dashed) repeat transactions over time, cumulative or per
    interval; a vertical line marks the end of calibration."""
    expected = tracking.expected_incremental if incremental else tracking.expected_cumulative
    actual = tracking.actual_incremental if incremental else tracking.actual_cumulative
    times = tracking.times
    top = max([*expected.tolist(), *([] if actual is None else actual.tolist()), 1.0]) * 1.1
    left, right, y0, y1 = 60.0, 20.0, 14.0, height - 30.0
    span = float(times[-1] - times[0]) or 1.0

    def at(t: float, v: float) -> tuple[float, float]:
        return left + (width - left - right) * (t - times[0]) / span, y1 - (y1 - y0) * v / top

    out = [
        f'<line x1="{left}" x2="{width - right}" y1="{y1}" y2="{y1}" stroke="{GRID}"/>',
        f'<text x="{left - 6}" y="{y1 + 4}" text-anchor="end">0</text>',
        f'<text x="{left - 6}" y="{y0 + 4}" text-anchor="end">{top:,.0f}</text>',
        f'<text x="{left}" y="{height - 8}">{times[0]:g}</text>',
        f'<text x="{width - right}" y="{height - 8}" text-anchor="end">{times[-1]:g}</text>',
        _polyline([at(t, v) for t, v in zip(times, expected, strict=True)], MODEL, "6 4"),
    ]
    if actual is not None:
        out.append(_polyline([at(t, v) for t, v in zip(times, actual, strict=True)], INK))
    if calibration_end is not None:
        x = at(calibration_end, 0)[0]
        out.append(
            f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{y0}" y2="{y1}" stroke="{GRID}" '
            f'stroke-dasharray="2 3"/><text x="{x + 4:.1f}" y="{y0 + 10}">end of calibration</text>'
        )
    out.append(
        f'<text x="{width - right}" y="{y0 + 10}" text-anchor="end" fill="{MODEL}">model</text>'
        f'<text x="{width - right}" y="{y0 + 24}" text-anchor="end" fill="{INK}">actual</text>'
    )
    kind = "per interval" if incremental else "cumulative"
    return _svg(width, height, "".join(out), f"Repeat transactions, {kind}: actual vs model")


def matrix_chart(matrix: RecencyFrequencyMatrix, *, cell: float = 14.0) -> str:
    """A heat map: frequency across, recency down (most recent at the top), darker = higher."""
    rows, cols = matrix.values.shape
    left, top_pad = 50.0, 24.0
    width, height = left + cols * cell + 10, top_pad + rows * cell + 24
    peak = float(matrix.values.max()) or 1.0
    out = [f'<text x="{left}" y="14">frequency 0 → {matrix.frequency[-1]:g}</text>']
    for i in range(rows):
        y = top_pad + (rows - 1 - i) * cell
        for j in range(cols):
            v = float(matrix.values[i, j])
            shade = 0.08 + 0.92 * v / peak
            out.append(
                f'<rect x="{left + j * cell:.1f}" y="{y:.1f}" width="{cell}" height="{cell}" '
                f'fill="{INK}" fill-opacity="{shade:.3f}"><title>frequency '
                f"{matrix.frequency[j]:g}, recency {matrix.recency[i]:g}: {v:.3g}</title></rect>"
            )
    out.append(
        f'<text x="{left - 4}" y="{top_pad + 10}" text-anchor="end">{matrix.recency[-1]:g}</text>'
    )
    out.append(f'<text x="{left - 4}" y="{top_pad + rows * cell}" text-anchor="end">0</text>')
    label = matrix.quantity.replace("_", " ")
    out.append(
        f'<text x="{left}" y="{height - 6}">'
        f"{esc(label)} at age {matrix.age:g} (max {peak:.3g})</text>"
    )
    return _svg(width, height, "".join(out), f"{label} by frequency and recency")


def holdout_chart(check: HoldoutCheck, *, width: float = 560, height: float = 220) -> str:
    """Mean holdout purchases by calibration purchases: actual (dark) beside predicted."""
    buckets = check.buckets
    top = max([*(b.actual_mean for b in buckets), *(b.predicted_mean for b in buckets), 0.1]) * 1.1
    left, y0, y1 = 50.0, 14.0, height - 30.0
    slot = (width - left - 10) / max(len(buckets), 1)
    bar = slot * 0.35
    out = [f'<line x1="{left}" x2="{width - 10}" y1="{y1}" y2="{y1}" stroke="{GRID}"/>',
           f'<text x="{left - 6}" y="{y0 + 4}" text-anchor="end">{top:.2g}</text>']  # fmt: skip
    for k, b in enumerate(buckets):
        x = left + k * slot + slot * 0.15
        for offset, value, colour, name in (
            (0.0, b.actual_mean, INK, "actual"),
            (bar, b.predicted_mean, MODEL, "model"),
        ):
            h = (y1 - y0) * value / top
            out.append(
                f'<rect x="{x + offset:.1f}" y="{y1 - h:.1f}" width="{bar:.1f}" height="{h:.1f}" '
                f'fill="{colour}"><title>{b.frequency} in calibration, {name}: {value:.3g} '
                f"({b.customers:,} customers)</title></rect>"
            )
        out.append(
            f'<text x="{x + bar:.1f}" y="{height - 12}" text-anchor="middle">'
            f"{esc(b.frequency)}</text>"
        )
    return _svg(width, height, "".join(out), "Holdout purchases by calibration purchases")


def group_intervals_chart(groups: Sequence[GroupInterval], *, width: float = 560) -> str:
    """Each group's mean CLV as a dot with its interval as a bar: overlapping bars are not a
    difference the data can tell apart from estimation noise."""
    row, left, right = 26.0, 170.0, 80.0
    height = row * len(groups) + 20
    top = max([g.upper for g in groups] + [1e-9]) * 1.05
    scale = (width - left - right) / top
    out = []
    for k, g in enumerate(groups):
        y = 14 + k * row
        out.append(
            f'<text x="{left - 8}" y="{y + 4}" text-anchor="end">{esc(g.group)}</text>'
            f'<line x1="{left + g.lower * scale:.1f}" x2="{left + g.upper * scale:.1f}" '
            f'y1="{y}" y2="{y}" stroke="{GRID}" stroke-width="6"/>'
            f'<circle cx="{left + g.mean_clv * scale:.1f}" cy="{y}" r="4" fill="{INK}">'
            f"<title>{esc(g.group)}: {g.mean_clv:,.2f} ({g.lower:,.2f} to {g.upper:,.2f}), "
            f"{g.customers:,} customers</title></circle>"
            f'<text x="{width - right + 6}" y="{y + 4}">{g.mean_clv:,.2f}</text>'
        )
    return _svg(width, height, "".join(out), "Mean CLV per group with its interval")
