"""The results pages in Debian's Chromium, by visible labels and roles only: the CLV, Community
and customer pages show the API's numbers. (Discovery is in the whole flow of
test_browser_builder, which also runs axe-core and the 375 px check on these pages.)
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from journeykit.report.charts import north_star_value
from journeykit.web.results import difference_text
from tests.web.browser import shot, sign_in
from tests.web.test_browser import page, pytestmark, served, shots, sync_playwright

__all__ = ["page", "pytestmark", "served", "shots"]  # the fixtures, shared with test_browser

if sync_playwright is not None:
    from playwright.sync_api import expect


def _money(x: float) -> str:
    return f"{x:,.2f}"


def test_clv_page_shows_the_apis_numbers(page: Any, shots: Path) -> None:
    sign_in(page, "/journeys/journey/clv", "viewer")
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
            low, high = model[group].get("clv_lower"), model[group].get("clv_upper")
            assert cells[5] == ("-" if low is None else f"{_money(low)} to {_money(high)}")
    holdout = page.get_by_role("table", name="Holdout check")
    rows = holdout.get_by_role("row")
    buckets = api["holdout"]["check"]["buckets"]
    expect(rows).to_have_count(len(buckets) + 1)
    for k, b in enumerate(buckets, start=1):
        cells = rows.nth(k).get_by_role("cell").all_inner_texts()
        assert cells == [b["frequency"], f"{b['customers']:,}", f"{b['actual_mean']:.3f}",
                         f"{b['predicted_mean']:.3f}"]  # fmt: skip
    expect(page.get_by_role("img", name=re.compile("Holdout check of"))).to_be_visible()
    tracking = page.get_by_role("img", name="Repeat transactions, cumulative: actual vs model")
    expect(tracking).to_be_visible()
    expect(page.get_by_text(_money(api["value"]["overall"]["clv"])).first).to_be_visible()
    shot(page, shots, "42-clv")
    assert page.errors == []


def test_community_page_shows_the_apis_numbers(page: Any, shots: Path) -> None:
    sign_in(page, "/journeys/journey/community", "viewer")
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
    shot(page, shots, "43-community")
    assert page.errors == []


def test_customer_page_tells_the_story(page: Any, shots: Path) -> None:
    sign_in(page, "/journeys/journey/customers", "viewer")
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
    shot(page, shots, "44-customer")
    assert page.errors == []
