"""What the browser tests share: a Chromium page, screenshots, signing in, discovery's steps,
every page the app renders (from ``security.ACCESS``, so a new page cannot be missed), axe-core
and the 375 px check."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from journeykit.report.export import BROWSER_ARGS
from journeykit.web.security import ACCESS
from tests.conftest import CHROMIUM, browser_marks
from tests.web.conftest import PASSWORD, Site
from tests.web.test_discovery import TEXT

try:
    from playwright.sync_api import expect, sync_playwright
except ImportError:  # pragma: no cover - the dev extra has it
    sync_playwright = None  # type: ignore[assignment]

pytestmark = browser_marks(sync_playwright is not None)
WIDE = {"width": 1400, "height": 900}
NARROW = {"width": 375, "height": 800}


@contextmanager
def chromium_page(base: str) -> Iterator[Any]:
    """A page of Debian's Chromium on ``base``; ``page.errors`` collects script and console
    errors."""
    assert sync_playwright is not None
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS)
        context = browser.new_context(base_url=base, viewport=WIDE, accept_downloads=True)
        pg = context.new_page()
        errors: list[str] = []
        pg.on("pageerror", lambda e: errors.append(f"{pg.url}: {e}"))
        pg.on(
            "console", lambda m: errors.append(f"{pg.url}: {m.text}") if m.type == "error" else None
        )
        pg.errors = errors
        yield pg
        context.close()
        browser.close()


def screenshots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """JOURNEYKIT_SCREENSHOTS, or the test's temporary folder (printed)."""
    folder = Path(os.environ.get("JOURNEYKIT_SCREENSHOTS", tmp_path_factory.mktemp("shots")))
    folder.mkdir(parents=True, exist_ok=True)
    print(f"screenshots in {folder}")
    return folder


def shot(page: Any, shots: Path, name: str) -> Path:
    path = shots / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def sign_in(page: Any, url: str, who: str = "editor") -> None:
    page.goto(url)
    if "/login" in page.url:
        page.get_by_label("Name").fill(who)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(f"**{url}")


# --- discovery, as a person does it ---------------------------------------------------------


def upload_answers(page: Any, key: str, answers: Path) -> None:
    """Upload an answers file on the Themes page, choose its columns from the preview."""
    page.goto(f"/journeys/{key}")
    page.get_by_role("link", name="Themes", exact=True).click()
    page.get_by_label("Answers file").set_input_files(str(answers))
    page.get_by_role("button", name="Upload answers").click()
    preview = page.get_by_role("table").first
    expect(preview.get_by_role("columnheader", name=TEXT)).to_be_visible()
    expect(preview.get_by_role("row")).to_have_count(6)  # the header and the first five rows
    page.get_by_label("Answer text column").select_option(TEXT)
    page.get_by_label("Stage column (optional)").select_option("Stage")
    page.get_by_label("Consent column (optional)").select_option("OK to quote")


def see_themes(page: Any) -> None:
    page.get_by_role("button", name="Use these columns").click()
    expect(
        page.get_by_role("heading", name="Themes in the order members raise them")
    ).to_be_visible()
    expect(page.get_by_role("heading", name=re.compile("Highs"))).to_be_visible()
    expect(page.get_by_role("heading", name=re.compile("Lows"))).to_be_visible()


def accept_theme(page: Any, label: str, quotes: list[str]) -> None:
    """Accept the theme ``label`` as a milestone: a revision whose file has its quotes."""
    card = page.get_by_role("article", name=label)
    card.get_by_role("button", name=f"Add “{label}” to the journey as a milestone").click()
    expect(page.get_by_role("status")).to_contain_text(f"added {label}")
    expect(page.get_by_role("article", name=label)).to_contain_text(f"In the journey as “{label}”")
    page.get_by_role("link", name="Revisions").click()
    row = page.get_by_role("row", name=re.compile(f"accepted theme '{re.escape(label)}'"))
    expect(row).to_be_visible()
    row.get_by_role("link").first.click()
    for q in quotes[:3]:
        expect(page.get_by_text(q).first).to_be_visible()
    expect(page.get_by_text(f"title: {label}")).to_be_visible()


