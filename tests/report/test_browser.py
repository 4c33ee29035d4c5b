"""The map and the report in a real browser: Debian's Chromium driven by Playwright.

Never a downloaded browser. Skipped, with the reason, where /usr/bin/chromium or playwright is
missing; CI (``.ci/run``) installs both, so there they run.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from journeykit.analytics import funnel, positions
from journeykit.journey import load_journey
from journeykit.report.export import BROWSER_ARGS
from journeykit.report.measure import designed_window, measure
from journeykit.report.pages import map_page, report_page
from tests.conftest import EXAMPLES
from tests.report.conftest import SCREENSHOTS, Measured, branching_journey

CHROMIUM = os.environ.get("JOURNEYKIT_CHROMIUM", "/usr/bin/chromium")
try:
    from playwright.sync_api import sync_playwright
except ImportError:  # pragma: no cover - the dev extra has it
    sync_playwright = None  # type: ignore[assignment]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(sync_playwright is None, reason="playwright is not installed (dev extra)"),
    pytest.mark.skipif(
        not Path(CHROMIUM).is_file(),
        reason=f"no Chromium at {CHROMIUM}: apt-get install chromium (.ci/run does)",
    ),
]


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    assert sync_playwright is not None
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS)
        yield b
        b.close()


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


def test_thirty_milestones_three_branches_do_not_overlap(browser: Any, tmp_path: Path) -> None:
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
    shot(opened, "map-30-milestones-3-branches")
