"""The panels around the map's cards: the emotion curve, the community's purpose and roles,
the personas, and the legend (drawn by ``journey_map.draw_map``)."""

from __future__ import annotations

from journeykit.analytics import NorthStarResult
from journeykit.analytics.health import HEALTH_LABELS
from journeykit.journey.schema import Journey, Role
from journeykit.measure import CommunityResults
from journeykit.report import layout as lay
from journeykit.report.charts import north_star_chart, north_star_value
from journeykit.report.emotion import MOMENT_SCORE, ThemeEmotion
from journeykit.report.svg import esc, text_lines, wrap

MARGIN = 24.0
PATH_COLOURS = ("#3b6fb6", "#c2571a", "#2f8f5b", "#8a4fb0", "#a0862b", "#4a8f99")
EMOTION_H = 120.0


def emotion_panel(
    journey: Journey,
    placed: lay.Layout,
    paths: list[str],
    gx: float,
    y0: float,
    width: float,
    emotion: ThemeEmotion | None,
) -> tuple[str, float]:
    """A curve per path at each card's x: designed moments (celebrate high, breakdown low) or,
    with ``emotion``, what members' answers say; milestones no answer reached are skipped."""
    mid = y0 + EMOTION_H / 2
    amp = EMOTION_H / 2 - 16
    scores: dict[str, float]
    if emotion is not None and not emotion.by_milestone:
        emotion = None  # answers with no stage or tenure cannot be placed on the journey
        title = (
            "EMOTION (designed moments: the answers name no stage, milestone or tenure "
            "to place their themes at; give --stage-column or --tenure-column)"
        )
        scores = {m.id: MOMENT_SCORE[m.moment] for m in journey.milestones}
    elif emotion is None:
        scores = {m.id: MOMENT_SCORE[m.moment] for m in journey.milestones}
        title = "EMOTION (designed moments)"
    else:
        scores = {k: e.score for k, e in emotion.by_milestone.items()}
        n_themes = len({t for e in emotion.by_milestone.values() for t in e.themes})
        title = (
            f"EMOTION (from members' answers: {emotion.answers:,} answers in {n_themes} themes; "
            "hollow: no answer at this milestone)"
        )

    def point(mid_: str) -> tuple[float, float]:
        return gx + placed.boxes[mid_].x, mid - scores.get(mid_, 0.0) * amp

    source = "design" if emotion is None else "themes"
    out = [
        f'<g class="emotion" data-source="{source}"><rect x="{MARGIN}" y="{y0:.1f}" '
        f'width="{width - 2 * MARGIN:.1f}" height="{EMOTION_H}" fill="#fbfbfd" stroke="#d7dbe0" '
        'rx="6"/>',
        f'<text x="{MARGIN + 8}" y="{y0 - 5:.1f}" font-size="11" font-weight="bold" '
        f'fill="#45505c">{esc(title)}</text>',
        f'<line x1="{MARGIN}" x2="{width - MARGIN:.1f}" y1="{mid:.1f}" y2="{mid:.1f}" '
        f'stroke="#d7dbe0" stroke-dasharray="3 3"/>',
        f'<text x="{width - MARGIN - 6:.1f}" y="{mid - amp + 4:.1f}" font-size="10" '
        f'text-anchor="end" fill="#237048">celebrate</text>',
        f'<text x="{width - MARGIN - 6:.1f}" y="{mid + amp + 4:.1f}" font-size="10" '
        f'text-anchor="end" fill="#b0301f">breakdown</text>',
    ]
    for i, pid in enumerate(paths):
        colour = PATH_COLOURS[i % len(PATH_COLOURS)]
        steps = [s for s in journey.path(pid).milestone_ids if s in scores]
        pts = [point(s) for s in steps]
        d = " ".join(f"{'M' if k == 0 else 'L'}{x:.1f},{yy:.1f}" for k, (x, yy) in enumerate(pts))
        out.append(
            f'<path class="curve" data-path="{esc(pid)}" data-steps="{esc(" ".join(steps))}" '
            f'd="{d}" fill="none" stroke="{colour}" stroke-width="2" opacity="0.85"/>'
        )
    for m in journey.milestones:
        x, yy = point(m.id)
        if m.id not in scores:
            out.append(
                f'<circle class="emotion-point none" data-milestone="{esc(m.id)}" cx="{x:.1f}" '
                f'cy="{yy:.1f}" r="4" fill="#fff" stroke="#9aa3ad"><title>{esc(m.title)}: '
                "no answer at this milestone</title></circle>"
            )
            continue
        moment = m.moment if emotion is None else emotion.by_milestone[m.id].moment
        fill = {"celebrate": "#2f8f5b", "breakdown": "#c8402f"}.get(moment, "#9aa3ad")
        tip = esc(m.title)
        if emotion is not None:
            e = emotion.by_milestone[m.id]
            tip += esc(f": {e.score:+.2f} from {e.answers:,} answers ({', '.join(e.themes[:4])})")
        out.append(
            f'<circle class="emotion-point" data-milestone="{esc(m.id)}" '
            f'data-score="{scores[m.id]!r}" cx="{x:.1f}" cy="{yy:.1f}" r="5" fill="{fill}" '
            f'stroke="#fff"><title>{tip}</title></circle>'
        )
    out.append("</g>")
    return "".join(out), EMOTION_H


