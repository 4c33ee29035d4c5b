"""Personas and breakdowns: one rule for who is in which group, and funnels per group."""

from __future__ import annotations

import json
import re
from datetime import datetime
from pathlib import Path

import ibis
import pytest
from click.testing import CliRunner

from journeykit.analytics import funnel
from journeykit.analytics.milestones import AnalyticsError
from journeykit.analytics.segments import breakdowns, personas_of
from journeykit.cli import cli
from journeykit.journey import parse_journey
from tests.builders import events_for, to_arrow

JOURNEY = """\
id: t
title: T
transformation: {from: A, to: B}
personas:
  - {id: team, name: Team lead, segment: {event: signed_up, properties: {role: lead}}}
  - {id: solo, name: Solo, segment: {event: signed_up, properties: {seats: {lte: 1}}}}
  - {id: nobody, name: Nobody}
milestones:
  - {id: signed_up, title: Signed up, phase: pre, when: signed_up}
  - {id: trial, title: Trial, phase: pre, when: trial}
  - {id: bought, title: Bought, phase: core, when: order}
paths:
  - {id: main, steps: [signed_up, trial, bought]}
"""

LOG = {
    # lead: team (first in file order wins over solo, which also matches: seats 1)
    "ana": [
        ("visit", "2024-01-01", {"utm": "ads"}),
        ("signed_up", "2024-01-02", {"role": "lead", "seats": 1}),
        ("trial", "2024-01-03"),
        ("order", "2024-01-04"),
    ],
    "ben": [("signed_up", "2024-01-02", {"seats": 1, "utm": "mail"}), ("trial", "2024-01-05")],
    "cy": [("signed_up", "2024-01-03", {"role": "ic", "seats": 5, "utm": 7})],
    "dee": [("visit", "2024-01-01"), ("signed_up", "2024-01-09", {"role": "lead", "utm": "seo"})],
    # after now: not a member of any group, nothing counted
    "eve": [("signed_up", "2024-02-01", {"role": "lead"})],
}
NOW = datetime(2024, 1, 31)


@pytest.fixture(scope="module")
def events() -> ibis.Table:
    return ibis.duckdb.connect().create_table("events", to_arrow(events_for(LOG)))


def test_persona_is_the_first_matching_in_file_order(events: ibis.Table) -> None:
    journey = parse_journey(JOURNEY)
    assert personas_of(events, journey, now=NOW) == {"ana": 0, "ben": 1, "dee": 0}
    assert breakdowns(events, journey, "persona", now=NOW) == {
        "(none)": ["cy"],
        "solo": ["ben"],
        "team": ["ana", "dee"],
    }


def test_property_and_first_touch(events: ibis.Table) -> None:
    journey = parse_journey(JOURNEY)
    # property: the first value each customer has (ana's first event carries utm=ads)
    assert breakdowns(events, journey, "property:utm", now=NOW) == {
        "7": ["cy"],
        "ads": ["ana"],
        "mail": ["ben"],
        "seo": ["dee"],
    }
    # first touch: only the very first event counts; dee's first event has no utm
    assert breakdowns(events, journey, "first:utm", now=NOW) == {
        "(none)": ["dee"],
        "7": ["cy"],
        "ads": ["ana"],
        "mail": ["ben"],
    }


def test_funnel_by_persona_partitions_the_funnel(events: ibis.Table) -> None:
    result = funnel(events, parse_journey(JOURNEY), now=NOW, by="persona")
    assert result.counts == [4, 2, 1]
    assert result.breakdown is not None
    by = {g: [s.customers for s in steps] for g, steps in result.breakdown.items()}
    assert by == {"(none)": [1, 0, 0], "solo": [1, 1, 0], "team": [2, 1, 1]}
    rows = result.rows()
    assert rows[0]["group"] == "(all)" and len(rows) == 3 * 4


def test_bad_by_is_a_clear_error(events: ibis.Table) -> None:
    with pytest.raises(
        AnalyticsError, match=re.escape("--by 'utm': expected persona | property:KEY")
    ):
        funnel(events, parse_journey(JOURNEY), by="utm")


