"""The map page and the report page: one self-contained HTML file each, no script, no CDN.

Every value from the journey file, the data or the answers goes through ``esc``. The pages hold
no JavaScript at all: charts are SVG made in ``charts.py``, so the file works offline, prints
as it shows, and stays small (the size does not grow with the number of events).
"""

from __future__ import annotations

import math
from collections import Counter
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from journeykit import __version__
from journeykit.analytics import NorthStarResult
from journeykit.analytics.levels import LevelsResult
from journeykit.analytics.status import status_list
from journeykit.analytics.windows import Resolved, describe_window
from journeykit.journey.schema import Journey, Role
from journeykit.measure import CommunityResults, JourneyResults
from journeykit.report import charts
from journeykit.report.decisions import CSS as DECISION_CSS
from journeykit.report.decisions import heroes_section, opportunities_section, stories_section
from journeykit.report.emotion import theme_emotion
from journeykit.report.html import section as _section
from journeykit.report.html import table as _table
from journeykit.report.journey_map import CARD_W, MAP_BODY_ID, MapDrawing, draw_map
from journeykit.report.svg import count, days, esc, pct

if TYPE_CHECKING:
    from journeykit.discover import ThemeResult
    from journeykit.prove import ProveResult

CSS = """
:root{color-scheme:light}
body{font-family:"DejaVu Sans",Verdana,Arial,sans-serif;margin:0;color:#1d2733;background:#fff}
header.page{padding:16px 24px;border-bottom:1px solid #d7dbe0}
header.page h1{margin:0 0 4px;font-size:22px}
header.page p{margin:2px 0;color:#55606b;font-size:13px}
main{padding:0 24px 32px}
section{margin:24px 0;break-inside:avoid-page}
section.map-section{break-inside:auto}
h2{font-size:18px;border-bottom:2px solid #1f3550;padding-bottom:4px}
h3{font-size:14px;margin:16px 0 6px}
.scroll{overflow-x:auto;border:1px solid #eef0f3;border-radius:6px}
table{border-collapse:collapse;font-size:12px;margin:8px 0}
th,td{border-bottom:1px solid #e3e6ea;padding:4px 8px;text-align:left;vertical-align:top}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
.note{color:#55606b;font-size:12px;font-style:italic}
.grid{display:flex;flex-wrap:wrap;gap:12px}
.theme{border:1px solid #d7dbe0;border-radius:6px;padding:8px 12px;max-width:420px}
.theme blockquote{margin:4px 0 4px 8px;font-size:12px;color:#3b4550}
.kpi{display:inline-block;margin:4px 16px 4px 0}
.kpi b{display:block;font-size:18px}
.side{display:flex;flex-wrap:wrap;gap:16px;align-items:flex-start}
.side>.box{flex:1 1 360px;border:1px solid #d7dbe0;border-radius:6px;padding:4px 12px}
.box.purpose{background:#f1f8f3}.box.roles{background:#f3f6fb}
.role{margin-bottom:8px}
.proof{border:1px solid #d7dbe0;border-radius:6px;padding:4px 12px;margin:8px 0}
.verdict{font-size:12px;padding:1px 6px;border-radius:4px;background:#eef0f3}
.verdict.good{background:#dff1e6}.verdict.bad{background:#f8e0dc}
.print-only{display:none}
.map-part{break-before:page;break-inside:avoid;margin:0}
.map-part figcaption{font-size:11px;color:#55606b;margin-bottom:4px}
.map-part svg{max-width:100%;height:auto}
@media print{
  .print-only{display:block}
  .scroll{overflow:visible;border:none}
  svg.journey-map{width:100%;height:auto}
  section{break-inside:avoid}
  section.map-section,section.long,section#community{break-inside:auto}
  .north-star,.levels .side,.role,.theme,figure,tr{break-inside:avoid}
  h2,h3{break-after:avoid}
  header.page{border:none}
  a{color:inherit;text-decoration:none}
}
@page{size:A4 landscape;margin:12mm}
"""