def community_panel(
    journey: Journey, measured: CommunityResults | None, width: float, y0: float
) -> tuple[str, float]:
    """Purpose and roles side by side (kept apart on purpose), each role's north star now
    against its target with its trend, and the engagement levels now."""
    com = journey.community
    if com is None:
        return "", 0.0
    inner = width - 2 * MARGIN
    col_w = min((inner - 16) / 2, 640.0)  # on a wide map the two stay together, on one screen
    purpose = wrap(com.purpose, col_w - 20, 13)
    stars = [s for _, s in measured.roles] if measured else [None] * len(com.all_roles)
    role_blocks: list[tuple[list[str], NorthStarResult | None, Role]] = []
    for role, star in zip(com.all_roles, stars, strict=True):
        head = f"{role.objective or 'role'}: {role.description}"
        lines = wrap(head, col_w - 20, 12)
        ns = role.north_star
        if ns is not None:
            target = north_star_value(ns.target, ns.metric)
            now = north_star_value(star.value, ns.metric) if star else "-"
            name = ns.title or f"{ns.metric} {ns.milestone}"
            lines += wrap(f"north star: {name}", col_w - 20, 11)
            shown = f"now {now} · " if measured is not None else ""
            lines.append(f"{shown}target {target} ({ns.direction})")
        role_blocks.append((lines, star, role))
    spark_h = 34.0
    roles_h = sum(len(b[0]) * 15 + (spark_h + 6 if b[1] else 0) + 10 for b in role_blocks)
    levels = measured.levels if measured else None
    body_h = max(24 + len(purpose) * 17, 24 + roles_h) + 8
    h = body_h + (60 if levels is not None else 0)
    x0, x1 = MARGIN, MARGIN + col_w + 16
    out = [
        f'<g class="community"><text x="{MARGIN}" y="{y0 - 5:.1f}" font-size="11" '
        'font-weight="bold" fill="#45505c">COMMUNITY · purpose for members, role for the '
        "business</text>",
        f'<g class="purpose"><rect x="{x0}" y="{y0:.1f}" width="{col_w:.1f}" '
        f'height="{body_h:.1f}" rx="6" fill="#f1f8f3" stroke="#9cc9aa"/>'
        f'<text x="{x0 + 10}" y="{y0 + 18:.1f}" font-size="11" font-weight="bold" '
        'fill="#237048">PURPOSE · why members belong</text>'
        + text_lines(purpose, x0 + 10, y0 + 38, size=13, leading=17, cls="purpose-text")
        + "</g>",
        f'<g class="roles"><rect x="{x1:.1f}" y="{y0:.1f}" width="{col_w:.1f}" '
        f'height="{body_h:.1f}" rx="6" fill="#f3f6fb" stroke="#8da2bd"/>'
        f'<text x="{x1 + 10:.1f}" y="{y0 + 18:.1f}" font-size="11" font-weight="bold" '
        'fill="#1f3550">ROLE · what it does for the business</text>',
    ]
    y = y0 + 36
    for k, (lines, star, role) in enumerate(role_blocks):
        value = "" if star is None or star.value is None else f' data-value="{star.value!r}"'
        out.append(
            f'<g class="role" data-role="{k + 1}" '
            f'data-objective="{esc(role.objective or "")}"{value}>'
            + text_lines(lines, x1 + 10, y, size=12, leading=15)
        )
        y += len(lines) * 15
        if star is not None and star.points:
            out.append(
                f'<g transform="translate({x1 + 10:.1f},{y - 8:.1f})">'
                + north_star_chart(star, width=col_w - 20, height=spark_h, compact=True)
                + "</g>"
            )
            y += spark_h + 6
        out.append("</g>")
        y += 10
    out.append("</g>")
    if levels is not None:
        from journeykit.analytics.levels import LEVELS

        ly = y0 + body_h + 10
        out.append(
            f'<g class="levels"><rect x="{MARGIN}" y="{ly:.1f}" width="{2 * col_w + 16:.1f}" '
            'height="50" rx="6" fill="#fafafa" stroke="#b7bec6"/>'
            f'<text x="{MARGIN + 10}" y="{ly + 18:.1f}" font-size="11" font-weight="bold" '
            f'fill="#45505c">ENGAGEMENT LEVELS now (by {esc(levels.by)}, per {esc(levels.period)})'
            "</text>"
        )
        x = MARGIN + 10
        for name in LEVELS:
            out.append(
                f'<text class="level" data-level="{name}" data-members="{levels.counts[name]}" '
                f'x="{x:.1f}" y="{ly + 38:.1f}" font-size="12"><tspan font-weight="bold">'
                f"{levels.counts[name]:,}</tspan> {name}</text>"
            )
            x += 135
        drifting = len(levels.drifting_away)
        out.append(
            f'<text x="{x:.1f}" y="{ly + 38:.1f}" font-size="12">drifting away {drifting:,}'
            f" · new and promising {len(levels.new_and_promising):,}</text></g>"
        )
    out.append("</g>")
    return "".join(out), h


