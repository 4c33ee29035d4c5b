"""The map and report without a browser: numbers from results, health, layout, Mermaid in step."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from itertools import pairwise
from pathlib import Path

import pytest
from click.testing import CliRunner

from journeykit.analytics import funnel, positions
from journeykit.analytics.windows import designed_window
from journeykit.cli import cli
from journeykit.journey import load_journey
from journeykit.report import layout as lay
from journeykit.report.journey_map import render_map_svg
from journeykit.report.mermaid import mermaid_journey
from journeykit.report.pages import map_page, report_page
from tests.conftest import EXAMPLES
from tests.report.conftest import Measured, branching_journey


class _Cards(HTMLParser):
    """Attributes of every ``<g class="card ...">`` and of the emotion curves."""

    def __init__(self) -> None:
        super().__init__()
        self.cards: dict[str, dict[str, str]] = {}
        self.curves: dict[str, list[str]] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "g" and a.get("class", "").startswith("card ") and "data-milestone" in a:
            self.cards[a["data-milestone"]] = a
        if tag == "path" and a.get("class") == "curve":
            self.curves[a["data-path"]] = a["data-steps"].split()


def parse(svg: str) -> _Cards:
    p = _Cards()
    p.feed(svg)
    return p


def test_card_numbers_equal_funnel_and_positions(measured: Measured) -> None:
    j, events = measured.journey, measured.events
    cards = parse(render_map_svg(j, measured.results.cards,
                                 path_ids=measured.results.path_order)).cards  # fmt: skip
    assert set(cards) == {m.id for m in j.milestones}
    owner: dict[str, str] = {}
    for p in j.paths:  # the first path is chosen by default, then file order
        for mid in p.milestone_ids:
            owner.setdefault(mid, p.id)
    for pid in dict.fromkeys(owner.values()):
        path = j.path(pid)
        f = funnel(events, j, path=pid, window=designed_window(j, path))
        pos = positions(events, j, path=pid)
        for k, step in enumerate(f.steps):
            if owner[step.milestone] != pid:
                continue
            card = cards[step.milestone]
            assert card["data-path"] == pid
            assert int(card["data-reached"]) == step.customers
            stuck = sum(
                1 for c in pos.customers if c.status == "stuck" and c.milestone == step.milestone
            )
            assert int(card["data-stuck"]) == stuck
            if k:
                assert float(card["data-conversion"]) == pytest.approx(step.share_of_previous)
                t = step.time_from_previous
                assert card["data-median-seconds"] == ("" if t is None else repr(t.median))
    # Milestones on no path show how many ever reached them.
    for mid in {m.id for m in j.milestones} - set(owner):
        assert cards[mid]["data-path"] == ""
        assert int(cards[mid]["data-reached"]) == measured.results.counts.reached[mid]


def test_reached_ever_counts_distinct_customers(measured: Measured) -> None:
    import pyarrow.compute as pc

    j = measured.journey
    table = measured.events.to_pyarrow()
    for m in j.milestones:
        names = sorted(m.when.event_names()) if m.when else []
        if m.when is None or m.when.properties or m.when.value or m.when.any_of:
            continue  # only plain event-name rules are checked by this brute force
        hits = table.filter(pc.is_in(table["event"], value_set=__import__("pyarrow").array(names)))
        assert measured.results.counts.reached[m.id] == len(set(hits["customer_id"].to_pylist()))


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_mermaid_stays_in_step_with_the_map(path: Path) -> None:
    """Same milestones, same order on every path, same titles."""
    j = load_journey(path)
    parsed = parse(render_map_svg(j))
    assert set(parsed.cards) == {m.id for m in j.milestones}
    titles = {m.id: m.title for m in j.milestones}
    everything = [ln.split(":")[0].strip() for ln in mermaid_journey(j).splitlines()[2:]
                  if not ln.strip().startswith("section")]  # fmt: skip
    assert sorted(everything) == sorted(
        re.sub(r"\s+", " ", t).replace(":", " -") for t in titles.values()
    )
    for p in j.paths:
        assert parsed.curves[p.id] == list(p.milestone_ids)
        lines = mermaid_journey(j, path_id=p.id).splitlines()
        tasks = [
            ln.split(":")[0].strip() for ln in lines[2:] if not ln.strip().startswith("section")
        ]
        # Mermaid groups by phase; within the path, phases are in order, so the order matches.
        assert tasks == [titles[m] for m in p.milestone_ids]


def test_journey_text_is_escaped(tmp_path: Path) -> None:
    text = (next(p for p in EXAMPLES if p.stem == "saas-trial")).read_text("utf-8")
    text = text.replace("title: Built the first board", "title: '<script>alert(1)</script>'")
    text = text.replace('to: "Everyone', 'to: "<b onmouseover=x>Everyone')
    path = tmp_path / "j.yaml"
    path.write_text(text, "utf-8")
    page = map_page(load_journey(path))
    assert "<script>" not in page and "<b onmouseover" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_zones_keep_their_order_when_a_path_goes_back_a_phase(tmp_path: Path) -> None:
    """A pre milestone after the core offer on a path (as while the builder moves a step up):
    the zones may squeeze but never get a negative width, which browsers refuse to draw."""
    text = (next(p for p in EXAMPLES if p.stem == "saas-trial")).read_text("utf-8")
    text = text.replace("renewed]", "renewed, help_opened]").replace(
        "paths:", "  - {id: help_opened, title: Opened help, phase: pre, when: help_view}\npaths:"
    )
    path = tmp_path / "j.yaml"
    path.write_text(text, "utf-8")
    journey = load_journey(path)
    assert journey.paths[0].milestone_ids[-1] == "help_opened"
    svg = render_map_svg(journey)
    zones = re.findall(r'class="zone (\w+)" data-phase="\w+" x="([-\d.]+)" y="[-\d.]+" '
                       r'width="([-\d.]+)"', svg)  # fmt: skip
    assert [z[0] for z in zones] == ["pre", "core", "post"]
    assert all(float(w) >= 0 for _, _, w in zones), zones
    assert all(float(a[1]) + float(a[2]) <= float(b[1]) + 1e-6 for a, b in pairwise(zones))


def test_layout_is_deterministic_and_cards_do_not_overlap(tmp_path: Path) -> None:
    path = tmp_path / "big.yaml"
    path.write_text(branching_journey(), "utf-8")
    j = load_journey(path)
    first, second = render_map_svg(j), render_map_svg(j)
    assert first == second
    from journeykit.report.journey_map import _card, _graph

    cards = {m.id: _card(j, m, None) for m in j.milestones}
    placed = lay.layout(*_graph(j, cards, [p.id for p in j.paths])[:2])
    items = list(placed.boxes.values())
    for i, a in enumerate(items):
        for b in items[i + 1 :]:
            apart = a.right <= b.left or b.right <= a.left or a.bottom <= b.top or b.bottom <= a.top
            assert apart, (a, b)
    # Zones in order: every pre card left of every core card, every core card left of post.
    xs = {
        ph: [placed.boxes[m.id].x for m in j.milestones if m.phase == ph]
        for ph in ("pre", "core", "post")
    }
    assert max(xs["pre"]) < min(xs["core"]) and max(xs["core"]) < min(xs["post"])


def test_stage_band_marks_uncovered_stages(tmp_path: Path) -> None:
    path = tmp_path / "big.yaml"
    path.write_text(branching_journey(), "utf-8")
    svg = render_map_svg(load_journey(path))
    uncovered = re.findall(r'class="stage uncovered" data-stage="([^"]+)"', svg)
    assert uncovered == ["acquire", "nurture", "convert", "deliver", "repeat", "refer", "maximise",
                         "reactivate", "maintain"]  # fmt: skip


def test_report_sections_and_size(measured: Measured) -> None:
    html = report_page(measured.results)
    for key in ("map", "funnel", "timing", "paths", "positions", "stuck", "strays", "clv",
                "community", "themes"):  # fmt: skip
        assert f'<section id="{key}"' in html
    assert "<script" not in html and "http://" not in html.replace("http://www.w3.org/2000/svg", "")
    assert len(html.encode()) < 2_000_000
    stuck = measured.results.positions[measured.results.path].stuck()
    if stuck:
        assert f"<td>{stuck[0].customer_id}</td>" in html


def test_map_and_report_commands(tmp_path: Path) -> None:
    from journeykit.events.simulate import SimulationOptions, simulate_to_file

    path = next(p for p in EXAMPLES if p.stem == "saas-trial")
    events = tmp_path / "ev.parquet"
    simulate_to_file(load_journey(path), SimulationOptions(customers=300, seed=1), events)
    runner = CliRunner()
    design = runner.invoke(cli, ["map", str(path), "-o", str(tmp_path / "m.svg")])
    assert design.exit_code == 0, design.output
    assert (tmp_path / "m.svg").read_text("utf-8").startswith("<svg")
    live = runner.invoke(cli, ["map", str(path), "--events", str(events), "--path", "webinar_first",
                               "-o", str(tmp_path / "m.html")])  # fmt: skip
    assert live.exit_code == 0, live.output
    assert 'data-path="webinar_first" data-reached=' in (tmp_path / "m.html").read_text("utf-8")
    rep = runner.invoke(
        cli, ["report", str(path), "--events", str(events), "-o", str(tmp_path / "r.html")]
    )
    assert rep.exit_code == 0, rep.output
    bad = runner.invoke(cli, ["map", str(path), "-o", str(tmp_path / "m.jpg")])
    assert bad.exit_code == 1
    assert "m.jpg: expected a file ending in .html, .svg, .png, .pdf" in bad.output
    none = runner.invoke(cli, ["report", str(path), "-o", str(tmp_path / "r.html")])
    assert none.exit_code == 1
    assert "the report needs events" in none.output
    wrong = runner.invoke(cli, ["map", str(path), "--events", str(events), "--path", "teem",
                                "-o", str(tmp_path / "m.html")])  # fmt: skip
    assert wrong.exit_code == 1 and "did you mean 'team'" in wrong.output


def _apart(items: list[lay.Placed]) -> None:
    for i, a in enumerate(items):
        for b in items[i + 1 :]:
            apart = a.right <= b.left or b.right <= a.left or a.bottom <= b.top or b.bottom <= a.top
            assert apart, (a, b)


def test_fallback_layout_without_graphviz(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No `dot` on the machine: the pure-Python layered layout draws the same map readably."""
    path = tmp_path / "big.yaml"
    path.write_text(branching_journey(30, 3), "utf-8")
    j = load_journey(path)
    from journeykit.report.journey_map import _card, _graph

    cards = {m.id: _card(j, m, None) for m in j.milestones}
    boxes, edges = _graph(j, cards, [p.id for p in j.paths])[:2]
    monkeypatch.setattr(lay.shutil, "which", lambda name: None)
    placed = lay.layout(boxes, edges)
    assert placed == lay.layered_layout(boxes, edges)
    assert set(placed.boxes) == {b.id for b in boxes}
    for b in boxes:  # every box keeps the size the map computed for its text
        assert (placed.boxes[b.id].width, placed.boxes[b.id].height) == (b.width, b.height)
    _apart(list(placed.boxes.values()))
    xs = {
        ph: [placed.boxes[m.id].x for m in j.milestones if m.phase == ph]
        for ph in ("pre", "core", "post")
    }
    assert max(xs["pre"]) < min(xs["core"]) and max(xs["core"]) < min(xs["post"])
    # Every step of every path goes left to right, and its route joins the two cards' sides.
    routes = {(r.tail, r.head): r for r in placed.routes}
    for p in j.paths:
        for a, b in zip(p.milestone_ids, p.milestone_ids[1:], strict=False):
            pa, pb = placed.boxes[a], placed.boxes[b]
            assert pa.right < pb.left
            r = routes[(a, b)]
            assert r.points[0] == (pa.right, pa.y) and r.points[-1] == (pb.left, pb.y)
            assert (len(r.points) - 1) % 3 == 0  # cubic Bezier segments, as dot gives
    svg = render_map_svg(j)
    assert svg == render_map_svg(j)  # deterministic
    assert set(parse(svg).cards) == {m.id for m in j.milestones}


