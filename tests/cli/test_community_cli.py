"""``journeykit community impact|northstar|levels`` as a user runs them."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from journeykit.cli import cli
from tests.analytics.test_community import JOURNEY, _planted


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    import pyarrow.parquet as pq

    root = tmp_path_factory.mktemp("community")
    journey = root / "journey.yaml"
    journey.write_text(JOURNEY, encoding="utf-8")
    table, _ = _planted(n=300)
    events = root / "events.parquet"
    pq.write_table(table, events)
    return journey, events


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_impact_json_has_the_issue_shape(files: tuple[Path, Path]) -> None:
    journey, events = files
    code, out, err = run("community", "impact", str(journey), "--events", str(events),
                         "--format", "json", "--adjust", "cohort")  # fmt: skip
    assert code == 0, err
    data = json.loads(out)
    assert data["outcome"] == "bought"
    assert set(data["members"]) >= {"customers", "rate"}
    assert set(data["non_members"]) >= {"customers", "rate"}
    lo, hi = data["ci95"]
    assert lo < data["difference"] < hi
    assert data["adjusted"]["by"] == ["cohort"] and data["adjusted"]["method"] == "mantel-haenszel"
    assert "left out:" in err


def test_impact_table_prints_the_caveat_and_csv_has_rows(files: tuple[Path, Path]) -> None:
    journey, events = files
    code, out, err = run("community", "impact", str(journey), "--events", str(events))
    assert code == 0, err
    assert "members" in out and "adjusted (cohort, persona)" in out
    assert "not proof of cause" in err
    code, out, _ = run("community", "impact", str(journey), "--events", str(events),
                       "--format", "csv", "--adjust", "none")  # fmt: skip
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [r["group"] for r in rows] == ["members", "non_members", "difference"]


def test_northstar_and_levels(files: tuple[Path, Path]) -> None:
    journey, events = files
    code, out, err = run("community", "northstar", str(journey), "--events", str(events),
                         "--format", "json", "--period", "week")  # fmt: skip
    assert code == 0, err
    data = json.loads(out)
    assert data["period"] == "week" and data["target"] == 0.5 and data["series"]
    code, out, err = run("community", "levels", str(journey), "--events", str(events),
                         "--format", "json")  # fmt: skip
    assert code == 0, err
    assert set(json.loads(out)) >= {"levels", "movements", "drifting_away", "new_and_promising"}


@pytest.mark.parametrize(
    "args,message",
    [
        (["--role", "sucess"], "no role with objective 'sucess' and a north star; did you mean"),
        (["--role", "0"], "--role: roles count from 1, got 0"),
        (["--landmark", "soon"], "expected a duration"),
    ],
)
def test_input_errors_are_one_line(files: tuple[Path, Path], args: list[str], message: str) -> None:
    journey, events = files
    code, _, err = run("community", "impact", str(journey), "--events", str(events), *args)
    assert code == 1 and message in err and "Traceback" not in err
