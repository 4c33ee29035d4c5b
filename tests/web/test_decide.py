"""Opportunities, the proof library and heroes on every surface: the CLI, the report, the web
pages, the exports and the API show the same numbers (one pipeline), and a story without consent
leaves by none of them."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from journeykit.cli import cli
from tests.web.conftest import Site, make_site

SECRET = "NOCONSENT-7f3a"
HOSTILE = "<script>window.__pwned=1</script><img src=x onerror=alert(1)>"
ANSWERS = [
    ("r1", "hired", "yes",
     "I was afraid of spending my savings on a course and not getting hired. "
     "Now I work as a developer and love it."),
    ("r2", "hired", "no", f"I felt too old to start. Now I am hired at last {SECRET}."),
    ("r3", "enrolled", "yes",
     f"Free tutorials never added up to a real project {HOSTILE}. "
     "Now I have a clear plan from zero to hired."),
    ("r4", "first_project", "", f"I had gaps in my CV. Now my portfolio gets interviews {SECRET}."),
    ("r5", "enrolled", "yes", "The price was far too high for me and I struggled to pay."),
    ("r6", "enrolled", "yes", "Paying for the course was hard and the price felt too high."),
    ("r7", "enrolled", "no", f"The price is too high {SECRET}, a real struggle."),
]  # fmt: skip


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    site = make_site(tmp_path_factory.mktemp("decide") / "ws", customers=400)
    folder = site.root / "answers"
    folder.mkdir()
    with (folder / "a.csv").open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["respondent", "stage", "consent", "answer"])
        writer.writerows(ANSWERS)
    yield site
    site.app.state.ctx.imports.wait()


def _cli(site: Site, *args: str) -> str:
    journey = str(site.root / "journey.yaml")
    answers = str(site.root / "answers" / "a.csv")
    cmd = [args[0], journey, "--workspace", str(site.root), "--answers", answers,
           "--stage-column", "stage", "--respondent-column", "respondent", *args[1:]]  # fmt: skip
    result = CliRunner().invoke(cli, cmd)
    assert result.exit_code == 0, result.output
    return result.stdout


def test_cli_and_api_give_the_same_opportunities(site: Site) -> None:
    from_cli = json.loads(_cli(site, "opportunities", "--format", "json"))
    api = site.client("viewer").get("/api/journeys/journey/opportunities?answers=a.csv")
    assert api.status_code == 200
    assert api.json() == from_cli
    ranked = from_cli["opportunities"]
    assert ranked and ranked[0]["value"]["value_at_stake"] >= ranked[-1]["value"]["value_at_stake"]
    assert from_cli["by_persona"].keys() == {"career_changer", "graduate"}


def test_the_report_and_the_page_show_the_commands_numbers(site: Site, tmp_path: Path) -> None:
    from journeykit.report.decisions import value_text

    from_cli = json.loads(_cli(site, "opportunities", "--format", "json"))
    _cli(site, "report", "-o", str(tmp_path / "r.html"))
    report = (tmp_path / "r.html").read_text("utf-8")
    page = site.client("viewer").get("/journeys/journey/opportunities?answers=a.csv").text
    for o in from_cli["opportunities"][:5]:
        v = o["value"]
        shown = f"{v['value_at_stake']:,.0f} ({v['low']:,.0f} to {v['high']:,.0f})"
        assert shown in report and shown in page
        assert f'data-opportunity="{o["id"]}"' in page
    assert 'class="opportunity-tree"' in report and "flowchart LR" in report
    heroes = json.loads(_cli(site, "hero", "--format", "json"))
    api = site.client("viewer").get("/api/journeys/journey/hero?answers=a.csv").json()
    assert api == heroes
    for h in heroes:
        call = h["numbers"]["call"]
        assert f"{call['reached']:,} of {h['numbers']['entrants']:,}" in report
    top = from_cli["opportunities"][0]
    assert top["affected"] > 0 and value_text  # the report formats values with value_text


def test_no_story_without_consent_leaves(site: Site, tmp_path: Path) -> None:
    exits: dict[str, str] = {}
    exits["cli json"] = _cli(site, "proof", "--format", "json")
    exits["cli csv"] = _cli(site, "proof", "--format", "csv")
    _cli(site, "proof", "-o", str(tmp_path / "s.csv"), "--wall", str(tmp_path / "wall"))
    _cli(site, "proof", "-o", str(tmp_path / "s.json"))
    exits["export csv"] = (tmp_path / "s.csv").read_text("utf-8")
    exits["export json"] = (tmp_path / "s.json").read_text("utf-8")
    walls = sorted((tmp_path / "wall").glob("wall-*.html"))
    assert walls
    for w in walls:
        exits[w.name] = w.read_text("utf-8")
    _cli(site, "report", "-o", str(tmp_path / "r.html"))
    exits["report"] = (tmp_path / "r.html").read_text("utf-8")
    exits["cli opportunities"] = _cli(site, "opportunities", "--format", "json")
    exits["cli hero"] = _cli(site, "hero", "--format", "json")
    c = site.client("viewer")
    for url in ("/journeys/journey/stories", "/journeys/journey/stories.csv",
                "/journeys/journey/stories/wall/career_changer", "/journeys/journey/stories/wall/graduate",
                "/journeys/journey/opportunities", "/journeys/journey/hero",
                "/journeys/journey/themes", "/api/journeys/journey/stories",
                "/api/journeys/journey/opportunities", "/api/journeys/journey/hero",
                "/api/journeys/journey/themes"):  # fmt: skip
        r = c.get(url + "?answers=a.csv")
        assert r.status_code in (200, 404), (url, r.status_code)
        exits[url] = r.text
    leaked = [name for name, text in exits.items() if SECRET in text]
    assert leaked == []
    # The consented stories do leave, so the exits are not empty by accident.
    assert "Now I work as a developer and love it." in exits["export csv"]
    assert json.loads(exits["/api/journeys/journey/stories"])["withheld_without_consent"] == 2
    # The team sees every story in the workspace's terminal, marked.
    assert SECRET in _cli(site, "proof")


def test_csv_exports_keep_formulas_as_text(site: Site) -> None:
    rows = list(csv.DictReader(io.StringIO(
        site.client("viewer").get("/journeys/journey/stories.csv?answers=a.csv").text
    )))  # fmt: skip
    assert rows and all(not r["after"].startswith(("=", "+", "@")) for r in rows)


def test_hostile_text_is_escaped_on_the_pages(site: Site, tmp_path: Path) -> None:
    c = site.client("viewer")
    html = c.get("/journeys/journey/stories?answers=a.csv").text
    assert HOSTILE not in html and "&lt;script&gt;window.__pwned=1&lt;/script&gt;" in html
    _cli(site, "proof", "--wall", str(tmp_path / "w"))
    for wall in (tmp_path / "w").glob("*.html"):
        assert "<script>" not in wall.read_text("utf-8")
    mermaid = _cli(site, "opportunities", "--format", "mermaid")
    assert mermaid.startswith("flowchart LR\n")
    assert "<script" not in mermaid


def test_unknown_persona_and_bad_export(site: Site, tmp_path: Path) -> None:
    journey = str(site.root / "journey.yaml")
    r = CliRunner().invoke(cli, ["opportunities", journey, "--workspace", str(site.root),
                                 "--persona", "nobody"])  # fmt: skip
    assert (
        r.exit_code == 1
        and "--persona 'nobody': expected one of career_changer, graduate" in r.output
    )
    r = CliRunner().invoke(cli, ["proof", journey, "--workspace", str(site.root), "-o",
                                 str(tmp_path / "x.txt")])  # fmt: skip
    assert r.exit_code == 1 and "export stories to a .csv or .json file" in r.output
    assert site.client("viewer").get("/journeys/journey/stories/wall/nobody").status_code == 404
