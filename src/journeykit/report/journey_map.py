"""The living journey map: the design drawn from the file, with live numbers when there is data.

One SVG (inline in the HTML page, or a file for slides): a FROM -> TO banner, the lifecycle stages
band, three zones with the core offer in the middle as the fulcrum, milestone cards placed by
Graphviz (see ``layout.py``) with touchpoint chips on the routes between them, an emotion curve
per path from the designed moments, the personas, and a legend.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise

from journeykit.analytics.health import HEALTH_LABELS, CardNumbers
from journeykit.journey.schema import Journey, Milestone, Touchpoint
from journeykit.measure import CommunityResults
from journeykit.report import layout as lay
from journeykit.report.emotion import ThemeEmotion
from journeykit.report.map_panels import (
    MARGIN,
    PATH_COLOURS,
    community_panel,
    emotion_panel,
    legend,
    personas_panel,
)
from journeykit.report.svg import FONT, count, days, esc, pct, text_lines, wrap

CARD_W = 210.0
CHIP_W = 150.0
PAD = 10.0
TITLE_SIZE, TITLE_LEAD = 13.0, 16.0
SMALL_SIZE, SMALL_LEAD = 11.0, 14.0
CHIP_SIZE, CHIP_LEAD = 10.0, 12.0
MOMENT_MARK = {"celebrate": "▲ celebrate", "breakdown": "▼ breakdown", "neutral": "● neutral"}
PHASE_LABELS = {
    "pre": "BEFORE · pre-purchase",
    "core": "CORE OFFER · the fulcrum",
    "post": "AFTER · post-purchase",
}
MAP_BODY_ID = "journey-map-body"  # printed pages show parts of the map by reference to it


@dataclass(frozen=True)
class _Card:
    milestone: Milestone
    title: list[str]
    meta: list[str]
    numbers: CardNumbers | None
    data_lines: list[str]

    @property
    def height(self) -> float:
        h = 8 + 20 + len(self.title) * TITLE_LEAD + len(self.meta) * SMALL_LEAD + PAD
        if self.data_lines:
            h += 8 + len(self.data_lines) * SMALL_LEAD
        return h


def _card(journey: Journey, m: Milestone, numbers: CardNumbers | None) -> _Card:
    inner = CARD_W - 2 * PAD
    stage = {s.id: s.title for s in journey.stages}.get(m.stage or "", "no stage")
    meta = wrap(f"{m.kind.replace('_', ' ')} · {stage}", inner, SMALL_SIZE)
    plays = [p.title for p in journey.plays if p.who.milestone == m.id]
    if plays:  # the plays designed for customers at this milestone
        meta += wrap("▶ plays: " + "; ".join(plays), inner, SMALL_SIZE)
    return _Card(
        m,
        wrap(m.title, inner, TITLE_SIZE, bold=True),
        meta,
        numbers,
        _data_lines(numbers) if numbers else [],
    )


def _data_lines(n: CardNumbers) -> list[str]:
    if n.path is None:
        return [f"reached {count(n.reached)} (on no path)"]
    design = f" · design {days(n.expected_seconds)}" if n.expected_seconds else ""
    lines = [f"reached {count(n.reached)}"]
    if n.step:
        lines += [f"from previous {pct(n.conversion)}", f"median {days(n.median_seconds)}{design}"]
    lines += [f"stuck now {count(n.stuck)}", f"health: {HEALTH_LABELS[n.health]}"]
    return lines


def _chip_lines(tps: list[Touchpoint]) -> list[tuple[str, bool]]:
    lines: list[tuple[str, bool]] = []
    inner = CHIP_W - 12
    for t in tps:
        lines += [(x, True) for x in wrap(t.channel, inner, CHIP_SIZE, bold=True)]
        lines += [(x, False) for x in wrap(t.action, inner, CHIP_SIZE)]
    return lines


def _graph(
    journey: Journey, cards: dict[str, _Card], path_ids: list[str]
) -> tuple[list[lay.Box], list[lay.Edge], dict[str, list[Touchpoint]], dict[tuple[str, str], int]]:
    """Boxes and edges for dot: path steps, touchpoint chips on them, invisible rank orderings."""
    boxes = [lay.Box(mid, CARD_W, c.height) for mid, c in cards.items()]
    chips: dict[str, list[Touchpoint]] = {}
    for t in journey.touchpoints:
        chips.setdefault(f"tp__{t.from_}__{t.to}", []).append(t)
    for cid, tps in chips.items():
        boxes.append(lay.Box(cid, CHIP_W, 10 + len(_chip_lines(tps)) * CHIP_LEAD))
    pairs: dict[tuple[str, str], int] = {}  # (from, to) -> index of the first path using it
    for i, pid in enumerate(path_ids):
        ids = journey.path(pid).milestone_ids
        for a, b in pairwise(ids):
            pairs.setdefault((a, b), i)
    for t in journey.touchpoints:
        pairs.setdefault((t.from_, t.to), -1)
    edges: list[lay.Edge] = []
    for a, b in pairs:
        chip = f"tp__{a}__{b}"
        if chip in chips:
            edges += [lay.Edge(a, chip, weight=2), lay.Edge(chip, b, weight=2)]
        else:
            edges.append(lay.Edge(a, b, weight=2))
    edges += _rank_orderings(journey, pairs, {x for pair in pairs for x in pair})
    return boxes, edges, chips, pairs


def _rank_orderings(
    journey: Journey, pairs: dict[tuple[str, str], int], connected: set[str]
) -> list[lay.Edge]:
    """Invisible edges that keep pre before core before post, and put a milestone on no path or
    touchpoint after its file predecessor instead of letting it drift to the start.

    Only loose ends get one (a pre milestone that leads to nothing in pre or core; a post
    milestone nothing in core or post leads to): edges between every pair of zones would make
    long invisible edges whose virtual nodes stretch the map far down.
    """
    phase = {m.id: m.phase for m in journey.milestones}
    cores = [m.id for m in journey.milestones if m.phase == "core"]
    out: list[lay.Edge] = []
    for m in journey.milestones:
        if m.phase == "pre" and not any(
            a == m.id and phase[b] in ("pre", "core") for a, b in pairs
        ):
            out.append(lay.Edge(m.id, cores[0], visible=False, weight=0))
        if m.phase == "post" and not any(
            b == m.id and phase[a] in ("core", "post") for a, b in pairs
        ):
            out.append(lay.Edge(cores[-1], m.id, visible=False, weight=0))
    ms = journey.milestones
    for prev, m in pairwise(ms):
        # Only within a phase: a pre milestone listed after a post one must not follow it.
        if m.id not in connected and prev.phase == m.phase:
            out.append(lay.Edge(prev.id, m.id, visible=False, weight=0))
    return out


@dataclass(frozen=True)
class _Geometry:
    layout: lay.Layout
    zones: list[tuple[str, float, float]]  # phase, left, right (graph coordinates)


def _zones(journey: Journey, placed: lay.Layout) -> list[tuple[str, float, float]]:
    spans: list[tuple[str, float, float]] = []
    for phase, ms in journey.milestones_by_phase().items():
        if ms:
            boxes = [placed.boxes[m.id] for m in ms]
            spans.append((phase, min(b.left for b in boxes), max(b.right for b in boxes)))
    if not spans:
        return []
    # Between two zones, halfway from one's last card to the next's first; a path that goes
    # back to an earlier phase (pre after core, as while a step is being moved) makes spans
    # overlap, so each boundary is kept at or after the one before: no zone has negative width.
    bounds = [spans[0][1] - 12]
    for (_, _, right), (_, left, _) in pairwise(spans):
        bounds.append(max((right + left) / 2, bounds[-1]))
    bounds.append(max(spans[-1][2] + 12, bounds[-1]))
    return [(phase, bounds[i], bounds[i + 1]) for i, (phase, _, _) in enumerate(spans)]


Region = tuple[float, float, float, float]  # x, y, width, height in map pixels


@dataclass(frozen=True)
class MapDrawing:
    """The SVG and where it has ink: printing skips the parts of a wide map that are empty."""

    svg: str
    width: float
    height: float
    regions: tuple[Region, ...]


def render_map_svg(
    journey: Journey,
    numbers: dict[str, CardNumbers] | None = None,
    *,
    path_ids: list[str] | None = None,
    emotion: ThemeEmotion | None = None,
    community: CommunityResults | None = None,
) -> str:
    """The map as one standalone SVG document (text escaped, no scripts).

    ``emotion`` (from discovery themes) replaces the designed moments in the emotion curve;
    ``community`` adds the north stars' values and trends and the levels to the community panel.
    """
    return draw_map(journey, numbers, path_ids=path_ids, emotion=emotion, community=community).svg


def draw_map(
    journey: Journey,
    numbers: dict[str, CardNumbers] | None = None,
    *,
    path_ids: list[str] | None = None,
    emotion: ThemeEmotion | None = None,
    community: CommunityResults | None = None,
) -> MapDrawing:
    """``render_map_svg`` with its size and inked regions."""
    paths = path_ids or [p.id for p in journey.paths] or ["main"]
    cards = {
        m.id: _card(journey, m, numbers.get(m.id) if numbers else None) for m in journey.milestones
    }
    boxes, edges, chips, pairs = _graph(journey, cards, paths)
    placed = lay.layout(boxes, edges)
    zones = _zones(journey, placed)
    width = max(placed.width + 2 * MARGIN, 960.0)
    parts: list[str] = []
    y = MARGIN
    banner, h = _banner(journey, width)
    parts.append(banner)
    y += h + 14
    band, h = _stage_band(journey, width, y)
    parts.append(band)
    y += h + 18
    gx = (width - placed.width) / 2
    parts.append(_zone_layer(zones, gx, y, placed.height + 40))
    gy = y + 30
    regions: list[Region] = [(0.0, 0.0, width, gy)]
    regions += [(gx + b.left, gy + b.top, b.width, b.height) for b in placed.boxes.values()]
    parts.append(f'<g class="graph" transform="translate({gx:.1f},{gy:.1f})">')
    parts.append(_routes(placed, pairs, chips, paths))
    parts += [_chip(placed.boxes[cid], tps) for cid, tps in chips.items()]
    parts += [_card_svg(cards[mid], placed.boxes[mid]) for mid in cards]
    parts.append("</g>")
    y = gy + placed.height + 40
    curve, h = emotion_panel(journey, placed, paths, gx, y, width, emotion)
    parts.append(curve)
    regions.append((0.0, y - 20, width, h + 20))
    y += h + 18
    panel, h = community_panel(journey, community, width, y)
    parts.append(panel)
    regions.append((0.0, y - 20, min(width, 2 * 640.0 + 16 + 2 * MARGIN), h + 20))
    y += h + (18 if h else 0)
    people, h = personas_panel(journey, width, y)
    parts.append(people)
    regions.append((0.0, y, MARGIN + len(journey.personas) * 312.0, h))
    y += h + (18 if h else 0)
    key, h = legend(paths, numbers is not None, y)
    parts.append(key)
    regions.append((0.0, y, 900.0, h))
    y += h + MARGIN
    svg = (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="journey-map" width="{width:.0f}" '
        f'height="{y:.0f}" viewBox="0 0 {width:.0f} {y:.0f}" font-family="{FONT}" '
        f'role="img" aria-label="{esc("Journey map: " + journey.title)}">'
        f"<title>{esc(journey.title)}</title>{_STYLE}"
        f'<g id="{MAP_BODY_ID}">{"".join(parts)}</g></svg>'
    )
    return MapDrawing(svg, width, y, tuple(r for r in regions if r[2] > 0 and r[3] > 0))


_STYLE = """<style>
.card rect.body{fill:#fff;stroke:#9aa3ad;stroke-width:1}
.card.health-ok rect.body{fill:#eef8f0;stroke:#3e9b5a}
.card.health-slow rect.body{fill:#fff6e0;stroke:#d49b16}
.card.health-off rect.body{fill:#fdecea;stroke:#c8402f}
.card.health-entry rect.body{fill:#f2f5fa;stroke:#6d7f99}
.card.health-none rect.body{fill:#f7f7f7;stroke:#b5b5b5}
.card .stripe.celebrate{fill:#2f8f5b}.card .stripe.breakdown{fill:#c8402f}
.card .stripe.neutral{fill:#9aa3ad}
.card .mark.celebrate{fill:#237048}.card .mark.breakdown{fill:#b0301f}
.card .mark.neutral{fill:#5c6670}
.card.breakdown rect.body{stroke-dasharray:6 3;stroke-width:2}
.card .title{fill:#1d2733}.card .meta{fill:#55606b}.card .data{fill:#24303c}
.chip rect{fill:#fffbe8;stroke:#c9b458}.chip text{fill:#4d4320}
.zone.pre{fill:#f3f6fb}.zone.core{fill:#fff1d6}.zone.post{fill:#f1f8f3}
.zone-label{fill:#45505c;font-weight:bold;letter-spacing:.05em}
.stage rect{fill:#eef2f7;stroke:#8da2bd}
.stage.uncovered rect{fill:#fff;stroke:#c8402f;stroke-dasharray:4 3}
.stage.uncovered text{fill:#b0301f}.stage text{fill:#2c3a4b}
.persona rect{fill:#fafafa;stroke:#b7bec6}.persona .head{fill:#1d2733}.persona text{fill:#3b4550}
.banner rect{fill:#1f3550}.banner text{fill:#fff}.banner .label{fill:#ffd27a;font-weight:bold}
</style>"""


def _banner(journey: Journey, width: float) -> tuple[str, float]:
    half = (min(width, 1300.0) - 2 * MARGIN - 80) / 2  # FROM and TO stay on one screen
    from_lines = wrap(journey.transformation.from_, half - 20, 14)
    to_lines = wrap(journey.transformation.to, half - 20, 14)
    title = wrap(journey.title, width - 2 * MARGIN - 20, 18, bold=True)
    rows = max(len(from_lines), len(to_lines))
    h = 22 + len(title) * 22 + 22 + rows * 18 + 12
    x0, x1 = MARGIN + 10, MARGIN + half + 80 + 10
    y = MARGIN + 26
    body = [
        f'<g class="banner"><rect x="{MARGIN}" y="{MARGIN}" width="{width - 2 * MARGIN:.1f}" '
        f'height="{h:.1f}" rx="8"/>',
        text_lines(title, x0, y, size=18, leading=22, cls="journey-title", weight="bold"),
    ]
    y += len(title) * 22 + 4
    body.append(f'<text class="label" x="{x0}" y="{y:.1f}" font-size="12">FROM</text>')
    body.append(f'<text class="label" x="{x1:.1f}" y="{y:.1f}" font-size="12">TO</text>')
    body.append(text_lines(from_lines, x0, y + 18, size=14, leading=18, cls="from"))
    body.append(text_lines(to_lines, x1, y + 18, size=14, leading=18, cls="to"))
    ax = MARGIN + half + 40
    body.append(f'<text x="{ax:.1f}" y="{y + 24:.1f}" font-size="28" text-anchor="middle">→</text>')
    body.append("</g>")
    return "".join(body), h


def _stage_band(journey: Journey, width: float, y0: float) -> tuple[str, float]:
    covered = {m.stage for m in journey.milestones}
    n = len(journey.stages)
    if not n:
        return "", 0.0
    usable = width - 2 * MARGIN - 80
    per_row = max(1, min(n, int(usable // 130)))
    w = usable / per_row - 6
    out = [
        f'<g class="stages"><text x="{MARGIN}" y="{y0 + 16:.1f}" font-size="11" '
        f'font-weight="bold" fill="#45505c">STAGES</text>'
    ]
    row_h = 0.0
    heights = []
    for s in journey.stages:
        lines = wrap(s.title, w - 10, 11)
        heights.append(14 + len(lines) * 13 + (13 if s.id not in covered else 0))
    row_h = max(heights)
    for i, s in enumerate(journey.stages):
        x = MARGIN + 80 + (i % per_row) * (w + 6)
        y = y0 + (i // per_row) * (row_h + 6)
        gap = s.id not in covered
        lines = wrap(s.title, w - 10, 11) + (["no milestone"] if gap else [])
        out.append(
            f'<g class="stage{" uncovered" if gap else ""}" data-stage="{esc(s.id)}">'
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" height="{row_h:.1f}" rx="5"/>'
            + text_lines(lines, x + w / 2, y + 17, size=11, leading=13, anchor="middle")
            + "</g>"
        )
    out.append("</g>")
    rows = (n + per_row - 1) // per_row
    return "".join(out), rows * (row_h + 6)


def _zone_layer(zones: list[tuple[str, float, float]], gx: float, y: float, h: float) -> str:
    out = ['<g class="zones">']
    for phase, lo, hi in zones:
        out.append(
            f'<rect class="zone {phase}" data-phase="{phase}" x="{gx + lo:.1f}" y="{y:.1f}" '
            f'width="{hi - lo:.1f}" height="{h:.1f}" rx="10"/>'
            f'<text class="zone-label" x="{gx + (lo + hi) / 2:.1f}" y="{y + 18:.1f}" '
            f'font-size="11" text-anchor="middle">{esc(PHASE_LABELS[phase])}</text>'
        )
        if phase == "core":  # the fulcrum the journey turns on
            cx, by = gx + (lo + hi) / 2, y + h
            out.append(
                f'<path class="fulcrum" d="M{cx - 14:.1f},{by + 16:.1f} L{cx:.1f},{by:.1f} '
                f'L{cx + 14:.1f},{by + 16:.1f} Z" fill="#d49b16"/>'
            )
    out.append("</g>")
    return "".join(out)


def _spline(points: tuple[tuple[float, float], ...]) -> str:
    (x, y), rest = points[0], points[1:]
    d = [f"M{x:.1f},{y:.1f}"]
    for i in range(0, len(rest) - 2, 3):
        (a, b), (c, e), (f, g) = rest[i], rest[i + 1], rest[i + 2]
        d.append(f"C{a:.1f},{b:.1f} {c:.1f},{e:.1f} {f:.1f},{g:.1f}")
    return " ".join(d)


def _routes(
    placed: lay.Layout,
    pairs: dict[tuple[str, str], int],
    chips: dict[str, list[Touchpoint]],
    paths: list[str],
) -> str:
    colour: dict[tuple[str, str], str] = {}
    for (a, b), i in pairs.items():
        c = PATH_COLOURS[i % len(PATH_COLOURS)] if i >= 0 else "#9a8a3a"
        chip = f"tp__{a}__{b}"
        if chip in chips:
            colour[(a, chip)] = colour[(chip, b)] = c
        else:
            colour[(a, b)] = c
    out = ['<g class="routes" fill="none" stroke-width="2">']
    for r in placed.routes:
        c = colour.get((r.tail, r.head), "#888")
        dash = ' stroke-dasharray="5 4"' if c == "#9a8a3a" else ""
        out.append(f'<path d="{_spline(r.points)}" stroke="{c}"{dash}/>')
        ex, ey = r.points[-1]
        if not r.head.startswith("tp__"):  # an arrowhead where a route reaches a milestone
            out.append(
                f'<path d="M{ex - 8:.1f},{ey - 4:.1f} L{ex:.1f},{ey:.1f} '
                f'L{ex - 8:.1f},{ey + 4:.1f}" stroke="{c}"/>'
            )
    out.append("</g>")
    return "".join(out)


def _chip(box: lay.Placed, tps: list[Touchpoint]) -> str:
    lines = _chip_lines(tps)
    out = [
        f'<g class="chip touchpoint" data-from="{esc(tps[0].from_)}" data-to="{esc(tps[0].to)}">'
        f'<rect x="{box.left:.1f}" y="{box.top:.1f}" width="{box.width:.1f}" '
        f'height="{box.height:.1f}" rx="6"/>'
    ]
    for i, (line, bold) in enumerate(lines):
        out.append(
            f'<text x="{box.left + 6:.1f}" y="{box.top + 15 + i * CHIP_LEAD:.1f}" '
            f'font-size="{CHIP_SIZE:g}" font-weight="{"bold" if bold else "normal"}">'
            f"{esc(line)}</text>"
        )
    out.append("</g>")
    return "".join(out)


def _card_svg(card: _Card, box: lay.Placed) -> str:
    m, n = card.milestone, card.numbers
    health = n.health if n else "design"
    attrs = f'data-milestone="{esc(m.id)}" data-phase="{m.phase}" data-moment="{m.moment}"'
    if n is not None:
        attrs += (
            f' data-path="{esc(n.path or "")}" data-reached="{n.reached}"'
            f' data-conversion="{"" if n.conversion is None else repr(n.conversion)}"'
            f' data-median-seconds="{"" if n.median_seconds is None else repr(n.median_seconds)}"'
            f' data-stuck="{"" if n.stuck is None else n.stuck}" data-health="{n.health}"'
        )
    x, y = box.left, box.top
    out = [
        f'<g class="card {m.moment} health-{health}" {attrs}>',
        f"<title>{esc(m.title)}{esc(' — ' + m.description) if m.description else ''}</title>",
        f'<rect class="body" x="{x:.1f}" y="{y:.1f}" width="{box.width:.1f}" '
        f'height="{box.height:.1f}" rx="8"/>',
        f'<rect class="stripe {m.moment}" x="{x:.1f}" y="{y:.1f}" width="{box.width:.1f}" '
        f'height="6" rx="3"/>',
        f'<text class="mark {m.moment}" x="{x + PAD:.1f}" y="{y + 22:.1f}" font-size="10" '
        f'font-weight="bold">{esc(MOMENT_MARK[m.moment])}</text>',
    ]
    ty = y + 22 + TITLE_LEAD + 2
    out.append(
        text_lines(
            card.title, x + PAD, ty, size=TITLE_SIZE, leading=TITLE_LEAD, cls="title", weight="bold"
        )
    )
    ty += len(card.title) * TITLE_LEAD
    out.append(text_lines(card.meta, x + PAD, ty, size=SMALL_SIZE, leading=SMALL_LEAD, cls="meta"))
    ty += len(card.meta) * SMALL_LEAD
    if card.data_lines:
        out.append(
            f'<line x1="{x + PAD:.1f}" x2="{box.right - PAD:.1f}" y1="{ty - 6:.1f}" '
            f'y2="{ty - 6:.1f}" stroke="#c9ced4"/>'
        )
        out.append(
            text_lines(
                card.data_lines, x + PAD, ty + 8, size=SMALL_SIZE, leading=SMALL_LEAD, cls="data"
            )
        )
    out.append("</g>")
    return "".join(out)
