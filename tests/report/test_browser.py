"""The map and the report in a real browser: Debian's Chromium driven by Playwright.

Never a downloaded browser. Skipped, with the reason, where /usr/bin/chromium or playwright is
missing; CI (``.ci/run``) installs both, so there they run.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from journeykit.analytics import funnel, positions
from journeykit.analytics.windows import designed_window
from journeykit.journey import load_journey
from journeykit.measure import measure
from journeykit.report import layout as lay
from journeykit.report.pages import map_page, report_page
from tests.conftest import EXAMPLES, REPO, browser_marks
from tests.report.conftest import SCREENSHOTS, Measured, branching_journey, cached_example

try:
    from playwright.sync_api import sync_playwright
except ImportError:  # pragma: no cover - the dev extra has it
    sync_playwright = None  # type: ignore[assignment]

pytestmark = browser_marks(sync_playwright is not None)


class Opened:
    def __init__(self, page: Any) -> None:
        self.page = page
        self.errors: list[str] = []
        self.dialogs: list[str] = []
        page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: self.errors.append(str(e)))
        page.on("dialog", lambda d: (self.dialogs.append(d.message), d.dismiss()))


def open_page(browser: Any, html: str, tmp: Path, name: str) -> Opened:
    file = tmp / f"{name}.html"
    file.write_text(html, "utf-8")
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    opened = Opened(page)
    page.goto(file.as_uri())
    page.wait_for_load_state("load")
    return opened


def shot(opened: Opened, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    out = SCREENSHOTS / f"{name}.png"
    opened.page.screenshot(path=str(out), full_page=True)
    return out


def card_title(page: Any, mid: str) -> str:
    return str(page.eval_on_selector(
        f'g.card[data-milestone="{mid}"] text.title',
        "t => Array.from(t.querySelectorAll('tspan')).map(s => s.textContent).join(' ')",
    ))  # fmt: skip


def same_text(shown: str, title: str) -> bool:
    """Wrapping only puts line breaks between characters: compare without whitespace."""
    return "".join(shown.split()) == "".join(title.split())


def card_lines(page: Any, mid: str) -> list[str]:
    return list(page.eval_on_selector_all(
        f'g.card[data-milestone="{mid}"] text.data tspan', "ts => ts.map(t => t.textContent)"
    ))  # fmt: skip


def test_report_in_the_browser(browser: Any, measured: Measured, tmp_path: Path) -> None:
    j, events, results = measured.journey, measured.events, measured.results
    opened = open_page(browser, report_page(results), tmp_path, "report")
    page = opened.page
    for m in j.milestones:
        card = page.locator(f'g.card[data-milestone="{m.id}"]')
        assert card.is_visible()
        assert same_text(card_title(page, m.id), m.title)
    # The numbers on the cards are the analytics' own, computed here independently.
    pid = results.path
    f = funnel(events, j, path=pid, window=designed_window(j, j.path(pid)))
    pos = positions(events, j, path=pid)
    for k, step in enumerate(f.steps):
        lines = card_lines(page, step.milestone)
        assert lines[0] == f"reached {step.customers:,}"
        stuck = sum(
            1 for c in pos.customers if c.status == "stuck" and c.milestone == step.milestone
        )
        assert f"stuck now {stuck:,}" in lines
        if k:
            assert lines[1] == f"from previous {step.share_of_previous:.1%}"
    funnel_cells = page.eval_on_selector_all(
        "#funnel tbody tr td:nth-child(2)", "tds => tds.map(t => t.textContent)"
    )
    assert funnel_cells == [f"{s.customers:,}" for s in f.steps]
    # Time to each milestone: one histogram per step anyone reached from the previous one.
    timed = [s for s in f.steps if s.time_from_previous is not None]
    assert page.locator("#timing svg.chart").count() == len(timed)
    # The stuck list: the longest stuck first, with the touchpoint that should move them.
    steps = j.path(pid).milestone_ids
    stuck = pos.stuck()
    rows = page.eval_on_selector_all(
        "#stuck tbody tr", "rs => rs.map(r => Array.from(r.cells).map(c => c.textContent))"
    )
    assert len(rows) == min(20, len(stuck))
    for row, c in zip(rows, stuck, strict=False):
        nxt = steps[steps.index(c.milestone) + 1] if c.milestone != steps[-1] else None
        designed = [t for t in j.touchpoints if t.from_ == c.milestone and t.to == nxt] or [
            t for t in j.touchpoints if t.from_ == c.milestone
        ]
        move = "; ".join(f"{t.channel}: {t.action}" for t in designed)
        assert row == [c.customer_id, j.milestone(c.milestone).title,
                       f"{c.waiting_seconds / 86400:.1f}", row[3],
                       move or "none designed (a gap in the design)"]  # fmt: skip
    # The Sankey is drawn, and the transitions table is the paths analysis' own.
    assert page.locator("#paths svg.chart path").count() > 0
    paths_result = results.paths
    times = page.eval_on_selector_all(
        "#paths table:last-of-type tbody tr td:nth-child(3)", "tds => tds.map(t => t.textContent)"
    )
    assert times == [f"{t.count:,}" for t in paths_result.transitions[:30]]
    assert opened.errors == [] and opened.dialogs == []
    shot(opened, f"report-{j.id}")


def test_map_alone_in_the_browser(browser: Any, measured: Measured, tmp_path: Path) -> None:
    opened = open_page(browser, map_page(measured.journey, measured.results), tmp_path, "map")
    for m in measured.journey.milestones:
        assert opened.page.locator(f'g.card[data-milestone="{m.id}"] text.title').is_visible()
    assert opened.errors == []
    shot(opened, f"map-{measured.journey.id}")


def test_script_in_a_title_shows_as_text(browser: Any, tmp_path: Path) -> None:
    import ibis

    from journeykit.events.simulate import SimulationOptions, simulate

    text = next(p for p in EXAMPLES if p.stem == "saas-trial").read_text("utf-8")
    text = text.replace("title: Built the first board", "title: '<script>alert(1)</script>'")
    text = text.replace("name: Tara, the team lead", "name: '<img src=x onerror=alert(2)>'")
    path = tmp_path / "evil.yaml"
    path.write_text(text, "utf-8")
    j = load_journey(path)
    events = ibis.memtable(simulate(j, SimulationOptions(customers=200, seed=1)))
    opened = open_page(browser, report_page(measure(events, j)), tmp_path, "evil")
    assert same_text(card_title(opened.page, "first_board"), "<script>alert(1)</script>")
    assert opened.page.get_by_text("<img src=x onerror=alert(2)>").first.is_visible()
    assert opened.page.locator("script").count() == 0
    assert opened.dialogs == [] and opened.errors == []
    shot(opened, "escaped-title")


@pytest.mark.parametrize("engine", ["dot", "python"])
def test_thirty_milestones_three_branches_do_not_overlap(
    browser: Any, tmp_path: Path, engine: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Graphviz first; the pure-Python layered layout (no `dot` on the machine) holds as well."""
    if engine == "python":
        monkeypatch.setattr(lay.shutil, "which", lambda name: None)
    elif lay.shutil.which("dot") is None:
        pytest.skip("Graphviz dot is not installed")
    path = tmp_path / "big.yaml"
    path.write_text(branching_journey(30, 3), "utf-8")
    j = load_journey(path)
    opened = open_page(browser, map_page(j), tmp_path, "big")
    boxes = opened.page.eval_on_selector_all(
        "g.card rect.body, g.chip rect",
        "rs => rs.map(r => { const b = r.getBoundingClientRect();"
        " return [b.left, b.top, b.right, b.bottom]; })",
    )
    assert len(boxes) == 30 + 0  # this journey designs no touchpoints
    for i, a in enumerate(boxes):
        for b in boxes[i + 1 :]:
            assert a[2] <= b[0] or b[2] <= a[0] or a[3] <= b[1] or b[3] <= a[1], (a, b)
    # Every title fits inside its card.
    inside = opened.page.eval_on_selector_all(
        "g.card",
        "gs => gs.every(g => { const c = g.querySelector('rect.body').getBoundingClientRect();"
        " return Array.from(g.querySelectorAll('text')).every(t => {"
        " const b = t.getBoundingClientRect(); return b.left >= c.left - 0.5 &&"
        " b.right <= c.right + 0.5 && b.bottom <= c.bottom + 0.5; }); })",
    )
    assert inside
    for m in j.milestones:
        assert opened.page.locator(f'g.card[data-milestone="{m.id}"] text.title').is_visible()
    assert opened.errors == []
    shot(opened, f"map-30-milestones-3-branches-{engine}")


