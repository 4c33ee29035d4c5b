"""The funnel dashboard and its API count as the CLI's ``funnel`` does: a peer's semantics,
trends per entry period, the people at a step; a refused combination names its field."""

from __future__ import annotations

import csv
import io
import re
from html import unescape
from typing import Any

import pytest

from tests.web.conftest import Site
from tests.web.test_api import cli_json

API = "/api/journeys/journey/funnel"
PAGE = "/journeys/journey/dashboards/funnel"


def text_of(html: str) -> str:
    return unescape(re.sub(r"<[^>]+>", "", html))


def field_message(html: str, field: str) -> str:
    """The text of the message the page shows next to ``field`` ('' when none)."""
    found = re.search(rf'<span class="field-error" id="e-{field}">(.*?)</span>\s*</', html, re.S)
    return text_of(found[1]) if found else ""


def attrs(html: str, tag: str, cls: str) -> list[dict[str, str]]:
    """The attributes of each ``<tag class="cls" ...>``."""
    out = []
    for found in re.finditer(rf'<{tag} class="{cls}"([^>]*)>', html):
        out.append({k: unescape(v) for k, v in re.findall(r'([\w-]+)="([^"]*)"', found[1])})
    return out


def rows_of(html: str, table: str) -> list[list[str]]:
    body = re.search(rf'<table class="grid" id="{table}">.*?<tbody>(.*?)</tbody>', html, re.S)
    assert body, table
    return [[text_of(c) for c in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
            for row in re.findall(r"<tr[^>]*>(.*?)</tr>", body[1], re.S)]  # fmt: skip


# (API parameters, the same asked of the CLI)
COUNTINGS = [
    ({"semantics": "posthog"}, ["--semantics", "posthog"]),
    ({"semantics": "posthog", "mode": "strict"}, ["--semantics", "posthog", "--mode", "strict"]),
    ({"semantics": "posthog", "mode": "any"}, ["--semantics", "posthog", "--mode", "any"]),
    ({"semantics": "clickhouse"}, ["--semantics", "clickhouse"]),
    (
        {"semantics": "clickhouse", "clickhouse": ["strict_order", "allow_reentry"]},
        [
            "--semantics",
            "clickhouse",
            "--clickhouse-mode",
            "strict_order",
            "--clickhouse-mode",
            "allow_reentry",
        ],
    ),
    (
        {"semantics": "clickhouse", "clickhouse": ["strict_increase", "strict_deduplication"]},
        [
            "--semantics",
            "clickhouse",
            "--clickhouse-mode",
            "strict_increase",
            "--clickhouse-mode",
            "strict_deduplication",
        ],
    ),
    ({"mode": "strict"}, ["--mode", "strict"]),
]


@pytest.mark.parametrize(("params", "args"), COUNTINGS)
def test_peer_semantics_equal_the_clis(site: Site, params: dict[str, Any], args: list[str]) -> None:
    c = site.client("viewer")
    window = {"window": "14d"}
    got = c.get(API, params={**params, **window}).json()
    want = cli_json(site, "funnel", *args, "--window", "14d", "--format", "json")
    assert got == want
    assert got.get("semantics", "journeykit") == params.get("semantics", "journeykit")
    assert got["steps"][0]["customers"] > got["steps"][-1]["customers"]


def test_peer_semantics_differ_where_they_should(site: Site) -> None:
    """A check that the semantics reach the count: strict peers count fewer than ordered."""
    c = site.client("viewer")
    ordered = [s["customers"] for s in c.get(API).json()["steps"]]
    strict = c.get(API, params={"semantics": "posthog", "mode": "strict"}).json()["steps"]
    assert [s["customers"] for s in strict] != ordered


def test_trends_and_people_equal_the_clis(site: Site) -> None:
    c = site.client("viewer")
    for interval in ("day", "week", "month"):
        got = c.get(f"{API}/trends", params={"interval": interval, "window": "14d"}).json()
        want = cli_json(site, "funnel", "--trends", interval, "--window", "14d", "--format", "json")
        assert got == want
    assert sum(p["entered"] for p in got["periods"]) == c.get(API).json()["steps"][0]["customers"]
    for step, dropped in (("2", False), ("3", True), ("2", True)):
        params: dict[str, Any] = {"step": step, "window": "14d", "dropped": dropped}
        got = c.get(f"{API}/people", params=params).json()
        args = ["--people", step, "--window", "14d", *(["--dropped"] if dropped else [])]
        assert got == cli_json(site, "funnel", *args, "--format", "json")
    assert got["dropped"], "the sample must have someone who dropped"
    posthog = c.get(f"{API}/people", params={"step": "2", "semantics": "posthog"}).json()
    assert posthog == cli_json(site, "funnel", "--people", "2", "--semantics", "posthog",
                               "--format", "json")  # fmt: skip


REFUSED = [
    ({"semantics": "clickhouse", "mode": "any"}, "mode", "windowFunnel is ordered"),
    ({"semantics": "clickhouse", "window": "1mo"}, "window", "not calendar months"),
    ({"semantics": "clickhouse", "clickhouse": "allow_reentry"}, "clickhouse", "strict_order"),
    ({"semantics": "posthog", "clickhouse": "strict_order"}, "clickhouse", "need semantics"),
    ({"semantics": "mixpanel"}, "semantics", "expected one of"),
    ({"mode": "sideways"}, "mode", "expected one of"),
]


@pytest.mark.parametrize(("params", "field", "words"), REFUSED)
def test_a_refused_combination_names_its_field(
    site: Site, params: dict[str, str], field: str, words: str
) -> None:
    c = site.client("viewer")
    r = c.get(API, params=params)
    assert r.status_code == 400 and r.json()["field"] == field and words in r.json()["detail"]
    page = c.get(PAGE, params=params)
    assert page.status_code == 400
    assert words in field_message(page.text, field)
    assert f'aria-invalid="true" aria-describedby="e-{field}"' in page.text  # on its control
    assert 'id="funnel"' not in page.text  # no numbers under a refused choice


def test_trends_refused_for_a_peer_keep_the_counts(site: Site) -> None:
    c = site.client("viewer")
    r = c.get(f"{API}/trends", params={"semantics": "posthog"})
    assert r.status_code == 400 and r.json()["field"] == "trends"
    page = c.get(PAGE, params={"semantics": "posthog", "trends": "week"})
    assert page.status_code == 400
    assert "posthog semantics" in field_message(page.text, "trends")
    assert 'id="funnel"' in page.text  # the counts are still shown


def test_the_page_shows_trends_and_times(site: Site) -> None:
    c = site.client("viewer")
    page = c.get(PAGE, params={"trends": "week", "window": "14d"})
    assert page.status_code == 200
    want = c.get(f"{API}/trends", params={"interval": "week", "window": "14d"}).json()
    points = attrs(page.text, "circle", "trend-point")
    assert [p["data-period"] for p in points] == [p["period"] for p in want["periods"]]
    assert [float(p["data-rate"]) for p in points] == [p["rate"] for p in want["periods"]]
    rows = rows_of(page.text, "funnel-trends")
    assert [int(r[1]) for r in rows] == [p["entered"] for p in want["periods"]]
    # mean and median times, as the API has them
    steps = c.get(API, params={"window": "14d"}).json()["steps"]
    cells = rows_of(page.text, "funnel")[1]
    start, prev = steps[1]["time_from_start"], steps[2]["time_from_previous"]
    assert cells[8] == f"{start['median_seconds'] / 86400:.1f} d"
    assert cells[9] == f"{start['mean_seconds'] / 86400:.1f} d"
    assert rows_of(page.text, "funnel")[2][7] == f"{prev['mean_seconds'] / 86400:.1f} d"


def test_the_people_list_links_customers_and_downloads(site: Site) -> None:
    c = site.client("viewer")
    params = {"people": "3", "dropped": "1", "window": "14d", "semantics": "posthog"}
    page = c.get(PAGE, params=params)
    assert page.status_code == 200
    api = c.get(
        f"{API}/people",
        params={"step": "3", "dropped": True, "window": "14d", "semantics": "posthog"},
    ).json()
    listed = re.search(r'<ul class="people" id="funnel-people">(.*?)</ul>', page.text, re.S)
    assert listed is not None
    links = re.findall(r'<a href="([^"]+)">(.*?)</a>', listed[1])
    assert [unescape(name) for _, name in links] == api["dropped"][:100] and links
    first = c.get(unescape(links[0][0]))
    assert first.status_code == 200 and api["dropped"][0] in first.text
    download = re.search(
        r'<a class="button" href="([^"]+)" download>Download as CSV</a>', page.text
    )
    assert download is not None
    got = c.get(unescape(download[1]))
    assert got.headers["content-type"].startswith("text/csv")
    assert "attachment" in got.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(got.text)))
    assert [r["customer_id"] for r in rows] == api["dropped"]