def test_cli_funnel_by_persona(tmp_path: Path) -> None:
    (tmp_path / "j.yaml").write_text(JOURNEY)
    to_csv = to_arrow(events_for(LOG)).to_pandas()
    to_csv.to_csv(tmp_path / "e.csv", index=False)
    args = ["funnel", str(tmp_path / "j.yaml"), "--events", str(tmp_path / "e.csv")]
    out = CliRunner().invoke(
        cli, [*args, "--now", "2024-01-31", "--by", "persona", "--format", "json"]
    )
    assert out.exit_code == 0, out.output
    got = json.loads(out.output)
    assert got["breakdown_by"] == "persona"
    assert {g: [s["customers"] for s in v] for g, v in got["breakdown"].items()} == {
        "(none)": [1, 0, 0],
        "solo": [1, 1, 0],
        "team": [2, 1, 1],
    }
    table = CliRunner().invoke(cli, [*args, "--now", "2024-01-31", "--by", "persona"])
    assert table.exit_code == 0 and "by persona" in table.output and "team" in table.output


def test_cli_raw_event_paths(tmp_path: Path) -> None:
    (tmp_path / "j.yaml").write_text(JOURNEY)
    to_arrow(events_for(LOG)).to_pandas().to_csv(tmp_path / "e.csv", index=False)
    args = ["paths", str(tmp_path / "j.yaml"), "--events", str(tmp_path / "e.csv")]
    out = CliRunner().invoke(
        cli, [*args, "--now", "2024-01-31", "--raw", "--skip", "visit", "--format", "json"]
    )
    assert out.exit_code == 0, out.output
    got = json.loads(out.output)
    assert got["variants"][0] == {
        "steps": ["signed_up"],
        "customers": 2,  # cy and dee (dee's visit is skipped)
        "share": 0.5,
    }
    pairs = {(t["from"], t["to"]): (t["count"], t["median_seconds"]) for t in got["transitions"]}
    assert pairs == {
        ("signed_up", "trial"): (2, (86400 + 3 * 86400) / 2),
        ("trial", "order"): (1, 86400.0),
    }
    bad = CliRunner().invoke(cli, [*args, "--skip", "visit"])
    assert bad.exit_code != 0 and "--only and --skip filter raw events: add --raw" in bad.output


def test_last_touch_several_properties_and_a_limit(events: ibis.Table) -> None:
    journey = parse_journey(JOURNEY)
    # last touch: the value on the customer's latest event (ana's and ben's last events have none)
    assert breakdowns(events, journey, "last:utm", now=NOW) == {
        "(none)": ["ana", "ben"],
        "7": ["cy"],
        "seo": ["dee"],
    }
    # several: each customer's labels joined, in the order asked
    assert breakdowns(events, journey, "property:role, first:utm", now=NOW) == {
        "(none) / mail": ["ben"],
        "ic / 7": ["cy"],
        "lead / (none)": ["dee"],
        "lead / ads": ["ana"],
    }
    # a limit keeps the largest groups (ties by label) and folds the rest into (other)
    assert breakdowns(events, journey, "persona", now=NOW, limit=1) == {
        "(other)": ["ben", "cy"],
        "team": ["ana", "dee"],
    }
    result = funnel(events, journey, now=NOW, by="persona", breakdown_limit=2)
    assert result.breakdown is not None
    by = {g: [s.customers for s in steps] for g, steps in result.breakdown.items()}
    assert by == {"(none)": [1, 0, 0], "(other)": [1, 1, 0], "team": [2, 1, 1]}


