"""A person who has never seen YAML, in Debian's Chromium: from an empty workspace to the living
map of their own journey with their own data and the themes of their members' answers, by
visible labels and roles only; then axe-core and the 375 px check on every page the app has.

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
from tests.web import browser
from tests.web.browser import NARROW, WIDE, pytestmark, shot, sync_playwright
from tests.web.conftest import Site, serving
from tests.web.test_discovery import survey_csv

__all__ = ["pytestmark"]

if sync_playwright is not None:
    from playwright.sync_api import expect

DOCS = Path(__file__).resolve().parents[2] / "docs"


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
    with browser.chromium_page(empty[1]) as pg:
        yield pg


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return browser.screenshots(tmp_path_factory)


@pytest.fixture(scope="module")
def answers(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The members' answers, as a survey tool exports them."""
    path = tmp_path_factory.mktemp("answers") / "member survey.csv"
    path.write_bytes(survey_csv())
    return path


def test_from_an_empty_workspace_to_a_living_map_without_yaml(
    page: Any, empty: tuple[Site, str], events_csv: Path, answers: Path, shots: Path
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
    _board_shot(page, shots)

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
    shot(page, shots, "living-map")

    # 5. the members' answers: upload, choose the column, see the themes, rename one
    browser.upload_answers(page, "trial", answers)
    browser.see_themes(page)
    api = page.request.get("/api/journeys/trial/themes?answers=member_survey.csv").json()
    theme = next(t for t in api["themes"] if t["quotes"])
    card = page.get_by_role("article", name=theme["label"])
    expect(card.get_by_text(theme["quotes"][0]["text"])).to_be_visible()
    card.get_by_label(f"New name for “{theme['label']}”").fill("Webinars that help")
    card.get_by_role("button", name="Rename").click()
    expect(page.get_by_role("status")).to_contain_text("saved rename")
    shot(page, shots, "themes")

    # 6. accept its milestone: in the journey with its quotes, and on the builder's board
    browser.accept_theme(page, "Webinars that help", [q["text"] for q in theme["quotes"]])
    page.get_by_role("link", name="Builder", exact=True).click()
    expect(page.get_by_role("group", name="Milestone: Webinars that help")).to_be_visible()
    accepted = next(m for m in load_journey(site.root / "journeys" / "trial.yaml").milestones
                    if m.title == "Webinars that help")  # fmt: skip
    assert accepted.evidence and {e.quote for e in accepted.evidence} <= {
        q["text"] for q in theme["quotes"]
    }
    assert "# The lapse horizon" in (site.root / "journeys" / "trial.yaml").read_text()
    assert page.errors == []


def _board_shot(page: Any, shots: Path) -> None:
    """The builder's board, where the cards are: the README's picture when
    JOURNEYKIT_DOCS_SCREENSHOTS is set."""
    page.get_by_role("heading", name="Milestones", exact=True).scroll_into_view_if_needed()
    path = shots / "builder.png"
    page.screenshot(path=str(path))
    if os.environ.get("JOURNEYKIT_DOCS_SCREENSHOTS"):
        shutil.copyfile(path, DOCS / "web-builder.png")


def _every_page(page: Any, site: Site, events_csv: Path) -> list[str]:
    """Every page, once the flow above has run; the mapping screen needs an upload waiting."""
    if "trial" not in site.app.state.ctx.journeys.names():
        pytest.skip("needs the flow above (run the module)")
    page.goto("/welcome")
    page.get_by_label("Events file").set_input_files(str(events_csv))
    page.get_by_role("button", name="Upload and map the columns").click()
    expect(page.get_by_role("heading", name=re.compile("Map the columns"))).to_be_visible()
    upload = page.url.rstrip("/").rsplit("/", 1)[1]
    return browser.every_page(site, page, "trial", "member_survey.csv", upload)


def test_axe_finds_no_serious_violation_on_any_page(
    page: Any, empty: tuple[Site, str], events_csv: Path
) -> None:
    problems: dict[str, list[str]] = {}
    for url in _every_page(page, empty[0], events_csv):
        browser.open_page(page, url)
        if found := browser.violations(page):
            problems[url] = found
    assert not problems, "\n".join(f"{u}: {v}" for u, vs in problems.items() for v in vs)


def test_every_page_fits_375_px_with_labelled_controls(
    page: Any, empty: tuple[Site, str], events_csv: Path, shots: Path
) -> None:
    urls = _every_page(page, empty[0], events_csv)
    page.set_viewport_size(NARROW)
    problems: dict[str, list[str]] = {}
    try:
        for url in urls:
            browser.open_page(page, url)
            if found := browser.narrow_problems(page):
                problems[url] = found
                shot(page, shots, "375" + re.sub(r"[^a-z0-9]+", "-", url))
    finally:
        page.set_viewport_size(WIDE)
    assert not problems, "\n".join(f"{u}: {v}" for u, vs in problems.items() for v in vs)


def test_the_builder_works_by_keyboard_at_375_px(page: Any, empty: tuple[Site, str]) -> None:
    site, _ = empty
    if "trial" not in site.app.state.ctx.journeys.names():
        pytest.skip("needs the flow above (run the module)")
    page.set_viewport_size(NARROW)
    try:
        page.goto("/journeys/trial/builder")
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
        page.set_viewport_size(WIDE)
