"""The design commands, as a user runs them: exit codes, stdout for data, stderr for people."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from journeykit.cli import cli
from journeykit.journey.jsonschema import journey_json_schema_text
from tests.conftest import EXAMPLES
from tests.journey.test_load import MINIMAL


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def test_validate_examples_exit_zero(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["validate", *map(str, EXAMPLES)])
    assert result.exit_code == 0, result.output
    assert result.stderr.count(": valid") == len(EXAMPLES)
    assert result.stdout == ""


def test_validate_reports_errors_with_lines_and_exit_one(runner: CliRunner, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(MINIMAL.replace("phase: core", "phase: centre"), encoding="utf-8")
    good = tmp_path / "good.yaml"
    good.write_text(MINIMAL, encoding="utf-8")
    result = runner.invoke(cli, ["validate", str(bad), str(good)])
    assert result.exit_code == 1
    assert (
        "error: bad.yaml:11: milestones[1].phase: expected 'pre', 'core' or 'post', got 'centre'"
    ) in result.stderr
    assert f"{good}: valid (2 warning(s))" in result.stderr
    assert "warning: good.yaml:4: milestones: no post-purchase milestone" in result.stderr


def test_validate_strict_fails_on_warnings(runner: CliRunner, tmp_path: Path) -> None:
    good = tmp_path / "good.yaml"
    good.write_text(MINIMAL, encoding="utf-8")
    assert runner.invoke(cli, ["validate", "--strict", str(good)]).exit_code == 1
    assert runner.invoke(cli, ["validate", "--strict", str(EXAMPLES[0])]).exit_code == 0


def test_validate_missing_file_is_a_usage_error(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(cli, ["validate", str(tmp_path / "nope.yaml")])
    assert result.exit_code == 2 and "does not exist" in result.stderr


def test_schema_prints_json_schema(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(cli, ["schema"])
    assert result.exit_code == 0
    assert json.loads(result.stdout)["title"] == "Journey"
    out = tmp_path / "s.json"
    assert runner.invoke(cli, ["schema", "-o", str(out)]).exit_code == 0
    assert out.read_text("utf-8") == journey_json_schema_text()


def test_init_creates_a_workspace_and_refuses_to_overwrite(
    runner: CliRunner, tmp_path: Path
) -> None:
    target = tmp_path / "ws"
    result = runner.invoke(cli, ["init", str(target), "--template", "coding-course"])
    assert result.exit_code == 0, result.output
    assert (target / "journeykit.toml").is_file()
    assert "From zero to a first developer job" in (target / "journey.yaml").read_text("utf-8")
    again = runner.invoke(cli, ["init", str(target)])
    assert again.exit_code == 1
    assert "is not empty; choose a new folder or pass --force" in again.stderr
    unknown = runner.invoke(cli, ["init", str(tmp_path / "x"), "--template", "coding"])
    assert unknown.exit_code == 2 and "'coding' is not one of" in unknown.stderr


def test_mermaid(runner: CliRunner) -> None:
    path = next(p for p in EXAMPLES if p.stem == "saas-trial")
    result = runner.invoke(cli, ["mermaid", str(path)])
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[:3] == [
        "journey",
        "    title Planboard free trial to a team that plans in the tool",
        "    section Before the core offer",
    ]
    assert "      Signed up for the trial: 5: Tara the team lead, Sam the solo maker" in lines
    assert (
        "      Trial ends with an empty board: 1: Tara the team lead, Sam the solo maker" in lines
    )
    by_stage = runner.invoke(cli, ["mermaid", str(path), "--by", "stage", "--path", "team"])
    assert "    section Acquire leads" in by_stage.stdout
    assert "Referred another team" not in by_stage.stdout  # not on the 'team' path


def test_mermaid_escapes_its_separators(tmp_path: Path, runner: CliRunner) -> None:
    path = tmp_path / "j.yaml"
    path.write_text(MINIMAL.replace("title: Signed up", "title: 'Step 1: sign up; #1'"), "utf-8")
    result = runner.invoke(cli, ["mermaid", str(path)])
    assert "      Step 1 - sign up, 1: 3: Member" in result.stdout.splitlines()


def test_demo_writes_a_workspace_and_prints_the_outline(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(cli, ["demo", "--dir", str(tmp_path / "demo")])
    assert result.exit_code == 0, result.output
    assert "FROM Our roadmap lives in five spreadsheets" in result.stdout
    assert "PRE (before the core offer)" in result.stdout
    assert "+ Subscribed to a team plan [purchase]  (within 14d)" in result.stdout
    assert (tmp_path / "demo" / "journey.yaml").is_file()
    # The demo ends with the living map and the report, and says where they are.
    for name in ("map.html", "report.html"):
        written = (tmp_path / "demo" / name).resolve()
        assert written.is_file()
        assert str(written) in result.stdout.replace("\n", "")
    assert 'data-milestone="subscribed"' in (tmp_path / "demo" / "map.html").read_text("utf-8")
    # It ends with where to act first (three leaks, each with value, pain and what is done) and
    # two consented stories with where to show them; the report has the same sections.
    tail = result.stdout[result.stdout.index("where to act first") :]
    assert [ln[:6] for ln in tail.splitlines() if ln.startswith("   ") and ln[3:4].isdigit()] == [
        "   1. ", "   2. ", "   3. "]  # fmt: skip
    assert sum(ln.endswith(" at stake") for ln in tail.splitlines()) == 3
    assert tail.count("pain behind it:") == 3
    assert tail.count("being done:") == 3
    stories = tail[tail.index("stories to show") :]
    assert stories.count("show it at:") == 2 and "speaks to" in stories
    report = (tmp_path / "demo" / "report.html").read_text("utf-8")
    for section in ("opportunities", "stories", "heroes"):
        assert f'<section id="{section}"' in report
    assert report.count('class="hero"') == 2  # one per persona


def test_mermaid_with_plays(runner: CliRunner) -> None:
    path = next(p for p in EXAMPLES if p.stem == "saas-trial")
    plain = runner.invoke(cli, ["mermaid", str(path)]).stdout
    assert "section Plays" not in plain
    result = runner.invoke(cli, ["mermaid", str(path), "--plays"])
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    start = lines.index("    section Plays")
    assert lines[:start] == plain.rstrip("\n").splitlines()
    assert lines[start + 1] == (
        "      Help new trials build their first board (stuck at Signed up for the trial): 2: "
        "product"
    )
    assert len([ln for ln in lines[start + 1 :] if ln]) == 5