def _document(title: str, body: str) -> str:
    return (
        "<!doctype html>\n"
        f'<html lang="en"><head><meta charset="utf-8"><title>{esc(title)}</title>'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<meta name="generator" content="journeykit {esc(__version__)}">'
        f"<style>{CSS}{DECISION_CSS}</style></head><body>{body}</body></html>\n"
    )


def as_of(now_us: int) -> str:
    return (datetime(1970, 1, 1) + timedelta(microseconds=now_us)).strftime("%Y-%m-%d %H:%M UTC")


def map_svg(
    journey: Journey, results: JourneyResults | None = None, themes: ThemeResult | None = None
) -> str:
    """The map SVG, with numbers on the cards when ``results`` are given, and the emotion curve
    from discovery themes when there are any (``themes``, else the results' own)."""
    return map_drawing(journey, results, themes).svg


def map_drawing(
    journey: Journey, results: JourneyResults | None = None, themes: ThemeResult | None = None
) -> MapDrawing:
    themes = themes or (results.themes if results else None)
    paths = results.path_order if results else [p.id for p in journey.paths] or ["main"]
    emotion = theme_emotion(journey, themes, paths[0]) if themes is not None else None
    if results is None:
        return draw_map(journey, emotion=emotion)
    return draw_map(
        journey,
        results.cards,
        path_ids=results.path_order,
        emotion=emotion,
        community=results.community,
    )


# Printed (A4 landscape, 12 mm margins) the page is about 1,030 CSS px wide and 700 high. A map
# wider than the page is shown whole (scaled to the width: an overview) and then in parts at 3/4
# of its size, where an 11 px label is still 8 px; parts overlap by a card's width, so every card
# is whole on some page, and a part with nothing drawn in it is left out.
PRINT_W, PRINT_H, PRINT_SCALE = 1030.0, 610.0, 0.75


def _map_block(drawing: MapDrawing) -> str:
    """The map for the screen (scrolls sideways) and, when printed, an overview plus parts."""
    width, height = drawing.width, drawing.height
    screen = f'<div class="scroll">{drawing.svg}</div>'
    if width <= PRINT_W / PRINT_SCALE:
        return screen
    tile_w, tile_h = PRINT_W / PRINT_SCALE, PRINT_H / PRINT_SCALE
    xs = _starts(width, tile_w, tile_w - CARD_W - 20)
    ys = _starts(height, tile_h, tile_h - 20)
    tiles = []
    for y in ys:
        for x in xs:
            w, h = min(tile_w, width - x), min(tile_h, height - y)
            if any(
                rx < x + w and x < rx + rw and ry < y + h and y < ry + rh
                for rx, ry, rw, rh in drawing.regions
            ):
                tiles.append((x, y, w, h))
    parts = []
    for k, (x, y, w, h) in enumerate(tiles, start=1):
        parts.append(
            f'<figure class="map-part print-only" data-part="{k}"><figcaption>The map, part '
            f"{k} of {len(tiles)} (from {x:,.0f} px right and {y:,.0f} px down, of "
            f'{width:,.0f} × {height:,.0f})</figcaption><svg xmlns="http://www.w3.org/2000/svg" '
            f'viewBox="{x:.0f} {y:.0f} {w:.0f} {h:.0f}" width="{w * PRINT_SCALE:.0f}" '
            f'height="{h * PRINT_SCALE:.0f}"><use href="#{MAP_BODY_ID}"/></svg></figure>'
        )
    return screen + "".join(parts)


def _starts(total: float, size: float, step: float) -> list[float]:
    """Where parts of ``size`` start to cover ``total``, at most ``step`` apart, evenly spread
    (so the last part does not nearly repeat the one before it)."""
    if total <= size:
        return [0.0]
    n = math.ceil((total - size) / step)
    return [(total - size) * k / n for k in range(n + 1)]


