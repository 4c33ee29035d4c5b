"""A person who has never seen YAML, in Debian's Chromium: from an empty workspace to the living
map of their own journey with their own data, by visible labels and roles only; then axe-core
on every page the app has.

The events are imported before the new milestone is added: its rule is picked from the events
the workspace has seen, so there must be some.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from journeykit.journey import load_journey, parse_journey
from journeykit.report.export import BROWSER_ARGS
from tests.conftest import CHROMIUM, browser_marks
from tests.web.conftest import Site, serving

try:
    from playwright.sync_api import expect, sync_playwright
except ImportError:  # pragma: no cover - the dev extra has it
    sync_playwright = None  # type: ignore[assignment]

pytestmark = browser_marks(sync_playwright is not None)
DOCS = Path(__file__).resolve().parents[2] / "docs"
NARROW = {"width": 375, "height": 800}


@pytest.fixture(scope="module")
def empty(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Site, str]]:
    """A workspace with no events and no users: a new person on their own machine."""
    from journeykit.web.app import create_app
    from journeykit.web.store import Store
    from journeykit.workspace import create_workspace

    root = tmp_path_factory.mktemp("firstrun") / "ws"
    create_workspace(root, template="coding-course")
    site = Site(root, create_app(root), Store.of_workspace(root))
    with serving(site) as base:
        yield site, base


@pytest.fixture(scope="module")
def events_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Simulated saas-trial events under the person's own column names, and one bad row."""
    import duckdb

    from journeykit.events.simulate import SimulationOptions, simulate_to_file
    from journeykit.journey.templates import template_text

    folder = tmp_path_factory.mktemp("upload")
    sim = folder / "sim.parquet"
    journey = parse_journey(template_text("saas-trial"))
    simulate_to_file(journey, SimulationOptions(customers=300, seed=3, days=90), sim)
    out = folder / "our-events.csv"
    con = duckdb.connect()
    con.execute(
        f"COPY (SELECT customer_id AS member, event AS action, strftime(timestamp, "
        f"'%Y-%m-%d %H:%M:%S') AS at, value AS amount, properties AS details "
        f"FROM '{sim}' ORDER BY timestamp) TO '{out}' (HEADER, DELIMITER ',')"
    )
    con.close()
    header, rest = out.read_text().split("\n", 1)
    out.write_text(f"{header}\nm-bad,signed_up,the day after tomorrow,,\n{rest}")
    return out


