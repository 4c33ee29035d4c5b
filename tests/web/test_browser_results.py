"""Discovery and the results pages in Debian's Chromium, by visible labels and roles only.

An editor uploads an answers file, chooses its column, sees the themes, renames one and accepts
its milestone (it lands in the journey, a new revision, with its quotes); then the CLV,
Community and customer pages show the API's numbers. At 375 px every page still fits and
every control has a label.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from journeykit.report.charts import north_star_value
from journeykit.web.results import difference_text
from tests.web.conftest import PASSWORD
from tests.web.test_browser import _shot, page, pytestmark, served, shots, sync_playwright
from tests.web.test_discovery import TEXT, survey_csv

__all__ = ["page", "pytestmark", "served", "shots"]  # the fixtures, shared with test_browser

if sync_playwright is not None:
    from playwright.sync_api import expect


def _sign_in(page: Any, url: str, who: str = "editor") -> None:
    page.goto(url)
    if "/login" in page.url:
        page.get_by_label("Name").fill(who)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(f"**{url}")


def _money(x: float) -> str:
    return f"{x:,.2f}"


def test_discovery_upload_rename_and_accept(page: Any, shots: Path, tmp_path: Path) -> None:
    answers = tmp_path / "member survey.csv"
    answers.write_bytes(survey_csv())
    _sign_in(page, "/journeys/journey/themes")
    page.get_by_label("Answers file").set_input_files(str(answers))
    page.get_by_role("button", name="Upload answers").click()
    preview = page.get_by_role("table").first
    expect(preview.get_by_role("columnheader", name=TEXT)).to_be_visible()
    expect(preview.get_by_role("row")).to_have_count(6)  # the header and the first five rows
    page.get_by_label("Answer text column").select_option(TEXT)
    page.get_by_label("Stage column (optional)").select_option("Stage")
    page.get_by_label("Consent column (optional)").select_option("OK to quote")
    _shot(page, shots, "40-answers-columns")
    page.get_by_role("button", name="Use these columns").click()
    expect(
        page.get_by_role("heading", name="Themes in the order members raise them")
    ).to_be_visible()
    expect(page.get_by_role("heading", name=re.compile("Highs"))).to_be_visible()
    expect(page.get_by_role("heading", name=re.compile("Lows"))).to_be_visible()
    api = page.request.get("/api/journeys/journey/themes?answers=member_survey.csv").json()
    theme = next(t for t in api["themes"] if t["quotes"])
    card = page.get_by_role("article", name=theme["label"])
    expect(card.get_by_text(theme["quotes"][0]["text"])).to_be_visible()
    card.get_by_label(f"New name for “{theme['label']}”").fill("Webinars that help")
    card.get_by_role("button", name="Rename").click()
    expect(page.get_by_role("status")).to_contain_text("saved rename")
    card = page.get_by_role("article", name="Webinars that help")
    expect(card).to_be_visible()
    _shot(page, shots, "41-themes")
    card.get_by_role(
        "button", name="Add “Webinars that help” to the journey as a milestone"
    ).click()
    expect(page.get_by_role("status")).to_contain_text("added Webinars that help")
    expect(page.get_by_role("article", name="Webinars that help")).to_contain_text(
        "In the journey as “Webinars that help”"
    )
    page.get_by_role("link", name="Revisions").click()
    row = page.get_by_role("row", name=re.compile("accepted theme 'Webinars that help'"))
    expect(row).to_be_visible()
    row.get_by_role("link").first.click()
    for q in theme["quotes"][:3]:
        expect(page.get_by_text(q["text"]).first).to_be_visible()
    expect(page.get_by_text("title: Webinars that help")).to_be_visible()
    assert page.errors == []


def test_clv_page_shows_the_apis_numbers(page: Any, shots: Path) -> None:
    _sign_in(page, "/journeys/journey/clv", "viewer")
    api = page.request.get("/api/journeys/journey/clv").json()
    expect(page.get_by_role("heading", name="Customer lifetime value")).to_be_visible()
    for by in ("persona", "path", "cohort"):
        table = page.get_by_role("table", name=f"By {by}")
        model = {g["group"]: g for g in api["value"]["groups"][by]}
        simple = {g["group"]: g for g in api["simple"][by]["groups"]}
        rows = table.get_by_role("row")
        expect(rows).to_have_count(len(simple) + 1)
        for k in range(1, len(simple) + 1):
            cells = rows.nth(k).get_by_role("cell").all_inner_texts()
            group = cells[0]
            assert cells[1] == f"{simple[group]['customers']:,}"
            assert cells[2] == (
                "-" if simple[group]["clv"] is None else _money(simple[group]["clv"])
            )
            assert cells[4] == _money(model[group]["clv"]), (by, group)
    holdout = page.get_by_role("table", name="Holdout check")
    rows = holdout.get_by_role("row")
    buckets = api["holdout"]["check"]["buckets"]
    expect(rows).to_have_count(len(buckets) + 1)
    for k, b in enumerate(buckets, start=1):
        cells = rows.nth(k).get_by_role("cell").all_inner_texts()
        assert cells == [b["frequency"], f"{b['customers']:,}", f"{b['actual_mean']:.3f}",
                         f"{b['predicted_mean']:.3f}"]  # fmt: skip
    expect(page.get_by_role("img", name=re.compile("Holdout check of"))).to_be_visible()
    expect(page.get_by_text(_money(api["value"]["overall"]["clv"])).first).to_be_visible()
    _shot(page, shots, "42-clv")
    assert page.errors == []


def test_community_page_shows_the_apis_numbers(page: Any, shots: Path) -> None:
    _sign_in(page, "/journeys/journey/community", "viewer")
    api = page.request.get("/api/journeys/journey/community").json()
    expect(page.get_by_role("heading", name=re.compile("Purpose"))).to_be_visible()
    star = api["north_stars"][0]
    now = north_star_value(star["value"], star["metric"])
    expect(page.get_by_text(now).first).to_be_visible()
    expect(page.get_by_role("img", name=re.compile("North star over time"))).to_have_count(
        sum(s is not None for s in api["north_stars"])
    )
    impact = api["impact"][0]["result"]
    table = page.get_by_role("table", name=re.compile("Role 1"))
    row = table.get_by_role("row", name=re.compile("^Difference"))
    cells = row.get_by_role("cell").all_inner_texts()
    assert cells[1] == difference_text(impact["difference"], impact["metric"])
    low, high = impact["ci95"]
    want = f"{difference_text(low, impact['metric'])} to {difference_text(high, impact['metric'])}"
    assert cells[2] == want
    members = table.get_by_role("row", name=re.compile("^Members")).get_by_role("cell")
    assert members.nth(1).inner_text() == f"{impact['members']['customers']:,}"
    expect(page.get_by_text("Association, not cause").first).to_be_visible()
    expect(page.get_by_role("heading", name=re.compile("Engagement levels"))).to_be_visible()
    _shot(page, shots, "43-community")
    assert page.errors == []


def test_customer_page_tells_the_story(page: Any, shots: Path) -> None:
    _sign_in(page, "/journeys/journey/customers", "viewer")
    listed = page.request.get("/api/journeys/journey/lists/completed").json()["customers"]
    cid = listed[0]["customer_id"]
    story = page.request.get(f"/api/journeys/journey/customers/{cid}/story").json()
    page.get_by_label("Customer id").fill(cid)
    page.get_by_role("button", name="Look up").click()
    glance = page.get_by_role("table", name="At a glance")

    def value(name: str) -> str:
        row = glance.get_by_role("row").filter(has=page.get_by_role("rowheader", name=name))
        return str(row.get_by_role("cell").inner_text())

    assert value("Status") == story["position"]["status"].replace("_", " ")
    assert value("Expected value") == _money(story["value"]["expected_clv"])
    assert value("Purchases") == str(story["value"]["purchases"])
    if story["persona"]:
        assert value("Persona") == story["persona"]["name"]
    timeline = page.get_by_role("list").filter(has_text=story["timeline"][0]["title"]).last
    expect(timeline.get_by_role("listitem")).to_have_count(len(story["timeline"]))
    expect(page.get_by_role("heading", name="Plays entered")).to_be_visible()
    _shot(page, shots, "44-customer")
    assert page.errors == []


UNLABELLED = """() => [...document.querySelectorAll('input, select, textarea, button')]
  .filter(e => e.type !== 'hidden' && e.offsetParent !== null)
  .filter(e => !(e.labels && e.labels.length) && !e.getAttribute('aria-label')
               && !(e.tagName === 'BUTTON' && e.innerText.trim()))
  .map(e => e.outerHTML.slice(0, 120))"""


def test_the_pages_fit_375_px_with_labelled_controls(page: Any, served: Any, shots: Path) -> None:
    _, base = served
    context = page.context.browser.new_context(
        base_url=base, viewport={"width": 375, "height": 800}
    )
    pg = context.new_page()
    try:
        _sign_in(pg, "/journeys/journey/clv")
        cid = pg.request.get("/api/journeys/journey/lists/completed").json()["customers"][0]
        themes = pg.request.get("/journeys/journey/themes").text()
        chosen = re.search(r"<option[^>]*>([^<]+\.csv)</option>", themes)
        urls = ["/journeys/journey/clv", "/journeys/journey/community",
                f"/journeys/journey/customers?q={cid['customer_id']}"]  # fmt: skip
        if chosen:
            urls += [f"/journeys/journey/themes?answers={chosen.group(1)}",
                     f"/journeys/journey/answers/{chosen.group(1)}"]  # fmt: skip
        for url in urls:
            pg.goto(url)
            width = pg.evaluate("document.documentElement.scrollWidth")
            assert width <= 375, (url, width)
            assert pg.evaluate(UNLABELLED) == [], url
            _shot(pg, shots, "45-375" + re.sub(r"[^a-z]+", "-", url.split("?")[0]))
    finally:
        context.close()