def map_page(
    journey: Journey, results: JourneyResults | None = None, themes: ThemeResult | None = None
) -> str:
    """The map alone as an HTML page."""
    sub = (
        f"<p>Numbers as of {esc(as_of(results.now))}; cards show their first path "
        f"(chosen: {esc(results.path)}).</p>"
        if results
        else "<p>The design only: run with --events or --workspace for live numbers.</p>"
    )
    body = (
        f'<header class="page"><h1>{esc(journey.title)}</h1>{sub}</header>'
        f'<main><section class="map-section">{_map_block(map_drawing(journey, results, themes))}'
        "</section></main>"
    )
    return _document(f"{journey.title} · journey map", body)


def report_page(
    results: JourneyResults,
    *,
    top_stuck: int = 20,
    source: str = "",
    proof: ProveResult | None = None,
) -> str:
    """The whole report as one HTML page (with ``proof``: what the plays changed)."""
    from journeykit.report.proof_view import proof_section

    j = results.journey
    proved = (
        ""
        if proof is None or not proof.results
        else _section("proof", "What the plays changed", proof_section(proof))
    )
    sections = [
        _section(
            "map",
            "The journey map",
            _map_block(map_drawing(j, results)),
            cls="map-section",
        ),
        _funnel(results),
        _timing(results),
        _paths(results),
        _positions(results),
        _stuck(results, top_stuck),
        _strays(results),
        proved,
        opportunities_section(results.decisions, j),
        _clv(results),
        _community(results),
        _themes(results),
        stories_section(results.decisions, j),
        heroes_section(results.decisions),
    ]
    notes = "".join(f'<p class="note">{esc(n)}</p>' for n in results.notes)
    window = results.windows.get(results.path)
    header = (
        f'<header class="page"><h1>{esc(j.title)}</h1>'
        f"<p>FROM {esc(j.transformation.from_)} → TO {esc(j.transformation.to)}</p>"
        f"<p>As of {esc(as_of(results.now))} · path {esc(results.path)} · funnel window "
        f"{esc(_window_label(window))} · "
        f"{results.counts.customers:,} customers reached a milestone"
        f"{' · ' + esc(source) if source else ''}</p>{notes}</header>"
    )
    return _document(
        f"{j.title} · journey report", header + "<main>" + "".join(sections) + "</main>"
    )


def _funnel(r: JourneyResults) -> str:
    f = r.funnels.get(r.path)
    if f is None:
        return _section("funnel", "Funnel", '<p class="note">The chosen path is not measured.</p>')
    rows = [
        (
            s.title,
            count(s.customers),
            pct(s.share_of_start),
            pct(s.share_of_previous),
            count(s.dropped),
            count(s.in_progress),
            days(s.time_from_previous.median if s.time_from_previous else None),
        )
        for s in f.steps
    ]
    head = ("step", "reached", "of start", "of previous", "dropped", "in progress", "median")
    return _section(
        "funnel",
        f"Funnel · path {f.path} ({f.mode})",
        charts.funnel_chart(f) + _table(head, rows, {1, 2, 3, 4, 5, 6}),
    )


def _timing(r: JourneyResults) -> str:
    f = r.funnels.get(r.path)
    blocks = []
    for s in f.steps if f else ():
        if s.time_from_previous is not None:
            blocks.append(charts.histogram(s.time_from_previous, s.title))
    body = (
        f'<div class="grid">{"".join(blocks)}</div>'
        if blocks
        else '<p class="note">No customer went past the first step.</p>'
    )
    return _section("timing", "Time to each milestone (from the previous step)", body)


