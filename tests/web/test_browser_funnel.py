"""The funnel dashboard's counting choices, trends and people list in Debian's Chromium: by
keyboard, at 375 px, with no serious axe-core violation; screenshots in the test's folder."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.web import browser
from tests.web.browser import (
    NARROW,
    WIDE,
    chromium_page,
    pytestmark,
    screenshots,
    shot,
    sign_in,
    sync_playwright,
)
from tests.web.conftest import Site, make_site, serving

__all__ = ["pytestmark"]

if sync_playwright is not None:
    from playwright.sync_api import expect

FUNNEL = "/journeys/journey/dashboards/funnel"


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Site, str]]:
    site = make_site(tmp_path_factory.mktemp("browser-funnel") / "ws")
    with serving(site) as base:
        yield site, base


@pytest.fixture(scope="module")
def page(served: tuple[Site, str]) -> Iterator[Any]:
    with chromium_page(served[1]) as pg:
        sign_in(pg, FUNNEL, "viewer")
        yield pg


def _tab_to(page: Any, element_id: str) -> None:
    for _ in range(60):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == element_id:
            return
    raise AssertionError(f"Tab never reached #{element_id}")


def test_choose_clickhouse_semantics_by_keyboard(page: Any, shots_dir: Path) -> None:
    page.goto(FUNNEL)
    modes = page.get_by_role("group", name="ClickHouse modes")
    expect(modes).to_be_hidden()
    _tab_to(page, "f-semantics")
    page.keyboard.press("End")  # the last choice: ClickHouse windowFunnel
    expect(page.get_by_label("Semantics")).to_have_value("clickhouse")
    expect(modes).to_be_visible()
    page.keyboard.press("Tab")
    expect(page.get_by_label("strict_order")).to_be_focused()
    page.keyboard.press("Space")
    _tab_to(page, "f-trends")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")  # week
    _tab_to(page, "f-people")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")  # step 2
    page.keyboard.press("Tab")
    page.keyboard.press("ArrowDown")  # dropped there
    page.get_by_role("button", name="Apply").focus()
    page.keyboard.press("Enter")
    page.wait_for_url("**semantics=clickhouse**")
    assert "clickhouse=strict_order" in page.url and "trends=week" in page.url
    expect(page.locator("p.sub")).to_contain_text("clickhouse semantics (strict_order)")
    expect(page.locator(".field-error")).to_have_count(1)  # trends: no step times kept
    expect(page.locator("#e-trends")).to_contain_text("clickhouse semantics")
    expect(page.locator("ul#funnel-people a").first).to_be_visible()
    shot(page, shots_dir, "funnel-clickhouse-refused-trend")
    assert all("400" in e for e in page.errors)  # the refused trend's status, nothing else
    page.errors.clear()


@pytest.fixture(scope="module")
def shots_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return screenshots(tmp_path_factory)


FULL = f"{FUNNEL}?window=14d&trends=week&people=3&dropped=1&semantics=posthog"
TRENDS = f"{FUNNEL}?window=14d&trends=week&trend_to=3&people=3"


def test_trends_people_and_times_are_drawn(page: Any, shots_dir: Path) -> None:
    page.goto(TRENDS)
    chart = page.get_by_role("img", name=re.compile("^Conversion to enrolled.* per entry week$"))
    expect(chart).to_be_visible()
    expect(page.locator("table#funnel thead")).to_contain_text("Mean from start")
    link = page.locator("ul#funnel-people a").first
    who = link.inner_text()
    shot(page, shots_dir, "funnel-trends-people")
    with page.expect_download() as got:
        page.get_by_role("link", name="Download as CSV").click()
    lines = Path(got.value.path()).read_text("utf-8").splitlines()
    assert lines[0] == "customer_id" and who in lines[1:]
    link.click()
    page.wait_for_url("**/customers?q=**")
    expect(page.locator("main")).to_contain_text(who)
    assert page.errors == []


@pytest.mark.parametrize("url", [TRENDS, FULL, f"{FUNNEL}?semantics=clickhouse&mode=any"])
def test_no_serious_axe_violation_and_375_px(page: Any, shots_dir: Path, url: str) -> None:
    page.goto(url)
    assert browser.violations(page) == []
    page.set_viewport_size(NARROW)
    try:
        page.goto(url)
        assert browser.narrow_problems(page) == []
        if url == TRENDS:
            shot(page, shots_dir, "funnel-375")
    finally:
        page.set_viewport_size(WIDE)
