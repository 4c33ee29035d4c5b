"""The measure commands as a user runs them: JSON shapes from the issue, CSV, and input errors."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from journeykit.cli import cli
from tests.builders import events_for, to_arrow

JOURNEY = """\
id: onb
title: Onboarding
transformation: {from: a, to: b}
milestones:
  - {id: opt_in, title: Opt in, phase: pre, when: opt_in}
  - {id: trial_start, title: Trial, phase: pre, when: trial_start, expected_within: 3d}
  - {id: purchase, title: Purchase, phase: core, when: purchase, expected_within: 10d}
"""


def _write(tmp_path: Path, log: list) -> tuple[Path, Path]:
    """The journey above and ``log`` as files, as a user has them."""
    import pyarrow.parquet as pq

    journey = tmp_path / "journey.yaml"
    journey.write_text(JOURNEY, encoding="utf-8")
    events = tmp_path / "events.parquet"
    pq.write_table(to_arrow(log), events)
    return journey, events


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path]:
    log = events_for(
        {
            "ana": [
                ("opt_in", "2024-01-01"),
                ("trial_start", "2024-01-03"),
                ("purchase", "2024-01-20"),
            ],
            "ben": [("opt_in", "2024-01-02"), ("purchase", "2024-01-04")],
            "cy": [("opt_in", "2024-01-05"), ("trial_start", "2024-03-30")],
            "dee": [("opt_in", "2024-03-01")],
        }
    )
    return _write(tmp_path, log)


def run(*args: str) -> str:
    result = CliRunner().invoke(cli, list(args))
    assert result.exit_code == 0, result.output
    return result.stdout


def test_funnel_json(files: tuple[Path, Path]) -> None:
    journey, events = files
    out = json.loads(
        run("funnel", str(journey), "--events", str(events), "--format", "json", "--window", "30d")
    )
    assert out["path"] == "main"
    assert out["window"] == "30 days"
    steps = [(s["milestone"], s["customers"], s["dropped"], s["in_progress"]) for s in out["steps"]]
    # now = 2024-03-30: dee opted in 29 days ago (window 30d still open), the others closed.
    assert steps == [("opt_in", 4, 2, 1), ("trial_start", 1, 0, 0), ("purchase", 1, 0, 0)]
    assert out["steps"][1]["median_seconds_from_previous"] == 2 * 86400


def test_the_default_window_is_the_designed_one(files: tuple[Path, Path]) -> None:
    """The same default as the map, the report and the web: 3d + 10d of expected_within."""
    journey, events = files
    out = json.loads(run("funnel", str(journey), "--events", str(events), "--format", "json"))
    assert (out["window"], out["window_seconds"]) == ("designed, 13 days", 13 * 86400)
    # ana took 19 days from opt-in to purchase: outside 13 days; dee's 13 days have closed too
    steps = [(s["milestone"], s["customers"], s["dropped"], s["in_progress"]) for s in out["steps"]]
    assert steps == [("opt_in", 4, 3, 0), ("trial_start", 1, 1, 0), ("purchase", 0, 0, 0)]
    table = run("funnel", str(journey), "--events", str(events))
    assert "window: designed, 13 days" in table


def test_funnel_window_and_now(files: tuple[Path, Path]) -> None:
    journey, events = files
    out = json.loads(
        run(
            "funnel",
            str(journey),
            "--events",
            str(events),
            "--format",
            "json",
            "--window",
            "none",
            "--now",
            "2024-01-10",
        )
    )
    # As of Jan 10, with no window: dee is not in the data yet, and nobody has dropped (ben and cy
    # wait at opt-in, ana at the trial; her purchase on Jan 20 is after `now`).
    assert [(s["customers"], s["in_progress"]) for s in out["steps"]] == [(3, 2), (1, 1), (0, 0)]


def test_positions_and_stuck(files: tuple[Path, Path]) -> None:
    journey, events = files
    # The journey's own lapse horizon: twice its longest window to the purchase (10d), so dee,
    # quiet for 29 days, is gone rather than stuck.
    out = json.loads(run("positions", str(journey), "--events", str(events), "--format", "json"))
    assert out["summary"] == {"completed": 2, "lapsed": 1, "stuck": 0, "strayed": 0, "on_track": 1}
    args = ("--events", str(events), "--lapsed-after", "90d")
    out = json.loads(run("positions", str(journey), *args, "--format", "json"))
    assert out["summary"] == {"completed": 2, "lapsed": 0, "stuck": 1, "strayed": 0, "on_track": 1}
    by_id = {c["customer_id"]: c for c in out["customers"]}
    assert by_id["ben"]["strays"] == [{"type": "skipped", "milestones": ["trial_start"]}]
    assert by_id["dee"]["status"] == "stuck" and by_id["cy"]["status"] == "on_track"
    rows = list(csv.DictReader(io.StringIO(run("stuck", str(journey), *args, "--format", "csv"))))
    assert [(r["customer_id"], r["milestone"], r["days_waiting"]) for r in rows] == [
        ("dee", "opt_in", "29.0")
    ]
    assert (rows[0]["next"], rows[0]["touchpoints"]) == ("trial_start", "")


def test_stuck_names_the_touchpoint_that_should_move_them(
    files: tuple[Path, Path], tmp_path: Path
) -> None:
    _, events = files
    designed = tmp_path / "with-touchpoints.yaml"
    designed.write_text(
        JOURNEY
        + "lapsed_after: 90d\n"
        + "touchpoints:\n"
        + "  - {from: opt_in, to: trial_start, channel: email, action: Start your trial, owner: ana}\n"
        + "  - {from: opt_in, to: trial_start, channel: in-app, action: Trial banner}\n"
        + "  - {from: trial_start, to: purchase, channel: call, action: Sales call}\n",
        encoding="utf-8",
    )
    out = json.loads(run("stuck", str(designed), "--events", str(events), "--format", "json"))
    assert (out["path"], out["status"]) == ("main", "stuck")
    (dee,) = out["customers"]
    assert (dee["customer_id"], dee["next"]) == ("dee", "trial_start")
    assert dee["touchpoints"] == [
        {"channel": "email", "action": "Start your trial", "owner": "ana"},
        {"channel": "in-app", "action": "Trial banner", "owner": ""},
    ]
    text = run("stuck", str(designed), "--events", str(events), "--format", "csv")
    assert "email: Start your trial; in-app: Trial banner" in text


def test_paths_and_cohorts(files: tuple[Path, Path]) -> None:
    journey, events = files
    out = json.loads(run("paths", str(journey), "--events", str(events), "--format", "json"))
    assert [(v["steps"], v["customers"], v["share"]) for v in out["variants"]] == [
        (["opt_in"], 1, 0.25),
        (["opt_in", "purchase"], 1, 0.25),
        (["opt_in", "trial_start"], 1, 0.25),
        (["opt_in", "trial_start", "purchase"], 1, 0.25),
    ]
    assert {(t["from"], t["to"]): t["count"] for t in out["transitions"]} == {
        ("opt_in", "trial_start"): 2,
        ("trial_start", "purchase"): 1,
        ("opt_in", "purchase"): 1,
    }
    cohorts = json.loads(
        run("cohorts", str(journey), "--events", str(events), "--format", "json", "--days", "7")
    )
    assert [
        (c["week"], c["customers"], c["reached"]["trial_start"]) for c in cohorts["cohorts"]
    ] == [("2024-01-01", 3, 1), ("2024-02-26", 1, 0)]


def test_needs_exactly_one_source(files: tuple[Path, Path]) -> None:
    journey, events = files
    result = CliRunner().invoke(cli, ["funnel", str(journey)])
    assert result.exit_code == 1
    assert "give exactly one of --events FILE, --workspace DIR or --table NAME" in result.stderr
    bad_now = CliRunner().invoke(
        cli, ["funnel", str(journey), "--events", str(events), "--now", "yesterday"]
    )
    assert bad_now.exit_code == 1 and "--now: expected an ISO date" in bad_now.stderr


@pytest.mark.parametrize("command", ["funnel", "positions", "stuck", "cohorts"])
def test_unknown_path_is_one_line(files: tuple[Path, Path], command: str) -> None:
    journey, events = files
    result = CliRunner().invoke(
        cli, [command, str(journey), "--events", str(events), "--path", "mian"]
    )
    assert result.exit_code == 1
    assert result.stderr.strip() == (
        "Error: no path 'mian': this journey designs no paths (use 'main')"
    )


def test_any_order_refuses_exclusions(files: tuple[Path, Path]) -> None:
    journey, events = files
    result = CliRunner().invoke(
        cli,
        ["funnel", str(journey), "--events", str(events), "--mode", "any", "--exclude", "purchase"],
    )
    assert result.exit_code == 1
    assert "exclude works with ordered and strict funnels, not with mode 'any'" in result.stderr


def test_exact_duplicate_rows_are_one_event_and_are_counted(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The same three events, one of them written twice: the copy is left out and said so (on
    stderr, through the warning the reader logs; pytest captures it here)."""
    journey = tmp_path / "journey.yaml"
    journey.write_text(JOURNEY, encoding="utf-8")
    rows = [
        "customer_id,event,timestamp",
        "a,opt_in,2024-01-01",
        "a,trial_start,2024-01-02",
        "a,trial_start,2024-01-02",
        "a,purchase,2024-01-03",
    ]
    events = tmp_path / "events.csv"
    events.write_text("\n".join(rows) + "\n", encoding="utf-8")
    result = CliRunner().invoke(
        cli, ["funnel", str(journey), "--events", str(events), "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    assert [s["customers"] for s in json.loads(result.stdout)["steps"]] == [1, 1, 1]
    assert "1 exact duplicate row(s) counted once" in caplog.text


def test_odd_timestamps_in_an_events_file_are_left_out_not_a_traceback(tmp_path: Path) -> None:
    journey = tmp_path / "journey.yaml"
    journey.write_text(JOURNEY, encoding="utf-8")
    events = tmp_path / "events.csv"
    odd = ("10000-01-01", "0000-01-01", "8999999999999999", "infinity", "epoch")
    rows = [f"x{i},opt_in,{t}\nx{i},trial_start,{t}\n" for i, t in enumerate(odd)]
    edge = "ana,opt_in,9999-12-31 23:59:59.999998\nana,trial_start,9999-12-31 23:59:59.999999\n"
    events.write_text("customer_id,event,timestamp\n" + "".join(rows) + edge, encoding="utf-8")
    for command in ("funnel", "positions", "stuck", "paths", "cohorts"):
        out = run(command, str(journey), "--events", str(events), "--format", "json")
        assert "x0" not in out
    positions = json.loads(
        run("positions", str(journey), "--events", str(events), "--format", "json")
    )
    assert [p["reached_at"] for p in positions["customers"]] == ["9999-12-31T23:59:59.999999"]


def test_a_window_longer_than_a_century_is_one_line(files: tuple[Path, Path]) -> None:
    journey, events = files
    result = CliRunner().invoke(
        cli, ["funnel", str(journey), "--events", str(events), "--window", "999999999d"]
    )
    assert result.exit_code == 1
    assert "a duration must be at most 36500d (100 years), got '999999999d'" in result.output


def test_funnel_with_a_peers_semantics(files: tuple[Path, Path]) -> None:
    """--semantics clickhouse counts as windowFunnel: no one is in progress (ClickHouse has no
    open attempts), and the output says which semantics it used."""
    journey, events = files
    args = ("funnel", str(journey), "--events", str(events), "--window", "30d")
    out = json.loads(
        run(*args, "--format", "json", "--semantics", "clickhouse", "--mode", "strict")
    )
    assert out["semantics"] == "clickhouse"
    assert [(s["customers"], s["in_progress"]) for s in out["steps"]] == [(4, 0), (1, 0), (1, 0)]
    assert "clickhouse semantics" in run(*args, "--semantics", "clickhouse")
    bad = CliRunner().invoke(cli, [*args, "--clickhouse-mode", "strict_increase"])
    assert bad.exit_code == 1 and "need semantics 'clickhouse'" in bad.output


def test_funnel_people_and_trends(files: tuple[Path, Path]) -> None:
    """--people lists who converted (or --dropped) at a step; --trends gives conversion per
    entry period; both read the same funnel as the steps."""
    journey, events = files
    args = ("funnel", str(journey), "--events", str(events), "--window", "30d")
    out = json.loads(run(*args, "--format", "json", "--people", "trial_start"))
    assert out == {"path": "main", "step": "trial_start", "converted": ["ana"]}
    out = json.loads(run(*args, "--format", "json", "--people", "2", "--dropped"))
    assert out["dropped"] == ["ben", "cy"]  # dee's window is still open
    rows = list(csv.DictReader(io.StringIO(run(*args, "--format", "csv", "--trends", "month"))))
    assert [(r["period"], r["entered"], r["converted"]) for r in rows] == [
        ("2024-01-01", "3", "1"),
        ("2024-03-01", "1", "0"),
    ]


def test_funnel_date_range(files: tuple[Path, Path]) -> None:
    """--from leaves earlier events out; --to is the range's last day (the funnel's "now")."""
    journey, events = files
    args = ("funnel", str(journey), "--events", str(events), "--window", "30d", "--format", "json")
    out = json.loads(run(*args, "--from", "2024-01-02", "--to", "2024-01-31"))
    # ana's opt-in (Jan 1) is out of range; ben and cy opted in within it; dee (March) is after.
    assert [s["customers"] for s in out["steps"]] == [2, 0, 0]
    assert out["now"] == "2024-01-31T23:59:59.999999"
    bad = CliRunner().invoke(cli, [*args, "--to", "2024-01-31", "--now", "2024-01-31"])
    assert bad.exit_code == 2 and "--to and --now" in bad.output


def test_funnel_calendar_month_window_and_step_attribution(files: tuple[Path, Path]) -> None:
    journey, events = files
    args = ("funnel", str(journey), "--events", str(events), "--format", "json")
    out = json.loads(run(*args, "--window", "1mo"))
    assert (out["window"], out["window_months"], out["window_seconds"]) == (
        "1 calendar month",
        1,
        None,
    )
    # ana reaches purchase 19 days after opting in: within a month; cy's trial (Mar 30) is not
    # within a month of Jan 5; dee opted in on Mar 1 and now (Mar 30) is before Apr 1: in progress
    steps = [(s["customers"], s["dropped"], s["in_progress"]) for s in out["steps"]]
    assert steps == [(4, 2, 1), (1, 0, 0), (1, 0, 0)]
    by_step = json.loads(run(*args, "--window", "1mo", "--by", "step:2:plan"))
    assert list(by_step["breakdown"]) == ["(none)"]
    bad = CliRunner().invoke(cli, [*args, "--window", "0mo"])
    assert bad.exit_code != 0 and "1 to 1200 months" in bad.output


def test_funnel_aggregate_by_a_group_id(tmp_path: Path) -> None:
    log = events_for(
        {
            # two people of one company: together the company opted in, trialled and bought
            "ana": [
                ("opt_in", "2024-01-01", {"org": "acme"}),
                ("purchase", "2024-01-05", {"org": "acme"}),
            ],
            "ben": [("trial_start", "2024-01-02", {"org": "acme"})],
            "cy": [("opt_in", "2024-01-03", {"org": "zeta"}), ("trial_start", "2024-01-04")],
        }
    )
    journey, events = _write(tmp_path, log)
    args = ("funnel", str(journey), "--events", str(events), "--format", "json", "--window", "30d")
    out = json.loads(run(*args, "--aggregate-by", "property:org"))
    assert [s["customers"] for s in out["steps"]] == [2, 1, 1]
    assert (out["aggregate_by"], out["events_without_unit"]) == ("property:org", 1)
    assert [s["customers"] for s in json.loads(run(*args))["steps"]] == [2, 1, 0]
    bad = CliRunner().invoke(cli, [*args, "--aggregate-by", "org"])
    assert bad.exit_code != 0 and "expected property:KEY" in bad.output


def test_funnel_correlation(tmp_path: Path) -> None:
    log = events_for(
        {
            "ana": [("opt_in", "2024-01-01"), ("demo", "2024-01-02", {"via": "ads"}),
                    ("trial_start", "2024-01-03"), ("purchase", "2024-01-04")],
            "ben": [("opt_in", "2024-01-01"), ("trial_start", "2024-01-02"),
                    ("faq", "2024-01-01 12:00"), ("purchase", "2024-05-01")],
        }
    )  # fmt: skip
    journey, events = _write(tmp_path, log)
    args = ("funnel", str(journey), "--events", str(events), "--window", "30d")
    out = json.loads(run(*args, "--format", "json", "--correlation"))
    assert (out["success_total"], out["failure_total"]) == (1, 1)
    rows = {r["label"]: (r["correlation"], r["success"], r["failure"]) for r in out["correlations"]}
    assert rows == {"demo": ("success", 1, 0), "faq": ("failure", 0, 1)}
    by = json.loads(run(*args, "--format", "json", "--correlation-property", "via"))
    assert [r["label"] for r in by["correlations"]] == ["demo via=ads"]
    assert "demo" in run(*args, "--correlation")