# --- every page ------------------------------------------------------------------------------


def html_routes() -> list[str]:
    """The GET routes in ACCESS that draw a page (not the API, static files or CSV downloads)."""
    return [p for (m, p) in ACCESS if m == "GET" and not p.startswith(("/api/", "/static/"))
            and p != "/openapi.json" and not p.endswith(".csv")]  # fmt: skip


def every_page(site: Site, page: Any, key: str, answers: str, upload: str) -> list[str]:
    """A URL for every route html_routes() names, and the variants that draw other things
    (a comparison, a customer's story, an unknown journey); fails on a route it cannot fill."""
    from journeykit.journey import load_journey

    journey = load_journey(site.root / "journeys" / f"{key}.yaml")
    listed = page.request.get(f"/api/journeys/{key}/lists/completed").json()["customers"]
    customer = listed[0]["customer_id"]  # whose story page is drawn
    j = f"/journeys/{key}"
    fill = {
        "{key}": [key], "{number}": ["1"], "{kind}": ["funnel", "paths", "positions", "cohorts"],
        "{status}": ["stuck", "strayed"], "{job_id}": list(site.app.state.ctx.imports.jobs)[:1],
        "{persona}": [p.id for p in journey.personas][:1], "{name}": [answers],
        "{upload}": [upload],
    }  # fmt: skip
    urls: list[str] = []
    for route in html_routes():
        got = [route]
        for part in re.findall(r"\{[a-z_]+\}", route):
            assert fill.get(part), f"no value for {part} in {route}: add one to every_page()"
            got = [u.replace(part, v, 1) for u in got for v in fill[part]]
        urls += got
    urls += [f"{j}/revisions?a=1&b=2", f"{j}/customers?q=nobody", f"{j}/customers?q={customer}",
             f"{j}/themes?answers={answers}", "/journeys/no-such-journey"]  # fmt: skip
    return urls


def open_page(page: Any, url: str) -> None:
    """Go to ``url``; a download (the story wall) is opened as the page it is."""
    if "/stories/wall/" in url:
        page.set_content(page.request.get(url).text())
    else:
        page.goto(url)


def violations(page: Any) -> list[str]:
    """axe-core's serious and critical violations on the page."""
    from axe_playwright_python.sync_playwright import Axe

    found = Axe().run(page).response["violations"]
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
        for v in found
        if v["impact"] in ("serious", "critical")
    ]


UNLABELLED = """() => [...document.querySelectorAll('input, select, textarea, button')]
  .filter(e => e.type !== 'hidden' && e.offsetParent !== null)
  .filter(e => !(e.labels && e.labels.length) && !e.getAttribute('aria-label')
               && !(e.tagName === 'BUTTON' && e.innerText.trim()))
  .map(e => e.outerHTML.slice(0, 120))"""
TOO_WIDE = """w => [...document.querySelectorAll('body *')].filter(e =>
  e.getBoundingClientRect().right > w + 1 && !e.closest('.scroll')).slice(0, 5)
  .map(e => e.tagName + '.' + e.className + '#' + e.id + ' '
            + Math.round(e.getBoundingClientRect().right))"""


def narrow_problems(page: Any) -> list[str]:
    """At the page's width: sideways scroll (and what sticks out), controls with no label."""
    width = page.viewport_size["width"]
    found = []
    scroll = page.evaluate("document.documentElement.scrollWidth")
    if scroll > width + 1:
        found.append(f"sideways scroll ({scroll} px): {page.evaluate(TOO_WIDE, width)}")
    found += [f"no label: {e}" for e in page.evaluate(UNLABELLED)]
    return found
