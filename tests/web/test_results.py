"""The CLV, Community and customer pages: the same numbers as the CLI, shown on the page."""

from __future__ import annotations

import json
import re
from datetime import date
from html import unescape
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner

from journeykit.cli import cli
from tests.web.conftest import Site, make_site


def _cli(site: Site, *args: str) -> Any:
    journey = str(site.root / "journey.yaml")
    out = CliRunner().invoke(
        cli, [*args, journey, "--workspace", str(site.root), "--format", "json"]
    )
    assert out.exit_code == 0, out.output
    return json.loads(out.stdout)


def same(a: Any, b: Any, where: str = "") -> None:
    """Equal, floats to 1e-9 relative (nested dicts and lists)."""
    if isinstance(a, dict) and isinstance(b, dict):
        assert a.keys() == b.keys(), where
        for k in a:
            same(a[k], b[k], f"{where}.{k}")
    elif isinstance(a, list) and isinstance(b, list):
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            same(x, y, f"{where}[{i}]")
    elif isinstance(a, float) or isinstance(b, float):
        assert a == pytest.approx(b, rel=1e-9, nan_ok=True), where
    else:
        assert a == b, where


def _text(html: str, element_id: str) -> str:
    found = re.search(rf'id="{element_id}"[^>]*>([^<]*)<', html)
    assert found, element_id
    return unescape(found.group(1)).strip()


def _money(x: float) -> str:
    return f"{x:,.2f}"


def test_clv_api_is_the_clis(site: Site) -> None:
    web = site.client("viewer").get("/api/journeys/journey/clv").json()
    # this small simulation's fit has no covariance (not converged): values, no intervals
    assert "clv_lower" not in web["value"]["overall"]
    assert any(n.startswith("no intervals for the model's CLV") for n in web["notes"])
    value = _cli(site, "clv", "value")
    same(web["value"]["overall"], value["overall"])
    same(web["value"]["groups"], value["groups"])
    same(web["value"]["transaction_model"]["params"], value["transaction_model"]["params"])
    for by in ("persona", "path", "cohort"):
        simple = _cli(site, "clv", "simple", "--by", by)
        same(web["simple"][by], simple)


@pytest.fixture(scope="module")
def converged(tmp_path_factory: pytest.TempPathFactory) -> Site:
    """A simulation whose BG/NBD and Gamma-Gamma fits converge, so each group has an interval."""
    return make_site(tmp_path_factory.mktemp("converged") / "ws", customers=600, users=True)


def test_clv_intervals_on_the_page_are_the_apis_and_the_clis(converged: Site) -> None:
    c = converged.client("viewer")
    web = c.get("/api/journeys/journey/clv").json()
    value = _cli(converged, "clv", "value", "--intervals")
    same(web["value"]["overall"], value["overall"])
    same(web["value"]["groups"], value["groups"])
    html = c.get("/journeys/journey/clv").text
    for by in ("persona", "path", "cohort"):
        model = {g["group"]: g for g in web["value"]["groups"][by]}
        table = html[html.index(f'id="by-{by}"') :]
        rows = re.findall(r'<tr data-group="([^"]*)">(.*?)</tr>', table[: table.index("</table>")],
                          re.S)  # fmt: skip
        assert rows
        for group, row in rows:
            g = model[unescape(group)]
            assert g["clv_lower"] < g["clv"] < g["clv_upper"]
            shown = re.search(r'class="num interval">([^<]*)<', row)
            assert (
                shown and shown.group(1) == f"{_money(g['clv_lower'])} to {_money(g['clv_upper'])}"
            )