def _box(page: Any, selector: str) -> dict[str, float]:
    box = page.locator(selector).first.bounding_box()
    assert box is not None, selector
    return dict(box)


def test_community_purpose_role_north_star_and_levels(browser: Any, tmp_path: Path) -> None:
    """membership-community: what the page shows equals ``journeykit community northstar`` and
    ``levels`` on the same events, computed here from the events (not the report's log)."""
    from journeykit.analytics.community import north_star
    from journeykit.analytics.levels import LEVELS, engagement_levels

    path = next(p for p in EXAMPLES if p.stem == "membership-community")
    m = cached_example(path)
    j, events = m.journey, m.events
    com = j.community
    assert com is not None and len(com.all_roles) == 2
    period = com.levels.period if com.levels else "month"
    stars = [north_star(events, j, role=i, period=period) for i in range(len(com.all_roles))]
    levels = engagement_levels(events, j)
    opened = open_page(browser, report_page(m.results), tmp_path, "community")
    page = opened.page
    # Purpose and roles side by side: same top, purpose to the left.
    purpose, roles = _box(page, "#community .box.purpose"), _box(page, "#community .box.roles")
    assert purpose["x"] + purpose["width"] <= roles["x"] and abs(purpose["y"] - roles["y"]) < 1
    assert page.locator("#community .box.purpose p").inner_text() == com.purpose
    for k, (role, star) in enumerate(zip(com.all_roles, stars, strict=True)):
        block = page.locator(f'#community .role[data-role="{k + 1}"]')
        assert role.description in block.inner_text()
        shown = block.locator(".ns-now").inner_text()
        if star.metric == "share_reaching":
            assert shown == f"{star.value:.1%}"
        else:
            assert shown == f"{star.value:.2f}"
        chart = page.locator(f'#community .north-star[data-role="{k + 1}"]')
        assert chart.is_visible()
        assert float(chart.locator("line.target").get_attribute("data-target")) == star.target
        points = chart.locator("circle.ns-point").evaluate_all(
            "cs => cs.map(c => [c.dataset.period, Number(c.dataset.value), "
            "Number(c.dataset.customers)])"
        )
        assert points == [
            [p.period.isoformat(), p.value, p.customers] for p in star.points if p.value is not None
        ]
        assert len(points) >= 3  # a trend, not one number
    level_rows = page.eval_on_selector_all(
        "#community .levels .side > div:first-child tbody tr",
        "rs => rs.map(r => Array.from(r.cells).map(c => c.textContent))",
    )
    assert level_rows == [[name, f"{levels.counts[name]:,}"] for name in LEVELS]
    move_rows = page.eval_on_selector_all(
        "#community .levels .side > div:last-child tbody tr",
        "rs => rs.map(r => Array.from(r.cells).slice(0, 6).map(c => c.textContent))",
    )
    shown_periods = levels.periods[-7:]
    expected = [
        [mv.period, mv.level, f"{mv.members:,}", f"{mv.up:,} ({mv.up / mv.members:.0%})",
         f"{mv.held:,} ({mv.held / mv.members:.0%})", f"{mv.down:,} ({mv.down / mv.members:.0%})"]
        for mv in levels.movements if mv.members and mv.period in shown_periods
    ]  # fmt: skip
    assert move_rows == expected and expected
    assert opened.errors == []
    page.locator("#community").screenshot(path=str(SCREENSHOTS / "report-community.png"))
    # The map carries the same: purpose beside roles, each north star now, the levels now.
    opened = open_page(browser, map_page(j, m.results), tmp_path, "community-map")
    page = opened.page
    purpose, roles = (
        _box(page, "g.community g.purpose rect"),
        _box(page, "g.community g.roles rect"),
    )
    assert purpose["x"] + purpose["width"] <= roles["x"] and abs(purpose["y"] - roles["y"]) < 1
    for k, star in enumerate(stars):
        role = page.locator(f'g.community g.role[data-role="{k + 1}"]')
        assert float(role.get_attribute("data-value")) == star.value
        values = role.locator("circle.ns-point").evaluate_all(
            "cs => cs.map(c => Number(c.dataset.value))"
        )
        assert values == [p.value for p in star.points if p.value is not None]
    for name in LEVELS:
        shown = page.locator(f'g.community text.level[data-level="{name}"]')
        assert (
            shown.is_visible() and int(shown.get_attribute("data-members")) == levels.counts[name]
        )
    assert opened.errors == []
    shot(opened, "map-community")


