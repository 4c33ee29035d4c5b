"""Hostile text in persona fields, touchpoints and members' answers, in Debian's Chromium: the
opportunities, proof and hero pages, the report and a story wall show it as text and run none of
it (``window.__pwned`` stays unset, no dialog opens)."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from journeykit.cli import cli
from tests.conftest import browser_marks
from tests.web.conftest import PASSWORD, Site, make_site, serving

try:
    from playwright.sync_api import expect, sync_playwright
except ImportError:  # pragma: no cover - the dev extra has it
    sync_playwright = None  # type: ignore[assignment]

pytestmark = browser_marks(sync_playwright is not None)

NAME = '<img src=x onerror="window.__pwned=1">'
FEAR = "<script>window.__pwned=2</script> being too old"
ACTION = "<svg onload=window.__pwned=3>Day-1 email"
QUOTE = "<script>window.__pwned=4</script>"
STORY = (f"I was afraid of spending my savings and not getting hired {QUOTE}. "
         "Now I work as a developer and love it.")  # fmt: skip


def _hostile(site: Site) -> None:
    path = site.root / "journey.yaml"
    text = path.read_text("utf-8")
    text = text.replace("name: Carla, the career changer", f"name: '{NAME}'")
    text = text.replace('fears: ["Being too old to start"', f'fears: ["{FEAR}"')
    text = text.replace('action: "Day-1 email: run your first program in 10 minutes"',
                        f'action: "{ACTION}"')  # fmt: skip
    assert NAME in text and FEAR in text and ACTION in text
    r = site.client("editor").put("/api/journeys/journey", json={"text": text, "note": "evil"})
    assert r.status_code == 200, r.text
    path.write_text(text, "utf-8")
    (site.root / "answers").mkdir()
    with (site.root / "answers" / "a.csv").open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["respondent", "stage", "consent", "answer"])
        w.writerow(["r1", "hired", "yes", STORY])
        w.writerow(["r2", "enrolled", "yes", f"The price was too high {QUOTE} and hard to pay."])
        w.writerow(["r3", "enrolled", "yes", "Paying for it was hard, the price is too high."])


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Site, str]]:
    site = make_site(tmp_path_factory.mktemp("evil") / "ws", customers=300)
    _hostile(site)
    with serving(site) as base:
        yield site, base


def _page(browser: Any, base: str | None = None) -> tuple[Any, list[str]]:
    context = browser.new_context(base_url=base) if base else browser.new_context()
    page = context.new_page()
    trouble: list[str] = []
    page.on("pageerror", lambda e: trouble.append(str(e)))
    page.on("dialog", lambda d: (trouble.append("dialog " + d.message), d.dismiss()))
    return page, trouble


def _safe(page: Any, trouble: list[str]) -> None:
    assert page.evaluate("() => window.__pwned") is None
    assert trouble == []


def test_the_web_pages_show_hostile_text_as_text(browser: Any, served: tuple[Site, str]) -> None:
    _, base = served
    page, trouble = _page(browser, base)
    page.goto("/login")
    page.fill("input[name=name]", "viewer")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/journeys**")
    page.goto("/journeys/journey/opportunities?answers=a.csv")
    expect(page.locator("svg.opportunity-tree")).to_be_visible()
    expect(page.locator("#mermaid")).to_contain_text("flowchart LR")
    expect(page.locator("table#opportunities")).to_contain_text(ACTION)
    drawn = "".join((page.locator("svg.opportunity-tree").text_content() or "").split())
    assert "".join(ACTION.split()) in drawn  # wrapped over lines, shown as text
    _safe(page, trouble)
    page.goto("/journeys/journey/stories?answers=a.csv")
    expect(page.locator("blockquote.story .before").first).to_contain_text(QUOTE)
    expect(page.get_by_role("heading", name=NAME)).to_be_visible()
    _safe(page, trouble)
    page.goto("/journeys/journey/hero?answers=a.csv")
    expect(page.locator("section.hero").first).to_contain_text(FEAR)
    expect(page.get_by_text(NAME).first).to_be_visible()
    _safe(page, trouble)
    page.goto("/journeys/journey/opportunities?answers=a.csv&persona=career_changer")
    _safe(page, trouble)


def test_the_report_and_a_wall_show_hostile_text_as_text(
    browser: Any, served: tuple[Site, str], tmp_path: Path
) -> None:
    site, _ = served
    journey, answers = str(site.root / "journey.yaml"), str(site.root / "answers" / "a.csv")
    common = ["--workspace", str(site.root), "--answers", answers, "--stage-column", "stage"]
    r = CliRunner().invoke(cli, ["report", journey, *common, "-o", str(tmp_path / "r.html")])
    assert r.exit_code == 0, r.output
    r = CliRunner().invoke(cli, ["proof", journey, *common, "--wall", str(tmp_path / "w")])
    assert r.exit_code == 0, r.output
    page, trouble = _page(browser)
    page.goto((tmp_path / "r.html").as_uri())
    expect(page.locator("#stories blockquote.story").first).to_contain_text(QUOTE)
    expect(page.locator("#heroes .hero").first).to_contain_text(FEAR)
    expect(page.locator("#heroes h3").first).to_have_text(NAME)
    assert page.locator("script").count() == 0
    _safe(page, trouble)
    walls = sorted((tmp_path / "w").glob("*.html"))
    assert walls
    page.goto(walls[0].as_uri())
    expect(page.locator("blockquote.story").first).to_contain_text("Now I work as a developer")
    _safe(page, trouble)