@pytest.fixture(scope="module")
def page(empty: tuple[Site, str]) -> Iterator[Any]:
    assert sync_playwright is not None
    _, base = empty
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS)
        context = browser.new_context(base_url=base, viewport={"width": 1400, "height": 900})
        pg = context.new_page()
        errors: list[str] = []
        pg.on("pageerror", lambda e: errors.append(str(e)))
        pg.errors = errors
        yield pg
        context.close()
        browser.close()


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = Path(os.environ.get("JOURNEYKIT_SCREENSHOTS", tmp_path_factory.mktemp("shots")))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def test_from_an_empty_workspace_to_a_living_map_without_yaml(
    page: Any, empty: tuple[Site, str], events_csv: Path, shots: Path
) -> None:
    site, _ = empty
    page.goto("/")
    expect(page.get_by_role("heading", name="First steps")).to_be_visible()

    # 1. a journey from a template
    page.get_by_label("Journey name").fill("trial")
    page.get_by_label("Start from").select_option(label="the saas-trial template")
    page.get_by_role("button", name="Create the journey").click()
    expect(page.get_by_role("status")).to_contain_text("Journey trial created")

    # 2. the person's own events, through the mapping screen
    page.get_by_label("Events file").set_input_files(str(events_csv))
    page.get_by_role("button", name="Upload and map the columns").click()
    expect(page.get_by_role("heading", name=re.compile("Map the columns"))).to_be_visible()
    page.get_by_label("Customer id column").select_option(label="member")
    page.get_by_label("Event name column").select_option(label="action")
    page.get_by_label("Time column").select_option(label="at")
    page.get_by_label("Value column (optional)").select_option(label="amount")
    page.get_by_label("Properties column (optional, JSON)").select_option(label="details")
    page.get_by_role("button", name="Preview with these columns").click()
    expect(page.get_by_role("status")).to_contain_text("will be imported")
    rejects = page.get_by_role("table", name="Rows that will be refused")
    expect(rejects).to_contain_text("the day after tomorrow")
    page.get_by_role("button", name="Import with these columns").click()
    expect(page.get_by_role("status").first).to_contain_text("rejected 1", timeout=60000)

    # 3. the builder: change the transformation, a new milestone from an observed event, on a path
    page.get_by_role("link", name="Next: open your living map").click()
    page.get_by_role("link", name=re.compile("Open .* in the builder")).filter(
        has_text="Planboard"
    ).click()
    expect(page.get_by_role("heading", name=re.compile("Build"))).to_be_visible()
    page.get_by_label("From (point A, in the member’s words)").fill(
        "Our plans live in scattered spreadsheets"
    )
    page.get_by_role("button", name="+ Add a milestone (pre)").click()
    card = page.get_by_role("group", name="Milestone: New milestone")
    card.get_by_label("Title").fill("Opened the help centre")
    card.get_by_label("Id", exact=True).fill("help_opened")
    picker = card.get_by_label("Add an observed event")
    label = next(o for o in picker.locator("option").all_inner_texts() if o.startswith("help"))
    picker.select_option(label=label)
    page.get_by_role("button", name="Update preview").first.click()
    card = page.get_by_role("group", name="Milestone: Opened the help centre")
    expect(card.get_by_role("status")).to_contain_text(re.compile(r"Matches [1-9][\d,]* events"))
    path = page.get_by_role("group", name=re.compile("^Path: "))
    path.first.get_by_label(re.compile("Milestone to add to")).select_option(label="help_opened")
    path.first.get_by_role("button", name="+ Add step").click()
    # second on the path, straight after signing up: move the new last step up, step by step
    path = page.get_by_role("group", name=re.compile("^Path: ")).first
    steps = path.get_by_label(re.compile(r"^Step \d+ milestone$")).count()
    for n in range(steps, 2, -1):
        path.get_by_role("button", name=re.compile(f"^Move step {n} of .* earlier$")).click()
        path = page.get_by_role("group", name=re.compile("^Path: ")).first
    expect(path.get_by_label("Step 2 milestone")).to_have_value("help_opened")
    page.get_by_label("Note for the revision").fill("our own words and the help centre")
    page.get_by_role("button", name="Save journey").first.click()
    expect(page.get_by_role("status").first).to_contain_text("Saved as revision 2")
    _shot(page, shots, "builder")

    text = (site.root / "journeys" / "trial.yaml").read_text()
    journey = load_journey(site.root / "journeys" / "trial.yaml")
    assert journey.transformation.from_ == "Our plans live in scattered spreadsheets"
    assert journey.milestone("help_opened").phase == "pre"
    assert journey.paths[0].milestone_ids[1] == "help_opened"
    assert "# The lapse horizon" in text  # the template's comments are kept
    revs = site.store.revisions("trial")
    assert [r.note for r in revs][:1] == ["our own words and the help centre"]

    # 4. the living map, the new milestone's card with its numbers
    page.get_by_role("link", name="Map", exact=True).click()
    card_svg = page.locator('g.card[data-milestone="help_opened"]')
    expect(card_svg).to_contain_text(re.compile(r"reached [1-9]"))
    _shot(page, shots, "living-map")
    assert page.errors == []


def _shot(page: Any, shots: Path, name: str) -> None:
    path = shots / f"{name}.png"
    if name == "builder":  # the board, where the cards are
        page.get_by_role("heading", name="Milestones", exact=True).scroll_into_view_if_needed()
    page.screenshot(path=str(path), full_page=name != "builder")
    if name == "builder" and os.environ.get("JOURNEYKIT_DOCS_SCREENSHOTS"):
        shutil.copyfile(path, DOCS / "web-builder.png")  # the README's picture