def test_fallback_layout_breaks_cycles_and_keeps_touchpoints_apart(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    boxes = [lay.Box(n, 100, 40 + 10 * i) for i, n in enumerate("abcde")]
    boxes.append(lay.Box("tp__a__b", 80, 30))
    edges = [
        lay.Edge("a", "tp__a__b"), lay.Edge("tp__a__b", "b"), lay.Edge("b", "c"),
        lay.Edge("c", "a"),  # a cycle: two paths with a and c in opposite orders
        lay.Edge("a", "d"), lay.Edge("d", "e"), lay.Edge("a", "e"),  # a long edge
        lay.Edge("e", "b", visible=False),
    ]  # fmt: skip
    placed = lay.layered_layout(boxes, edges)
    _apart(list(placed.boxes.values()))
    assert placed.boxes["a"].x < placed.boxes["tp__a__b"].x < placed.boxes["b"].x
    assert {(r.tail, r.head) for r in placed.routes} == {
        (e.tail, e.head) for e in edges if e.visible
    }
    assert all(b.top >= 0 and b.bottom <= placed.height for b in placed.boxes.values())


def test_map_and_report_without_graphviz(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A core install on a machine without `dot` (the README's first command) still writes both."""
    from journeykit.events.simulate import SimulationOptions, simulate_to_file

    monkeypatch.setattr(lay.shutil, "which", lambda name: None)
    path = next(p for p in EXAMPLES if p.stem == "saas-trial")
    events = tmp_path / "ev.parquet"
    simulate_to_file(load_journey(path), SimulationOptions(customers=200, seed=1), events)
    runner = CliRunner()
    for args in (["map", str(path), "--events", str(events), "-o", str(tmp_path / "m.html")],
                 ["report", str(path), "--events", str(events), "-o", str(tmp_path / "r.html")]):  # fmt: skip
        done = runner.invoke(cli, args)
        assert done.exit_code == 0, done.output
    for name in ("m.html", "r.html"):
        cards = parse((tmp_path / name).read_text("utf-8")).cards
        assert set(cards) == {m.id for m in load_journey(path).milestones}


def test_positions_counted_on_columns_equal_the_rows(measured: Measured) -> None:
    """The report counts positions and strays on the result's arrays (fast at 10M events);
    the same counts from every customer's row object, by brute force."""
    from collections import Counter

    for pos in measured.results.positions.values():
        per: dict[str, Counter[str]] = {}
        strays: dict[str, Counter[tuple[str, ...]]] = {}
        for c in pos.customers:
            per.setdefault(c.milestone, Counter())[c.status] += 1
            for s in c.strays:
                strays.setdefault(s.type, Counter())[s.milestones] += 1
        assert pos.at_step() == {step: dict(per.get(step, {})) for step in pos.steps}
        counted = pos.stray_counts()
        assert {t: c for t, c in counted.items() if c} == {t: dict(c) for t, c in strays.items()}
        assert pos.n_stuck == sum(1 for c in pos.customers if c.status == "stuck")


def test_a_fetched_log_gives_the_same_results(
    measured: Measured, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The web app hands ``measure`` the log its dashboards already fetched: no second fetch,
    the same numbers."""
    import journeykit.analytics.milestones as milestones_module
    import journeykit.measure as measure_module
    from journeykit.analytics import fetch_milestones

    frame = fetch_milestones(measured.events, measured.journey)

    def refetch(*args: object, **kwargs: object) -> None:
        raise AssertionError("measure fetched the log again")

    monkeypatch.setattr(milestones_module, "fetch_milestones", refetch)
    again = measure_module.measure(frame, measured.journey, full=False)
    first = measured.results
    assert again.now == first.now
    for pid, result in first.funnels.items():
        assert [s.customers for s in again.funnels[pid].steps] == [
            s.customers for s in result.steps
        ]
        assert again.positions[pid].summary == first.positions[pid].summary
    assert again.counts == first.counts


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_a_card_names_the_plays_designed_for_its_customers(path: Path) -> None:
    j = load_journey(path)
    svg = render_map_svg(j)
    targeted = {p.who.milestone for p in j.plays if p.who.milestone}
    assert targeted, "every template designs a play at some milestone"
    for m in j.milestones:
        start = svg.index(f'data-milestone="{m.id}"')
        card = svg[start : svg.index("</g>", start)]
        assert ("▶ plays:" in card) == (m.id in targeted), m.id