def test_clv_page_shows_the_apis_numbers(site: Site) -> None:
    c = site.client("viewer")
    api = c.get("/api/journeys/journey/clv").json()
    html = c.get("/journeys/journey/clv").text
    assert _text(html, "model-clv") == _money(api["value"]["overall"]["clv"])
    assert _text(html, "simple-lifetime") == _money(api["simple"]["persona"]["overall"]["clv"])
    for by in ("persona", "path", "cohort"):
        model = {g["group"]: g for g in api["value"]["groups"][by]}
        table = html[html.index(f'id="by-{by}"') :]
        table = table[: table.index("</table>")]
        rows = re.findall(r'<tr data-group="([^"]*)">(.*?)</tr>', table, re.S)
        assert len(rows) == len(api["simple"][by]["groups"]) > 0
        for group, row in rows:
            shown = re.search(r'class="num model">([^<]*)<', row)
            assert shown and shown.group(1) == _money(model[unescape(group)]["clv"])
            assert re.search(r'class="num interval">-<', row)  # no intervals on this fit
    assert "<svg" in html and "Holdout check of BetaGeo" in html  # the chart, labelled


def test_holdout_check_is_the_libraries_on_the_chosen_calibration(site: Site) -> None:
    from journeykit.analytics.milestones import fetch_milestones
    from journeykit.clv.journey import journey_customers, journey_tracking
    from journeykit.clv.models import transaction_model
    from journeykit.clv.value import holdout_check
    from journeykit.journey import load_journey
    from journeykit.report.clv_charts import tracking_chart
    from journeykit.workspace import open_workspace

    c = site.client("viewer")
    default = c.get("/api/journeys/journey/clv").json()["holdout"]
    assert default is not None
    chosen = date.fromisoformat(default["calibration_end"])
    later = c.get("/api/journeys/journey/clv?calibration_end=2024-03-15").json()["holdout"]
    assert later["calibration_end"] == "2024-03-15" != default["calibration_end"]
    ws = open_workspace(site.root)
    from journeykit.engine.duckdb import DuckDBEngine

    eng = DuckDBEngine()
    eng.attach_read_only(ws.database)
    journey = load_journey(ws.journey_file)
    try:
        frame = fetch_milestones(eng.events(str(ws.root)), journey, personas=True)
    finally:
        eng.close()
    held = journey_customers(frame, journey, calibration_end=chosen, unit="weeks")
    assert held.holdout is not None
    model = transaction_model("bgnbd")().fit(held.holdout.calibration)
    want = holdout_check(model, held.holdout).to_dict()
    same(default["check"], want)
    assert sum(b["customers"] for b in want["buckets"]) == len(held.summary.frequency)
    tracking = journey_tracking(frame, journey, model, held)
    same(default["tracking"], json.loads(json.dumps(tracking.to_dict())))
    html = c.get("/journeys/journey/clv").text
    actual = re.findall(r'<td class="num actual">([^<]*)<', html)
    assert actual == [f"{b['actual_mean']:.3f}" for b in want["buckets"]]
    # the tracking chart is drawn from those numbers, by the report's own function
    assert tracking_chart(tracking.tracking, calibration_end=tracking.calibration_end) in html
    bad = c.get("/journeys/journey/clv?calibration_end=yesterday")
    assert bad.status_code == 400 and "calibration_end: expected a date" in bad.text


def test_community_api_is_the_clis(site: Site) -> None:
    web = site.client("viewer").get("/api/journeys/journey/community").json()
    star = _cli(site, "community", "northstar")
    same(web["north_stars"][0], star)
    levels = _cli(site, "community", "levels")
    same(web["levels"], levels)
    impact = _cli(site, "community", "impact")
    same(web["impact"][0]["result"], impact)


def test_community_page_shows_purpose_roles_star_impact_and_levels(site: Site) -> None:
    from journeykit.journey import load_journey
    from journeykit.report.charts import north_star_value
    from journeykit.web.results import difference_text

    c = site.client("viewer")
    api = c.get("/api/journeys/journey/community").json()
    html = c.get("/journeys/journey/community").text
    community = load_journey(site.root / "journey.yaml").community
    assert community is not None
    assert community.purpose.split()[0] in unescape(html)
    star = api["north_stars"][0]
    now = re.search(r'class="ns-now">([^<]*)<', html)
    assert now and unescape(now.group(1)) == north_star_value(star["value"], star["metric"])
    impact = api["impact"][0]["result"]
    shown = re.search(r'class="num estimate">([^<]*)<', html)
    assert shown and shown.group(1) == difference_text(impact["difference"], impact["metric"])
    assert "Association, not cause" in html and unescape(impact["caveat"]) in unescape(html)
    assert "Engagement levels" in html