def personas_panel(journey: Journey, width: float, y0: float) -> tuple[str, float]:
    if not journey.personas:
        return "", 0.0
    box_w = 300.0
    per_row = max(1, int((width - 2 * MARGIN + 12) // (box_w + 12)))
    blocks = [_persona_lines(p, box_w - 20) for p in journey.personas]
    row_h = max(16 + sum(lead for _, _, lead, _ in lines) for lines in blocks)
    out = ['<g class="personas">']
    for i, (p, lines) in enumerate(zip(journey.personas, blocks, strict=True)):
        x = MARGIN + (i % per_row) * (box_w + 12)
        y = y0 + (i // per_row) * (row_h + 12)
        out.append(
            f'<g class="persona" data-persona="{esc(p.id)}"><rect x="{x:.1f}" '
            f'y="{y:.1f}" width="{box_w}" height="{row_h:.1f}" rx="6"/>'
        )
        ty = y + 18
        for text, cls, lead, weight in lines:
            out.append(
                f'<text class="{cls}" x="{x + 10:.1f}" y="{ty:.1f}" font-size="{lead - 3:g}" '
                f'font-weight="{weight}">{esc(text)}</text>'
            )
            ty += lead
        out.append("</g>")
    out.append("</g>")
    rows = (len(blocks) + per_row - 1) // per_row
    return "".join(out), rows * (row_h + 12) - 12


def _persona_lines(p: object, inner: float) -> list[tuple[str, str, float, str]]:
    from journeykit.journey.schema import Persona

    assert isinstance(p, Persona)
    lines = [(x, "head", 17.0, "bold") for x in wrap(p.name, inner, 14, bold=True)]
    for label, items in (
        ("Fears", p.fears),
        ("Frustrations", p.frustrations),
        ("Desires", p.desires),
    ):
        if not items:
            continue
        lines.append((label, f"label {label.lower()}", 15.0, "bold"))
        for item in items:
            for k, x in enumerate(wrap(item, inner - 12, 11)):
                lines.append(((("• " if k == 0 else "  ") + x), label.lower(), 14.0, "normal"))
    return lines


def legend(paths: list[str], with_data: bool, y0: float) -> tuple[str, float]:
    x = MARGIN
    out = ['<g class="legend" font-size="11">']
    for i, pid in enumerate(paths):
        c = PATH_COLOURS[i % len(PATH_COLOURS)]
        out.append(
            f'<line x1="{x}" x2="{x + 24}" y1="{y0 + 8}" y2="{y0 + 8}" stroke="{c}" '
            f'stroke-width="3"/><text x="{x + 30}" y="{y0 + 12}">path {esc(pid)}</text>'
        )
        x += 80 + 7 * len(pid)
    out.append(
        f'<line x1="{x}" x2="{x + 24}" y1="{y0 + 8}" y2="{y0 + 8}" stroke="#9a8a3a" '
        f'stroke-width="2" stroke-dasharray="5 4"/><text x="{x + 30}" y="{y0 + 12}">'
        "touchpoint off the designed paths</text>"
    )
    h = 20.0
    if with_data:
        y = y0 + 24
        x = MARGIN
        for key in ("ok", "slow", "off", "entry", "none"):
            out.append(
                f'<g class="card health-{key}"><rect class="body" x="{x}" y="{y}" '
                f'width="14" height="14" rx="3"/></g><text x="{x + 20}" y="{y + 11}">'
                f"{esc(HEALTH_LABELS[key])}</text>"
            )
            x += 40 + 7 * len(HEALTH_LABELS[key])
        h += 24
    out.append("</g>")
    return "".join(out), h
