"""Charts as plain SVG generated here: no JavaScript, nothing fetched, prints as it shows.

Each function takes a result object and returns an ``<svg>`` string; numbers are also in the
report's tables, so the charts never carry information a reader cannot find as text.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

from journeykit.analytics import FunnelResult, NorthStarResult, PathsResult, TimeStats
from journeykit.report.svg import FONT, count, days, esc, pct

if TYPE_CHECKING:
    from journeykit.analytics.funnel_views import FunnelTrends
    from journeykit.clv.value import HoldoutCheck

STATUS_COLOURS = {
    "completed": "#2f8f5b",
    "on_track": "#7fb6e0",
    "strayed": "#c9a227",
    "stuck": "#c8402f",
    "lapsed": "#9aa3ad",
}
LABEL_W = 230.0


def _svg(width: float, height: float, body: str, label: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" width="{width:.0f}" '
        f'height="{height:.0f}" viewBox="0 0 {width:.0f} {height:.0f}" font-family="{FONT}" '
        f'font-size="11" role="img" aria-label="{esc(label)}">{body}</svg>'
    )


def _short(text: str, chars: int = 34) -> str:
    return text if len(text) <= chars else text[: chars - 1] + "…"


def _stacked_bar(
    title: str, y: float, height: float, segments: Sequence[tuple[int, str, str]], scale: float
) -> tuple[list[str], float]:
    """A labelled bar of (count, colour, name) segments, ``scale`` pixels per customer; the
    parts and the x where the bar ends."""
    out = [
        f'<text x="{LABEL_W - 8}" y="{y + height - 5}" text-anchor="end">'
        f"{esc(_short(title))}</text>"
    ]
    x = LABEL_W
    for n, colour, name in segments:
        w = scale * n
        if w > 0:
            out.append(
                f'<rect x="{x:.1f}" y="{y}" width="{w:.1f}" height="{height:g}" fill="{colour}">'
                f"<title>{esc(name)}: {n:,}</title></rect>"
            )
        x += w
    return out, x


def funnel_chart(result: FunnelResult, width: float = 860) -> str:
    """Reached per step; those who stop at a step split into dropped and still in progress."""
    top = max(result.counts[0], 1)
    bar_w = width - LABEL_W - 150
    row = 30.0
    out = []
    for k, s in enumerate(result.steps):
        y = 10 + k * row
        go_on = result.steps[k + 1].customers if k + 1 < len(result.steps) else s.customers
        segments = [
            (go_on, "#3b6fb6", "went on"),
            (s.in_progress, "#7fb6e0", "in progress"),
            (s.dropped, "#c8402f", "dropped"),
        ]
        parts, x = _stacked_bar(s.title, y, 20, segments, bar_w / top)
        out += parts
        out.append(
            f'<text x="{x + 6:.1f}" y="{y + 15}">{count(s.customers)} '
            f"({pct(s.share_of_start)})</text>"
        )
    y = 14 + len(result.steps) * row
    legend = [
        ("#3b6fb6", "went on"),
        ("#7fb6e0", "stopped here, window still open (in progress)"),
        ("#c8402f", "stopped here, window closed (dropped)"),
    ]
    x = LABEL_W
    for colour, name in legend:
        out.append(
            f'<rect x="{x}" y="{y}" width="12" height="12" fill="{colour}"/>'
            f'<text x="{x + 16}" y="{y + 10}">{esc(name)}</text>'
        )
        x += 30 + 6.2 * len(name)
    return _svg(width, y + 24, "".join(out), f"Funnel of path {result.path}")


def histogram(stats: TimeStats, title: str, width: float = 280, height: float = 150) -> str:
    """Time to reach a milestone from the previous one, with median and p25/p75/p90 marks."""
    bins = stats.histogram
    lo, hi = bins[0][0], bins[-1][1]
    span = (hi - lo) or 1.0
    peak = max(n for _, _, n in bins) or 1
    plot_w, plot_h, x0, y0 = width - 20, height - 56, 10.0, 24.0
    out = [f'<text x="{x0}" y="14" font-weight="bold">{esc(_short(title, 40))}</text>']
    for a, b, n in bins:
        x = x0 + plot_w * (a - lo) / span
        w = max(plot_w * (b - a) / span - 1, 1)
        h = plot_h * n / peak
        out.append(
            f'<rect x="{x:.1f}" y="{y0 + plot_h - h:.1f}" width="{w:.1f}" height="{h:.1f}" '
            f'fill="#7fb6e0"><title>{days(a)}–{days(b)}: {n:,}</title></rect>'
        )
    for name, value, colour in (
        ("p25", stats.p25, "#888"),
        ("median", stats.median, "#1f3550"),
        ("p75", stats.p75, "#888"),
        ("p90", stats.p90, "#c8402f"),
    ):
        x = x0 + plot_w * (value - lo) / span
        out.append(
            f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{y0}" y2="{y0 + plot_h}" '
            f'stroke="{colour}" stroke-width="{2 if name == "median" else 1}">'
            f"<title>{name} {days(value)}</title></line>"
        )
    out.append(
        f'<text x="{x0}" y="{y0 + plot_h + 14}">{days(lo)}</text>'
        f'<text x="{x0 + plot_w}" y="{y0 + plot_h + 14}" text-anchor="end">{days(hi)}</text>'
        f'<text x="{x0}" y="{y0 + plot_h + 30}">median {days(stats.median)} · p25 '
        f"{days(stats.p25)} · p75 {days(stats.p75)} · p90 {days(stats.p90)}</text>"
    )
    return _svg(width, height, "".join(out), f"Time to {title}")


def status_bars(rows: Sequence[tuple[str, dict[str, int]]], width: float = 860) -> str:
    """Customers whose position is each milestone, stacked by status."""
    top = max((sum(c.values()) for _, c in rows), default=0) or 1
    bar_w = width - LABEL_W - 80
    out = []
    for k, (title, counts) in enumerate(rows):
        y = 10 + k * 28
        segments = [(counts.get(st, 0), colour, st) for st, colour in STATUS_COLOURS.items()]
        parts, x = _stacked_bar(title, y, 18, segments, bar_w / top)
        out += parts
        out.append(f'<text x="{x + 6:.1f}" y="{y + 14}">{sum(counts.values()):,}</text>')
    y = 14 + len(rows) * 28
    x = LABEL_W
    for status, colour in STATUS_COLOURS.items():
        out.append(
            f'<rect x="{x}" y="{y}" width="12" height="12" fill="{colour}"/>'
            f'<text x="{x + 16}" y="{y + 10}">{status.replace("_", " ")}</text>'
        )
        x += 30 + 7 * len(status)
    return _svg(width, y + 22, "".join(out), "Positions by status")


def sankey(
    result: PathsResult,
    titles: dict[str, str],
    *,
    steps: int = 6,
    width: float = 900,
    height: float = 420,
) -> str:
    """Flows of the top path variants step by step: column k holds the k-th milestone reached.

    Variants beyond the top ones are not drawn (their share is given under the chart); a variant
    longer than ``steps`` is cut at ``steps``.
    """
    cols: list[dict[str, int]] = [{} for _ in range(steps)]
    links: dict[tuple[int, str, str], int] = {}
    for v in result.variants:
        seq = v.steps[:steps]
        for k, mid in enumerate(seq):
            cols[k][mid] = cols[k].get(mid, 0) + v.customers
            if k:
                key = (k - 1, seq[k - 1], mid)
                links[key] = links.get(key, 0) + v.customers
    cols = [c for c in cols if c]
    if not cols:
        return _svg(width, 30, '<text x="10" y="20">no paths to draw</text>', "Paths")
    total = max(sum(c.values()) for c in cols)
    node_w, gap, top_pad = 14.0, 8.0, 10.0
    usable = height - top_pad * 2 - gap * max(len(c) for c in cols)
    scale = usable / total
    col_x = [10 + k * (width - 180 - node_w) / max(len(cols) - 1, 1) for k in range(len(cols))]
    pos: dict[tuple[int, str], list[float]] = {}  # (col, milestone) -> [y, next out y, next in y]
    out = []
    lowest = 0.0
    for k, col in enumerate(cols):
        y = top_pad
        label_y = -1e9  # labels of thin nodes would print over each other: push them down
        for mid, n in sorted(col.items(), key=lambda kv: (-kv[1], kv[0])):
            h = max(n * scale, 1.0)
            pos[(k, mid)] = [y, y, y]
            label_y = max(y + min(h / 2, 12) + 4, label_y + 12)
            room = (col_x[k + 1] - col_x[k] if k + 1 < len(cols) else 180.0) - node_w - 10
            name, n_text = titles.get(mid, mid), f" ({n:,})"
            label = _short(name, max(int(room / 6.2) - len(n_text), 6)) + n_text
            out.append(
                f'<rect class="sankey-node" x="{col_x[k]:.1f}" y="{y:.1f}" width="{node_w}" '
                f'height="{h:.1f}" fill="#1f3550"><title>{esc(titles.get(mid, mid))}: '
                f"{n:,}</title></rect>"
                f'<text x="{col_x[k] + node_w + 4:.1f}" y="{label_y:.1f}" '
                f'font-size="10">{esc(label)}</text>'
            )
            y += h + gap
        lowest = max(lowest, label_y)
    flows = []
    for (k, a, b), n in sorted(links.items(), key=lambda kv: (kv[0][0], -kv[1], kv[0][1:])):
        h = max(n * scale, 0.5)
        src, dst = pos[(k, a)], pos[(k + 1, b)]
        x1, x2 = col_x[k] + node_w, col_x[k + 1]
        y1, y2 = src[1] + h / 2, dst[2] + h / 2
        src[1] += h
        dst[2] += h
        mx = (x1 + x2) / 2
        flows.append(
            f'<path d="M{x1:.1f},{y1:.1f} C{mx:.1f},{y1:.1f} {mx:.1f},{y2:.1f} '
            f'{x2:.1f},{y2:.1f}" stroke="#7fb6e0" stroke-opacity="0.55" '
            f'stroke-width="{h:.1f}" fill="none"><title>{esc(titles.get(a, a))} → '
            f"{esc(titles.get(b, b))}: {n:,}</title></path>"
        )
    return _svg(width, max(height, lowest + 8), "".join(flows + out), "Sankey of paths")


def north_star_value(value: float | None, metric: str) -> str:
    """As ``journeykit community northstar`` prints it: shares in percent, else two decimals."""
    if value is None:
        return "-"
    return pct(value) if metric in ("share_reaching", "repeat_rate") else f"{value:.2f}"


def north_star_chart(
    result: NorthStarResult, *, width: float = 860, height: float = 200, compact: bool = False
) -> str:
    """The north star per entry period as a line, with the target as a dashed line.

    A period whose ``within`` windows have not all ended is drawn hollow (its value can still
    move). ``compact`` drops the axis labels, for the map's small panel.
    """
    pts = [p for p in result.points if p.value is not None]
    values = [p.value for p in pts if p.value is not None]
    top = max([*values, result.target]) * 1.1 or 1.0
    left, right = (8.0, 8.0) if compact else (56.0, 90.0)
    y0, y1 = (6.0, height - 6) if compact else (16.0, height - 34)
    n = len(result.points)
    step = (width - left - right) / max(n - 1, 1)
    index = {p.period: k for k, p in enumerate(result.points)}

    def at(k: int, v: float) -> tuple[float, float]:
        return left + k * step, y1 - (y1 - y0) * v / top

    ty = at(0, result.target)[1]
    out = [
        f'<line x1="{left}" x2="{width - right:.1f}" y1="{y1:.1f}" y2="{y1:.1f}" '
        'stroke="#c9ced4"/>',
        f'<line class="target" data-target="{result.target!r}" x1="{left}" '
        f'x2="{width - right:.1f}" y1="{ty:.1f}" y2="{ty:.1f}" stroke="#c8402f" '
        f'stroke-dasharray="6 4" stroke-width="1.5"/>',
    ]
    if not compact:
        target = north_star_value(result.target, result.metric)
        out.append(
            f'<text x="{width - right + 6:.1f}" y="{ty + 4:.1f}" fill="#b0301f">target '
            f"{esc(target)}</text>"
            f'<text x="{left - 6}" y="{y1 + 4:.1f}" text-anchor="end">0</text>'
            f'<text x="{left - 6}" y="{y0 + 4:.1f}" text-anchor="end">'
            f"{esc(north_star_value(top, result.metric))}</text>"
        )
    line = [at(index[p.period], p.value) for p in pts if p.value is not None]
    if line:
        d = " ".join(f"{'M' if k == 0 else 'L'}{x:.1f},{y:.1f}" for k, (x, y) in enumerate(line))
        out.append(f'<path d="{d}" fill="none" stroke="#1f3550" stroke-width="2"/>')
    for p in pts:
        assert p.value is not None
        x, y = at(index[p.period], p.value)
        fill = "#fff" if p.complete is False else "#1f3550"
        shown = north_star_value(p.value, result.metric)
        out.append(
            f'<circle class="ns-point" data-period="{p.period.isoformat()}" '
            f'data-value="{p.value!r}" data-customers="{p.customers}" cx="{x:.1f}" cy="{y:.1f}" '
            f'r="{2.5 if compact else 4}" fill="{fill}" stroke="#1f3550"><title>'
            f"{p.period:%Y-%m-%d}: {esc(shown)} of {p.customers:,}"
            f"{' (still open)' if p.complete is False else ''}</title></circle>"
        )
    if not compact and result.points:
        every = max(1, n // 8)
        for k, p in enumerate(result.points):
            if k % every == 0 or k == n - 1:
                out.append(
                    f'<text x="{left + k * step:.1f}" y="{y1 + 16:.1f}" text-anchor="middle">'
                    f"{p.period:%Y-%m-%d}</text>"
                )
    return _svg(width, height, "".join(out), f"North star over time: {result.title}")


def funnel_trend_chart(trends: FunnelTrends, width: float = 860, height: float = 220) -> str:
    """Conversion to the trend's step per entry period, as a line from 0 to 100%; each point
    says how many entered then and how many of them converted."""
    rows = trends.periods
    left, right, y0, y1 = 48.0, 44.0, 16.0, height - 34
    step = (width - left - right) / max(len(rows) - 1, 1)

    def at(k: int, rate: float) -> tuple[float, float]:
        return left + k * step, y1 - (y1 - y0) * rate

    out = [f'<line x1="{left}" x2="{width - right}" y1="{y1}" y2="{y1}" stroke="#c9ced4"/>']
    for rate in (0.0, 0.5, 1.0):
        y = at(0, rate)[1]
        out.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">{pct(rate)}</text>')
    pts = [at(k, r.rate) for k, r in enumerate(rows)]
    if pts:
        d = " ".join(f"{'M' if k == 0 else 'L'}{x:.1f},{y:.1f}" for k, (x, y) in enumerate(pts))
        out.append(f'<path d="{d}" fill="none" stroke="#1f3550" stroke-width="2"/>')
    every = max(1, math.ceil(80 / step))  # a date label is about 70 px wide
    for k, (r, (x, y)) in enumerate(zip(rows, pts, strict=True)):
        out.append(
            f'<circle class="trend-point" data-period="{r.period.isoformat()}" '
            f'data-rate="{r.rate!r}" cx="{x:.1f}" cy="{y:.1f}" r="3.5" fill="#1f3550">'
            f"<title>{r.period.isoformat()}: {count(r.converted)} of {count(r.entered)} "
            f"({pct(r.rate)})</title></circle>"
        )
        if k % every == 0:
            out.append(
                f'<text x="{x:.1f}" y="{y1 + 16:.1f}" text-anchor="middle">'
                f"{r.period.isoformat()}</text>"
            )
    label = f"Conversion to {trends.to_step} per entry {trends.interval}"
    return _svg(width, height, "".join(out), label)


def holdout_chart(check: HoldoutCheck, width: float = 560, height: float = 240) -> str:
    """The model's holdout check (FHL 2005, Fig. 4): per number of repeat purchases in
    calibration, the mean purchases customers made in the holdout (solid, filled) beside what
    the model fitted on calibration expected (dashed, hollow). Close lines: the model predicts."""
    buckets = check.buckets
    top = max([b.actual_mean for b in buckets] + [b.predicted_mean for b in buckets] + [0.0])
    top = top * 1.1 or 1.0
    left, right, y0, y1 = 48.0, 16.0, 26.0, height - 44
    step = (width - left - right) / max(len(buckets) - 1, 1)

    def at(k: int, v: float) -> tuple[float, float]:
        return left + k * step, y1 - (y1 - y0) * v / top

    out = [
        f'<line x1="{left}" x2="{width - right}" y1="{y1}" y2="{y1}" stroke="#c9ced4"/>',
        f'<text x="{left - 6}" y="{y1 + 4:.1f}" text-anchor="end">0</text>'
        f'<text x="{left - 6}" y="{y0 + 4:.1f}" text-anchor="end">{top:.2f}</text>',
        f'<text x="{left}" y="14"><tspan font-weight="bold">— actual</tspan> · '
        f'<tspan fill="#c8402f">- - expected by {esc(check.model)}</tspan> · mean purchases '
        f"in {check.duration_holdout:g} holdout periods</text>",
    ]
    lines = (("actual", "#1f3550", "", "#1f3550"),
             ("predicted", "#c8402f", ' stroke-dasharray="6 4"', "#fff"))  # fmt: skip
    for name, colour, dash, fill in lines:
        pts = [at(k, getattr(b, f"{name}_mean")) for k, b in enumerate(buckets)]
        d = " ".join(f"{'M' if k == 0 else 'L'}{x:.1f},{y:.1f}" for k, (x, y) in enumerate(pts))
        out.append(f'<path d="{d}" fill="none" stroke="{colour}" stroke-width="2"{dash}/>')
        for b, (x, y) in zip(buckets, pts, strict=True):
            value = getattr(b, f"{name}_mean")
            out.append(
                f'<circle class="holdout-{name}" data-frequency="{esc(b.frequency)}" '
                f'data-value="{value!r}" cx="{x:.1f}" cy="{y:.1f}" r="4" fill="{fill}" '
                f'stroke="{colour}"><title>{esc(b.frequency)} repeat purchases '
                f"({b.customers:,} customers): {name} {value:.3f}</title></circle>"
            )
    for k, b in enumerate(buckets):
        out.append(
            f'<text x="{left + k * step:.1f}" y="{y1 + 16:.1f}" text-anchor="middle">'
            f"{esc(b.frequency)}</text>"
        )
    out.append(
        f'<text x="{width / 2:.1f}" y="{height - 8:.1f}" text-anchor="middle">repeat purchases '
        "in calibration</text>"
    )
    return _svg(width, height, "".join(out), f"Holdout check of {check.model}")