def test_customer_story(site: Site) -> None:
    from journeykit.analytics.segments import personas_of
    from journeykit.engine.duckdb import DuckDBEngine
    from journeykit.journey import load_journey
    from journeykit.workspace import open_workspace

    c = site.client("viewer")
    listed = c.get("/api/journeys/journey/lists/completed").json()["customers"]
    cid = listed[0]["customer_id"]
    story = c.get(f"/api/journeys/journey/customers/{cid}/story").json()
    plain = c.get(f"/api/journeys/journey/customers/{cid}").json()
    assert {k: story[k] for k in plain} == plain  # position, status, timeline as before
    journey = load_journey(site.root / "journey.yaml")
    ws = open_workspace(site.root)
    eng = DuckDBEngine()
    eng.attach_read_only(ws.database)
    try:
        index = personas_of(eng.events(str(ws.root)), journey).get(cid)
    finally:
        eng.close()
    assert story["persona"] == (
        None if index is None else {"id": journey.personas[index].id,
                                    "name": journey.personas[index].name}
    )  # fmt: skip
    clv = c.get("/api/journeys/journey/clv").json()
    assert story["value"]["source"].startswith("expected CLV, BG/NBD")
    assert story["value"]["purchases"] >= 1
    html = c.get(f"/journeys/journey/customers?q={cid}").text
    assert _text(html, "expected-clv") == _money(story["value"]["expected_clv"])
    assert _text(html, "status") == story["position"]["status"].replace("_", " ")
    if story["persona"]:
        assert _text(html, "persona") == story["persona"]["name"]
    assert "Plays entered" in html
    assert np.isfinite(clv["value"]["overall"]["clv"])


def test_customer_story_lists_the_plays_entered(site: Site) -> None:
    editor = site.client("editor")
    ran = editor.post("/api/journeys/journey/plays/run")
    assert ran.status_code == 200, ran.text
    from journeykit.act.ledger import entries, open_ledger
    from journeykit.journey import load_journey
    from journeykit.workspace import open_workspace

    journey = load_journey(site.root / "journey.yaml")
    engine = open_ledger(open_workspace(site.root), read_only=True)
    try:
        entered = entries(engine, journey.id)
    finally:
        engine.close()
    assert entered
    cid = entered[0].customer_id
    mine = [e for e in entered if e.customer_id == cid]
    story = editor.get(f"/api/journeys/journey/customers/{cid}/story").json()
    assert [(p["play"], p["arm"]) for p in story["plays"]] == [(e.play_id, e.arm) for e in mine]
    html = editor.get(f"/journeys/journey/customers?q={cid}").text
    table = html[html.index('id="plays-entered"') :]
    assert table.count("<tr>") == len(mine) + 1


def test_holdout_chart_draws_the_checks_numbers() -> None:
    from journeykit.clv.value import HoldoutBucket, HoldoutCheck
    from journeykit.report.charts import holdout_chart

    check = HoldoutCheck("<b>x</b>", 39.0, (HoldoutBucket("0", 10, 0.2, 0.25),
                                            HoldoutBucket("7+", 3, 2.0, 1.5)))  # fmt: skip
    svg = holdout_chart(check)
    actual = re.findall(
        r'class="holdout-actual" data-frequency="([^"]*)" data-value="([^"]*)"', svg
    )
    predicted = re.findall(r'class="holdout-predicted" data-frequency="[^"]*" data-value="([^"]*)"',
                           svg)  # fmt: skip
    assert actual == [("0", "0.2"), ("7+", "2.0")] and predicted == ["0.25", "1.5"]
    assert "<b>x</b>" not in svg and "&lt;b&gt;x&lt;/b&gt;" in svg
    ys = [float(y) for y in re.findall(r'class="holdout-actual"[^>]* cy="([^"]*)"', svg)]
    assert ys[0] > ys[1]  # more purchases sit higher