def _pages(site: Site) -> list[str]:
    """Every page of the app, by its route, for a workspace with the flow's journey and data."""
    key = "trial"
    j = f"/journeys/{key}"
    imports = site.app.state.ctx.imports.history()
    pages = [
        "/welcome", "/journeys", j, f"{j}/builder", f"{j}/edit", f"{j}/revisions",
        f"{j}/revisions/1", f"{j}/revisions?a=1&b=2", f"{j}/customers", f"{j}/customers?q=nobody",
        f"{j}/lists/stuck", f"{j}/lists/strayed", f"{j}/plays", f"{j}/proof", f"{j}/themes",
        f"{j}/opportunities", f"{j}/stories", f"{j}/hero", "/imports", "/users", "/login",
        "/journeys/no-such-journey",
    ]  # fmt: skip
    pages += [f"{j}/dashboards/{k}" for k in ("funnel", "paths", "positions", "cohorts")]
    jobs = list(site.app.state.ctx.imports.jobs)
    if jobs:
        pages.append(f"/imports/jobs/{jobs[0]}")
    assert imports
    return pages


def _violations(page: Any) -> list[str]:
    from axe_playwright_python.sync_playwright import Axe

    found = Axe().run(page).response["violations"]
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
        for v in found
        if v["impact"] in ("serious", "critical")
    ]


def test_axe_finds_no_serious_violation_on_any_page(
    page: Any, empty: tuple[Site, str], events_csv: Path, shots: Path
) -> None:
    site, _ = empty
    if "trial" not in site.app.state.ctx.journeys.names():
        pytest.skip("needs the flow above (run the module)")
    problems: dict[str, list[str]] = {}
    for url in _pages(site):
        page.goto(url)
        found = _violations(page)
        if found:
            problems[url] = found
    # the mapping screen needs an upload waiting for its columns
    page.goto("/welcome")
    page.get_by_label("Events file").set_input_files(str(events_csv))
    page.get_by_role("button", name="Upload and map the columns").click()
    if found := _violations(page):
        problems["mapping"] = found
    assert not problems, "\n".join(f"{u}: {v}" for u, vs in problems.items() for v in vs)


def test_the_builder_works_by_keyboard_at_375_px(page: Any, empty: tuple[Site, str]) -> None:
    site, _ = empty
    if "trial" not in site.app.state.ctx.journeys.names():
        pytest.skip("needs the flow above (run the module)")
    page.set_viewport_size(NARROW)
    try:
        page.goto("/journeys/trial/builder")
        width = page.evaluate("document.documentElement.scrollWidth")
        wide = page.evaluate(
            "[...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right"
            " > 376 && !e.closest('.scroll')).slice(0, 5).map(e => e.tagName + '.' + e.className"
            " + '#' + e.id + ' ' + Math.round(e.getBoundingClientRect().right))"
        )
        assert width <= NARROW["width"] + 1, f"sideways scroll at 375 px ({width} px): {wide}"
        # keyboard only: Tab to the journey title, type, Tab on, press Enter on Update preview
        title = page.get_by_label("Journey title")
        for _ in range(40):
            page.keyboard.press("Tab")
            if page.evaluate("document.activeElement.id") == "f-title":
                break
        assert page.evaluate("document.activeElement.id") == "f-title"
        page.keyboard.press("Control+a")
        page.keyboard.type("Planboard, typed by keyboard")
        page.keyboard.press("Enter")  # the form's first button: Update preview, never Save
        expect(title).to_have_value("Planboard, typed by keyboard")
        assert (
            "Planboard, typed by keyboard"
            not in (site.root / "journeys" / "trial.yaml").read_text()
        )
        outline = page.evaluate(
            "getComputedStyle(document.activeElement).outlineStyle + ' ' + "
            "getComputedStyle(document.activeElement).outlineWidth"
        )
        assert outline  # the focused control is drawn (focus-visible style)
    finally:
        page.set_viewport_size({"width": 1400, "height": 900})