def _paths(r: JourneyResults) -> str:
    p = r.paths
    if p is None:
        return ""
    titles = {m.id: m.title for m in r.journey.milestones}
    shown = sum(v.customers for v in p.variants)
    note = (
        f'<p class="note">The top {len(p.variants)} variants cover {shown:,} of '
        f"{p.customers:,} customers ({pct(shown / p.customers if p.customers else None)}); "
        "columns are the 1st, 2nd, ... milestone reached.</p>"
    )
    variants = _table(
        ("customers", "share", "milestones in order"),
        [
            (count(v.customers), pct(v.share), " → ".join(titles[s] for s in v.steps))
            for v in p.variants[:10]
        ],
        {0, 1},
    )
    transitions = _table(
        ("from", "to", "times", "median time"),
        [
            (titles[t.from_], titles[t.to], count(t.count), days(t.median_seconds))
            for t in p.transitions[:30]
        ],
        {2, 3},
    )
    body = (
        f'<div class="scroll">{charts.sankey(p, titles)}</div>{note}<h3>Top variants</h3>'
        f"{variants}<h3>Transitions (directly follows, top 30)</h3>{transitions}"
    )
    return _section("paths", "Paths customers really take", body, cls="long")


def _positions(r: JourneyResults) -> str:
    pos = r.positions.get(r.path)
    if pos is None:
        return ""
    per = pos.at_step()
    steps = r.journey.path(r.path).milestone_ids
    rows = [(r.journey.milestone(m).title, per.get(m, {})) for m in steps]
    kpis = "".join(
        f'<span class="kpi"><b>{n:,}</b>{esc(s.replace("_", " "))}</span>'
        for s, n in pos.summary.items()
    )
    return _section(
        "positions",
        f"Where customers are now · path {pos.path}",
        f"<div>{kpis}</div>{charts.status_bars(rows)}",
    )


def _stuck(r: JourneyResults, top: int) -> str:
    pos = r.positions.get(r.path)
    if pos is None:
        return ""
    n_stuck = pos.n_stuck
    listed = status_list(pos, r.journey, "stuck", top)
    rows = []
    for c in listed.customers:
        moves = listed.touchpoints.get(c.milestone, ())
        rows.append(
            (
                c.customer_id,
                r.journey.milestone(c.milestone).title,
                f"{c.waiting_seconds / 86400:.1f}",
                days(c.threshold_seconds),
                "; ".join(f"{t.channel}: {t.action}" for t in moves)
                or "none designed (a gap in the design)",
            )
        )
    body = f"<p>{n_stuck:,} customers are stuck; the {min(top, n_stuck)} longest:</p>" + _table(
        ("customer", "stuck at", "days stuck", "allowed", "touchpoint to move them"),
        rows,
        {2, 3},
    )
    return _section("stuck", "Stuck: who to help first", body)


def _strays(r: JourneyResults) -> str:
    pos = r.positions.get(r.path)
    if pos is None:
        return ""
    counted = pos.stray_counts()
    by_type = Counter({t: sum(c.values()) for t, c in counted.items()})
    examples = {t: Counter({" → ".join(k): n for k, n in c.items()}) for t, c in counted.items()}
    rows = [
        (
            t,
            count(by_type.get(t, 0)),
            ", ".join(f"{k} ({n:,})" for k, n in examples.get(t, Counter()).most_common(3)),
        )
        for t in ("skipped", "out_of_order", "backwards", "off_path")
    ]
    return _section(
        "strays",
        f"Strays by type · path {pos.path}",
        _table(("type", "times", "most common milestones"), rows, {1}),
    )