def test_all_events_and_a_chosen_step(events: ibis.Table) -> None:
    journey = parse_journey(JOURNEY)
    # all events: every value a customer has, so ana is in ads only (her other events lack utm)
    # and a customer can be in several groups (here none is); (none): no event with a value
    assert breakdowns(events, journey, "all:seats", now=NOW) == {
        "(none)": ["dee"],
        "1": ["ana", "ben"],
        "5": ["cy"],
    }
    with pytest.raises(AnalyticsError, match="cannot be combined"):
        breakdowns(events, journey, "all:utm,persona", now=NOW)
    # step 1's event (signed_up) carries role: lead for ana and dee, ic for cy, none for ben
    result = funnel(events, journey, now=NOW, by="step:1:role")
    assert result.breakdown is not None
    by = {g: [s.customers for s in steps] for g, steps in result.breakdown.items()}
    assert by == {"(none)": [1, 1, 0], "ic": [1, 0, 0], "lead": [2, 1, 1]}
    # step 2's event (trial) has no role: everyone who reached it is (none), the rest too
    result = funnel(events, journey, now=NOW, by="step:2:role")
    assert result.breakdown is not None and list(result.breakdown) == ["(none)"]
    for bad in ("step:4:role", "step:x:role", "step:1"):
        with pytest.raises(AnalyticsError, match="step:N:KEY"):
            funnel(events, journey, now=NOW, by=bad)
    with pytest.raises(AnalyticsError, match="step times"):
        funnel(events, journey, now=NOW, by="step:1:role", mode="any")


def test_all_events_puts_a_customer_in_every_group_of_theirs() -> None:
    log = {
        "a": [("signed_up", "2024-01-01", {"src": "x"}), ("trial", "2024-01-02", {"src": "y"})],
        "b": [("signed_up", "2024-01-01", {"src": "x"})],
    }
    events = ibis.duckdb.connect().create_table("events", to_arrow(events_for(log)))
    result = funnel(events, parse_journey(JOURNEY), by="all:src", breakdown_limit=1)
    assert result.breakdown is not None
    by = {g: [s.customers for s in steps] for g, steps in result.breakdown.items()}
    # x: a and b; y (a) is beyond the limit and goes to (other): a is counted in both
    assert by == {"(other)": [1, 1, 0], "x": [2, 1, 0]}


def test_where_and_cohort_filters(events: ibis.Table) -> None:
    journey = parse_journey(JOURNEY)
    everyone = funnel(events, journey, now=NOW)
    team = funnel(events, journey, now=NOW, where=["persona=team"])
    # the persona breakdown's group, counted the same way
    by = funnel(events, journey, now=NOW, by="persona").breakdown
    assert by is not None and team.counts == [s.customers for s in by["team"]] == [2, 1, 1]
    assert sorted(team.customer_ids.tolist()) == ["ana", "dee"]
    assert team.to_dict()["filters"] == ["persona=team"]
    both = funnel(events, journey, now=NOW, where=["persona=team", "property:utm=seo"])
    assert both.customer_ids.tolist() == ["dee"]
    # cohort: first reached step 1 (signed_up) in that month / ISO week: dee on Jan 9 (week 2)
    assert funnel(events, journey, now=NOW, cohort="2024-01").counts == everyone.counts
    assert funnel(events, journey, now=NOW, cohort="2024-W02").customer_ids.tolist() == ["dee"]
    assert funnel(events, journey, now=NOW, cohort="2023-12").counts == [0, 0, 0]
    with pytest.raises(AnalyticsError, match="no customer has 'boss'; there are"):
        funnel(events, journey, now=NOW, where=["persona=boss"])
    for bad in ("persona", "step:1:role=lead"):
        with pytest.raises(AnalyticsError, match="expected BY=LABEL"):
            funnel(events, journey, now=NOW, where=[bad])
    with pytest.raises(AnalyticsError, match="YYYY-MM"):
        funnel(events, journey, now=NOW, cohort="January")


def test_cli_where_and_cohort(tmp_path: Path) -> None:
    import pyarrow.parquet as pq

    (tmp_path / "j.yaml").write_text(JOURNEY, encoding="utf-8")
    pq.write_table(to_arrow(events_for(LOG)), tmp_path / "e.parquet")
    args = ["funnel", str(tmp_path / "j.yaml"), "--events", str(tmp_path / "e.parquet")]
    args += ["--now", "2024-01-31", "--format", "json", "--where", "persona=team"]
    out = CliRunner().invoke(cli, [*args, "--cohort", "2024-W01"])
    assert out.exit_code == 0, out.output
    got = json.loads(out.stdout)
    assert got["filters"] == ["persona=team", "cohort=2024-W01"]
    assert [s["customers"] for s in got["steps"]] == [1, 1, 1]  # ana