def test_clickhouse_modes_show_only_with_clickhouse(site: Site) -> None:
    c = site.client("viewer")
    box = re.compile(r'<fieldset id="clickhouse-modes"([^>]*)>(.*?)</fieldset>', re.S)
    found = box.search(c.get(PAGE).text)
    assert found is not None and " hidden disabled" in found[1]
    page = c.get(PAGE, params={"semantics": "clickhouse", "clickhouse": "strict_order"})
    found = box.search(page.text)
    assert found is not None and "hidden" not in found[1]
    checked = re.findall(r'name="clickhouse" value="(\w+)" checked', found[2])
    assert checked == ["strict_order"]
    assert "clickhouse semantics" in text_of(page.text)


def test_the_api_equals_the_python_apis_funnel(site: Site) -> None:
    """The same workspace through ``journeykit.analytics``: funnel, trends to a chosen step,
    people, with a peer's semantics."""
    from datetime import timedelta

    from journeykit.analytics import funnel
    from journeykit.analytics.funnel_views import funnel_people, funnel_trends
    from journeykit.engine import connect
    from journeykit.journey import load_journey

    journey = load_journey(site.root / "journey.yaml")
    events = connect("duckdb://").events(str(site.root))
    c = site.client("viewer")
    for semantics, mode, flags in (("posthog", "ordered", ()), ("clickhouse", "strict", ()),
                                   ("journeykit", "ordered", ())):  # fmt: skip
        result = funnel(events, journey, window=timedelta(days=14), semantics=semantics,
                        mode=mode, clickhouse=flags)  # type: ignore[arg-type]  # fmt: skip
        params = {"window": "14d", "semantics": semantics, "mode": mode}
        assert c.get(API, params=params).json() == result.to_dict()
        people = c.get(f"{API}/people", params={**params, "step": "3"}).json()
        assert people == funnel_people(result, 3).to_dict()
    # trends need step times: the last run above, journeykit's own
    trends = c.get(f"{API}/trends", params={**params, "interval": "week", "to_step": "3"}).json()
    assert trends == funnel_trends(result, "week", 3).to_dict()
    assert any(p["converted"] for p in trends["periods"])
    r = c.get(f"{API}/trends", params={"to_step": "nowhere"})
    assert r.status_code == 400 and "not on path" in r.json()["detail"]
    page = c.get(PAGE, params={"trends": "week", "trend_to": "nowhere"})
    assert page.status_code == 400 and "not on path" in field_message(page.text, "trend_to")
