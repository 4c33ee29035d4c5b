"""Experiments run elsewhere: an assignments file measured against a milestone; bad files named."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from journeykit.cli import cli
from journeykit.prove import AssignmentsError, read_assignments

JOURNEY = """
id: j
title: J
transformation: {from: a, to: b}
milestones:
  - {id: start, title: Start, phase: pre, when: {event: start}}
  - {id: goal, title: Goal, phase: core, when: {event: goal}}
"""
T0 = datetime(2024, 1, 1)


def _files(tmp_path: Path, n_t: int = 300, n_h: int = 300) -> tuple[Path, Path, Path]:
    """Treatment reaches the goal 2 days after entry for 60% of customers, holdout 30%."""
    events = ["customer_id,event,timestamp"]
    rows = ["customer_id,experiment,arm,entered_at"]
    for i in range(n_t + n_h):
        arm = "treatment" if i < n_t else ("control" if i % 2 else "holdout")
        c = f"c{i}"
        entered = T0 + timedelta(hours=i)
        rows.append(f"{c},exp1,{arm},{entered.isoformat()}")
        events.append(f"{c},start,{(entered - timedelta(days=1)).isoformat()}")
        rate = 0.6 if arm == "treatment" else 0.3
        if (i * 7919) % 100 < rate * 100:
            events.append(f"{c},goal,{(entered + timedelta(days=2)).isoformat()}")
    events.append(f"z,other,{(T0 + timedelta(days=60)).isoformat()}")
    j, e, a = tmp_path / "j.yaml", tmp_path / "e.csv", tmp_path / "a.csv"
    j.write_text(JOURNEY, encoding="utf-8")
    e.write_text("\n".join(events) + "\n", encoding="utf-8")
    a.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return j, e, a


def test_an_experiment_from_elsewhere_is_measured_with_events_file(tmp_path: Path) -> None:
    j, e, a = _files(tmp_path)
    args = ["prove", str(j), "--events", str(e), "--assignments", str(a), "--goal", "goal",
            "--within", "7d", "--format", "json"]  # fmt: skip
    out = CliRunner().invoke(cli, args)
    assert out.exit_code == 0, out.output
    r = json.loads(out.stdout)["results"][0]
    assert r["id"] == "exp1" and r["goal"] == "goal" and r["within"] == "7d"
    t, h = r["arms"]["treatment"], r["arms"]["holdout"]
    brute_t = sum((i * 7919) % 100 < 60 for i in range(300))
    brute_h = sum((i * 7919) % 100 < 30 for i in range(300, 600))
    assert (t["entered"], t["reached"], h["entered"], h["reached"]) == (300, brute_t, 300, brute_h)
    assert r["absolute"]["estimate"] == pytest.approx(brute_t / 300 - brute_h / 300)
    assert r["srm_p_value"] is None and r["verdict"] == "worked"
    assert any("sample-ratio check not possible" in n for n in json.loads(out.stdout)["notes"])
    share = CliRunner().invoke(cli, [*args, "--holdout-share", "0.1"])
    r = json.loads(share.stdout)["results"][0]
    assert r["srm_p_value"] < 0.001 and r["verdict"] is None  # 50/50 is not the designed 90/10


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("c1,exp1,variant_b,2024-01-02", "line 3, field arm: unknown arm 'variant_b'"),
        ("c0,exp1,holdout,2024-01-02", "line 3, field customer_id: 'c0' is already in experiment"),
        ("c1,exp1,holdout,yesterday", "line 3, field entered_at: expected an ISO time"),
        ("c1,exp1,holdout,2031-01-01", "line 3, field entered_at: 2031-01-01 is after the events"),
        ("c1,,holdout,2024-01-02", "line 3, field experiment: empty"),
    ],
)
def test_bad_assignments_name_file_line_and_field(tmp_path: Path, row: str, message: str) -> None:
    path = tmp_path / "a.csv"
    path.write_text(f"customer_id,experiment,arm,entered_at\nc0,exp1,treatment,2024-01-01\n{row}\n")
    with pytest.raises(AssignmentsError, match=message.replace("(", r"\(")) as info:
        read_assignments(path, now_us=1_800_000_000 * 10**6)
    assert str(path) in str(info.value)


def test_missing_columns_are_named(tmp_path: Path) -> None:
    path = tmp_path / "a.csv"
    path.write_text("customer,arm\nc0,treatment\n")
    with pytest.raises(
        AssignmentsError, match="missing column\\(s\\) customer_id, experiment, entered_at"
    ):
        read_assignments(path)


def test_assignments_need_goal_and_window(tmp_path: Path) -> None:
    j, e, a = _files(tmp_path, 10, 10)
    out = CliRunner().invoke(cli, ["prove", str(j), "--events", str(e), "--assignments", str(a)])
    assert out.exit_code == 1 and "--assignments needs --goal MILESTONE and --within" in out.output
    out = CliRunner().invoke(
        cli, ["prove", str(j), "--events", str(e), "--assignments", str(a), "--goal", "gaol",
              "--within", "7d"],
    )  # fmt: skip
    assert out.exit_code == 1 and "did you mean 'goal'" in out.output