def _clv(r: JourneyResults) -> str:
    c = r.clv
    if c is None:
        return ""
    parts = []
    s, v = c.simple, c.value
    kpis = []
    if s is not None and s.clv is not None:
        kpis.append(f'<span class="kpi"><b>{s.clv:,.2f}</b>simple CLV, a lifetime</span>')
    if s is not None and s.horizon_clv_today is not None:
        kpis.append(
            f'<span class="kpi"><b>{s.horizon_clv_today:,.2f}</b>simple, '
            f"{s.horizon_months:g} months, today's customers</span>"
        )
    if v is not None:
        kpis.append(
            f'<span class="kpi"><b>{v.overall.clv:,.2f}</b>model, {v.horizon_months} months, '
            "today's customers</span>"
        )
    if kpis:
        parts.append(f"<p>{''.join(kpis)}</p>")
    if s is not None:
        parts.append(
            _table(
                ("simple formula", "value", "how"),
                [(f.name, f"{f.value:,.4g}", f.explanation) for f in s.factors],
                {1},
            )
        )
        if s.note:
            parts.append(f'<p class="note">{esc(s.note)}</p>')
        parts.append(
            '<p class="note">The simple formula is average purchase value &times; purchases per '
            f"{esc(s.period)} while a customer &times; lifespan (1 / churn), undiscounted, for a "
            "new customer. Churn is the constant rate that best explains who kept buying and who "
            "went quiet. Over the same 12 months and discount as the model, averaged over "
            "today's customers (an estimated "
            f"{(s.still_customers or 0):.0%} still customers), it is the figure to compare with "
            "the model's; the model differs where customers differ from one another "
            '(docs/metrics.md "CLV").</p>'
        )
    if v is not None:
        o = v.overall
        parts.append(
            _table(
                (f"BG/NBD + Gamma-Gamma ({v.horizon_months} months, 1%/month discount)", "value"),
                [
                    ("customers", count(o.customers)),
                    ("mean P(alive)", f"{o.probability_alive:.3f}"),
                    ("mean expected purchases", f"{o.expected_purchases:.3f}"),
                    ("mean discounted CLV", f"{o.clv:,.2f}"),
                ],
                {1},
            )
        )
    parts += [f'<p class="note">{esc(n)}</p>' for n in c.notes]
    return _section("clv", "Customer lifetime value", "".join(parts))


def _community(r: JourneyResults) -> str:
    if r.journey.community is None:
        return _section(
            "community", "Community", '<p class="note">This journey designs no community.</p>'
        )
    body = community_block(r.journey, r.community)
    return _section("community", "Community: purpose, role and north star", body)


def community_block(journey: Journey, measured: CommunityResults | None) -> str:
    """Purpose beside each role, each north star over time against its target, the levels:
    the report's community section, and the web app's Community page."""
    com = journey.community
    if com is None:
        return '<p class="note">This journey designs no community.</p>'
    stars = dict(enumerate(s for _, s in measured.roles)) if measured else {}
    roles = "".join(_role_html(k, role, stars.get(k)) for k, role in enumerate(com.all_roles))
    body = [
        '<div class="side">'
        '<div class="box purpose"><h3>Purpose: why members belong (their words)</h3>'
        f"<p>{esc(com.purpose)}</p></div>"
        f'<div class="box roles"><h3>Role: what it does for the business</h3>{roles}</div>'
        "</div>"
    ]
    for k, star in stars.items():
        if star is None:
            continue
        rows = [
            (
                f"{p.period:%Y-%m-%d}",
                count(p.customers),
                charts.north_star_value(p.value, star.metric),
                "open" if p.complete is False else "yes" if p.complete else "-",
                {True: "on target", False: "below target" if star.direction == "up" else
                 "above target", None: "-"}[p.on_target],
            )
            for p in star.points
        ]  # fmt: skip
        body.append(
            f'<div class="north-star" data-role="{k + 1}"><h3>North star over time: '
            f"{esc(star.title)} (per entry {esc(star.period)}; target "
            f"{esc(charts.north_star_value(star.target, star.metric))}, "
            f"{'higher' if star.direction == 'up' else 'lower'} is better)</h3>"
            f'<div class="scroll">{charts.north_star_chart(star)}</div>'
            + _table(
                ("entry " + star.period, "customers", "value", "window ended", "target"),
                rows,
                {1, 2},
            )
            + "</div>"
        )
    if measured is not None and measured.levels is not None:
        body.append(_levels(measured.levels))
    if measured is not None:
        body += [f'<p class="note">{esc(n)}</p>' for n in measured.notes]
    return "".join(body)


