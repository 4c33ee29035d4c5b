"""The app in Debian's Chromium, driven by Playwright, against a real uvicorn server.

Never a downloaded browser: skipped, with the reason, where /usr/bin/chromium or playwright is
missing (CI's ``.ci/run`` installs Chromium). Screenshots go to the test's temporary folder
(its path is printed) so a person can look at them.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.web.browser import chromium_page, pytestmark, screenshots, shot, sync_playwright
from tests.web.conftest import PASSWORD, Site, make_site, serving

__all__ = ["pytestmark"]

if sync_playwright is not None:
    from playwright.sync_api import expect


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Site, str]]:
    site = make_site(tmp_path_factory.mktemp("browser") / "ws")
    with serving(site) as base:
        yield site, base


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return screenshots(tmp_path_factory)


@pytest.fixture(scope="module")
def page(served: tuple[Site, str], shots: Path) -> Iterator[Any]:
    with chromium_page(served[1]) as pg:
        yield pg


def test_sign_in_and_open_the_map(page: Any, shots: Path) -> None:
    page.goto("/journeys/journey")
    assert "/login" in page.url  # signed out: sent to sign in, and back afterwards
    page.fill("input[name=name]", "editor")
    page.fill("input[name=password]", "wrong password")
    page.click("button[type=submit]")
    expect(page.locator("p.error")).to_contain_text("Wrong name or password")
    assert all("401" in e for e in page.errors)  # the refused sign-in's status, nothing else
    page.errors.clear()
    page.fill("input[name=name]", "editor")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/journeys/journey")
    expect(page.locator("svg.journey-map")).to_be_visible()
    expect(page.locator("p.note")).to_contain_text("Numbers as of")
    cards = page.locator("svg.journey-map g.card")
    assert cards.count() > 5
    shot(page, shots, "01-map")
    page.click("nav.sub >> text=Funnel")
    expect(page.locator("table#funnel tbody tr")).to_have_count(6)
    shot(page, shots, "02-funnel")
    assert page.errors == []


def test_editor_marks_the_line_then_saves_and_restores(
    page: Any, served: tuple[Site, str], shots: Path
) -> None:
    site, _ = served
    page.goto("/journeys/journey/edit")
    area = page.locator("form.editor textarea")
    text = area.input_value()
    line = next(i for i, s in enumerate(text.splitlines(), 1) if "phase: core" in s)
    area.fill(text.replace("phase: core", "phase: middle", 1))
    # Live check: the gutter marks the line while typing, before any button is pressed.
    expect(page.locator(f'.gutter span.err[data-line="{line}"]')).to_be_visible(timeout=5000)
    page.click("button[value=check]")
    expect(page.locator(f'#problems li[data-line="{line}"]')).to_contain_text(f"line {line}")
    expect(page.locator(f'.gutter span.err[data-line="{line}"]')).to_be_visible()
    assert page.locator(".gutter span.err").count() == 1
    shot(page, shots, "03-editor-error")
    start = len(site.store.revisions("journey"))
    title = next(s for s in text.splitlines() if s.startswith("title:"))
    fixed = text.replace(title, title + ", for real", 1)
    assert fixed != text
    page.locator("form.editor textarea").fill(fixed)
    page.fill("input[name=note]", "clearer title")
    page.click("button[value=save]")
    expect(page.locator("p.ok")).to_contain_text(f"Saved as revision {start + 1}")
    assert page.locator(".gutter span.err").count() == 0
    shot(page, shots, "04-editor-saved")
    page.click("nav.sub >> text=Revisions")
    page.select_option("select[name=a]", str(start))
    page.select_option("select[name=b]", str(start + 1))
    page.click("text=Diff")
    expect(page.locator("pre.diff .add")).to_contain_text("for real")
    shot(page, shots, "05-revisions")
    page.locator(f'tr[data-revision="{start}"] button:has-text("Restore")').click()
    page.wait_for_url("**/revisions?restored=*")
    expect(page.locator(f'tr[data-revision="{start + 2}"]')).to_contain_text(
        f"restored revision {start}"
    )
    assert (site.root / "journey.yaml").read_text() == text
    assert page.errors == []


def test_upload_events_and_see_the_rejects(page: Any, tmp_path: Path, shots: Path) -> None:
    rows = io.StringIO()
    w = csv.writer(rows, lineterminator="\n")
    w.writerow(["customer_id", "event", "timestamp"])
    w.writerow(["b1", "lesson_downloaded", "2024-03-02T09:00:00"])
    w.writerow(["b2", "lesson_downloaded", "yesterday"])  # line 3
    w.writerow(["b3", "", "2024-03-02T09:00:00"])  # line 4
    upload = tmp_path / "browser-events.csv"
    upload.write_text(rows.getvalue())
    page.goto("/imports")
    page.set_input_files("input[type=file]", str(upload))
    page.click("text=Upload and import")
    expect(page.locator("#report")).to_contain_text("loaded 1", timeout=20000)
    expect(page.locator("#rejects tbody tr")).to_have_count(2)
    lines = page.locator("#rejects tbody tr td:nth-child(2)").all_inner_texts()
    assert lines == ["3", "4"]
    expect(page.locator("#rejects")).to_contain_text("yesterday")
    shot(page, shots, "06-import-rejects")
    assert page.errors == []


def test_look_up_a_customer_and_export_the_stuck_list(
    page: Any, served: tuple[Site, str], tmp_path: Path, shots: Path
) -> None:
    page.goto("/journeys/journey/lists/stuck")
    first = page.locator("table#list tbody tr").first
    customer = first.locator("td").first.inner_text()
    with page.expect_download() as info:
        page.click("a#csv")
    saved = tmp_path / "stuck.csv"
    info.value.save_as(saved)
    with saved.open() as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == [
        "customer_id", "milestone", "reached_at", "status", "days_waiting", "next", "touchpoints",
    ]  # fmt: skip
    assert rows[0]["customer_id"] == customer and {r["status"] for r in rows} == {"stuck"}
    waits = [float(r["days_waiting"]) for r in rows]
    assert waits == sorted(waits, reverse=True)
    total = page.locator("main > p").first.inner_text()
    assert f"{len(rows):,} customer(s)" in total
    shot(page, shots, "07-stuck")
    page.goto("/journeys/journey/customers")
    page.fill("input[name=q]", customer)
    page.click("text=Look up")
    expect(page.locator("section.customer h2")).to_have_text(customer)
    expect(page.locator("b.status")).to_have_text("stuck")
    assert page.locator("ol.timeline li").count() >= 1
    shot(page, shots, "08-customer")
    assert page.errors == []
