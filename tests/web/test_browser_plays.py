"""The Plays page in Debian's Chromium: an editor sees who is due, runs the plays once, and the
page shows the entries by arm; a second run enters nobody."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.web.browser import shot
from tests.web.conftest import PASSWORD
from tests.web.test_browser import page, pytestmark, served, shots, sync_playwright

__all__ = ["page", "pytestmark", "served", "shots"]  # the fixtures, shared with test_browser

if sync_playwright is not None:
    from playwright.sync_api import expect


def _num(text: str) -> int:
    return int(text.split()[0].replace(",", ""))


def test_plays_page_runs_the_plays_once(page: Any, shots: Path) -> None:
    page.goto("/journeys/journey/plays")
    if "/login" in page.url:
        page.fill("input[name=name]", "editor")
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url("**/journeys/journey/plays")
    rows = page.locator("table#plays tbody tr")
    expect(rows).to_have_count(4)
    first = rows.first
    due = _num(first.locator("td.due").inner_text())
    would = _num(first.locator("td.enter").inner_text())
    assert due >= would > 0
    shot(page, shots, "20-plays-due")
    page.click("form#run button[type=submit]")
    expect(page.locator("p#ran")).to_contain_text("Entered")
    rows = page.locator("table#plays tbody tr")
    assert _num(rows.first.locator("td.entered").inner_text()) == would
    assert _num(rows.first.locator("td.enter").inner_text()) == 0
    expect(page.locator("table#per-day tbody tr").first).to_be_visible()
    shot(page, shots, "21-plays-entered")
    page.click("form#run button[type=submit]")
    expect(page.locator("p#ran")).to_contain_text("Entered 0 customer(s)")
    with page.expect_download() as info:
        rows.first.locator("a", has_text="Export entries").click()
    assert info.value.suggested_filename.endswith("-entries.csv")
    assert page.errors == []


def test_proof_page_shows_each_play(page: Any, shots: Path) -> None:
    page.goto("/journeys/journey/proof")
    if "/login" in page.url:
        page.fill("input[name=name]", "viewer")
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url("**/journeys/journey/proof")
    expect(page.locator("article.proof")).to_have_count(4)
    expect(page.locator("article.proof .verdict").first).to_be_visible()
    expect(page.locator("nav.sub a.on")).to_have_text("Proof")
    shot(page, shots, "22-proof")
    assert page.errors == []