def _role_html(k: int, role: Role, star: NorthStarResult | None) -> str:
    ns = role.north_star
    head = f"{k + 1}. {role.objective or 'role'}"
    parts = [f'<div class="role" data-role="{k + 1}"><p><b>{esc(head)}</b>: ',
             f"{esc(role.description)}</p>"]  # fmt: skip
    if ns is None:
        parts.append('<p class="note">No north star: this role is not measured.</p>')
    else:
        now = charts.north_star_value(star.value if star else None, ns.metric)
        target = charts.north_star_value(ns.target, ns.metric)
        status = {True: "on target", False: "not on target", None: "no value yet"}[
            star.on_target if star else None
        ]
        better = "higher" if ns.direction == "up" else "lower"
        customers = f", {star.customers:,} customers" if star else ""
        parts.append(
            f"<p>North star: {esc(ns.title or ns.metric + ' ' + ns.milestone)}<br>"
            f'<span class="kpi"><b class="ns-now">{esc(now)}</b>now{customers}</span>'
            f'<span class="kpi"><b class="ns-target">{esc(target)}</b>target, {better} is '
            f'better</span><span class="kpi"><b>{esc(status)}</b>&nbsp;</span></p>'
        )
    parts.append("</div>")
    return "".join(parts)


def _levels(lv: LevelsResult) -> str:
    """Levels now, then per period the share of each level that moved up, held or moved down."""
    from journeykit.analytics.levels import LEVELS

    now = _table(("level", "members now"), [(name, count(lv.counts[name])) for name in LEVELS], {1})

    def share(k: int, n: int) -> str:
        return f"{k:,} ({k / n:.0%})" if n else "-"

    shown = lv.periods[-7:]  # the latest six movements: where members get stuck now
    rows = [
        (m.period, m.level, count(m.members), share(m.up, m.members), share(m.held, m.members),
         share(m.down, m.members))
        for m in lv.movements
        if m.period in shown and m.members
    ]  # fmt: skip
    moves = _table(("period", "level at its start", "members", "moved up", "held", "moved down"),
                   rows, {2, 3, 4, 5})  # fmt: skip
    lists = "".join(
        f"<p><b>{esc(name)}</b> ({len(people):,}): "
        + esc(", ".join(f"{p.customer_id} ({p.level}, love {p.love:.1f})" for p in people[:10]))
        + "</p>"
        for name, people in (
            ("Drifting away", lv.drifting_away),
            ("New and promising", lv.new_and_promising),
        )
    )
    return (
        f'<div class="levels"><h3>Engagement levels (by {esc(lv.by)}, per {esc(lv.period)})</h3>'
        f'<div class="side"><div>{now}</div><div>{moves}</div></div>{lists}</div>'
    )


def _raised(journey: Journey, stages: tuple[tuple[str, int], ...]) -> str:
    """Where a theme's answers were given: stage or milestone titles, with counts."""
    if not stages:
        return ""
    names = {s.id: s.title for s in journey.stages} | {m.id: m.title for m in journey.milestones}
    said = ", ".join(f"{names.get(s, s)} ({n:,})" for s, n in stages)
    return f'<p class="note">raised at: {esc(said)}</p>'


def _themes(r: JourneyResults) -> str:
    t = r.themes
    if t is None:
        return _section(
            "themes",
            "What members say",
            '<p class="note">No answers given (journeykit report ... --answers FILE).</p>',
        )
    blocks = []
    for theme in t.timeline():
        quotes = "".join(f"<blockquote>“{esc(q.text)}”</blockquote>" for q in theme.quotes[:3])
        blocks.append(
            f'<div class="theme"><h3>{esc(theme.label)}</h3><p class="note">'
            f"{theme.size:,} answers · {esc(theme.moment)} · "
            f"{esc(', '.join(theme.keywords[:6]))}</p>{_raised(r.journey, theme.stages)}"
            f"{quotes}</div>"
        )
    return _section(
        "themes", "What members say (themes)", f'<div class="grid">{"".join(blocks)}</div>'
    )


def _window_label(window: Resolved) -> str:
    if isinstance(window, timedelta):
        return days(window.total_seconds())
    return describe_window(window, "given") if window else "none"