def test_report_with_themes_shows_quotes(browser: Any, tmp_path: Path) -> None:
    import dataclasses

    pytest.importorskip("sklearn", reason="themes need the discover-light extra")
    from journeykit.discover import AnswerColumns, find_themes, read_answers
    from journeykit.discover.draft import stage_order

    path = next(p for p in EXAMPLES if p.stem == "saas-trial")
    m = cached_example(path)
    answers = read_answers(
        REPO / "tests" / "data" / "answers" / "en_answers.csv", AnswerColumns(stage="stage")
    )
    themes = find_themes(answers, seed=0, method="tfidf", stage_order=stage_order(m.journey))
    results = dataclasses.replace(m.results, themes=themes)
    opened = open_page(browser, report_page(results), tmp_path, "themes")
    page = opened.page
    assert page.locator("#themes .theme").count() == len(themes.themes)
    for t in themes.themes:
        block = page.locator("#themes .theme", has_text=t.label)
        assert block.is_visible()
        quotes = block.locator("blockquote").all_inner_texts()
        assert quotes == [f"“{q.text}”" for q in t.quotes[:3]]
    points = page.locator('#map g.emotion[data-source="themes"] circle.emotion-point')
    assert points.count() == len(m.journey.milestones)
    assert opened.errors == []
    shot(opened, "report-themes")
