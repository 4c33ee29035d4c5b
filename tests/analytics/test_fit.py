"""Does the journey fit the data: rules that match nothing, events nothing uses, close names."""

from __future__ import annotations

from pathlib import Path

import ibis
from click.testing import CliRunner

from journeykit.analytics.fit import journey_fit
from journeykit.cli import cli
from journeykit.journey import parse_journey
from tests.builders import events_for, to_arrow

JOURNEY = parse_journey("""\
id: trial
title: Trial
transformation: {from: a, to: b}
milestones:
  - {id: signed_up, title: Signed up, phase: pre, when: signed_up}
  - {id: activated, title: Activated, phase: pre, when: {event: project_created, properties: {size: big}}}
  - {id: subscribed, title: Subscribed, phase: core, when: [subscribed, upgraded]}
""")
LOG = events_for({
    "ana": [("signup", "2024-01-01"), ("project_created", "2024-01-02", {"size": "big"}),
            ("purchase", "2024-01-05"), ("page_view", "2024-01-05")],
    "ben": [("Signed Up", "2024-01-01"), ("page_view", "2024-01-02"), ("page_view", "2024-01-03")],
    "cy": [("signup", "2024-01-02"), ("project_created", "2024-01-03", {"size": "small"})],
})  # fmt: skip


def test_unmatched_rules_are_named_with_close_event_names() -> None:
    fit = journey_fit(ibis.memtable(to_arrow(LOG)), JOURNEY)
    assert fit.matched == {"signed_up": 0, "activated": 1, "subscribed": 0}
    assert [(u.milestone, u.asks_for) for u in fit.unmatched] == [
        ("signed_up", ("signed_up",)), ("subscribed", ("subscribed", "upgraded")),
    ]  # fmt: skip
    # 'signup' is close by spelling; 'Signed Up' once case and spaces are set aside.
    assert fit.unmatched[0].close == (("signup", 2), ("Signed Up", 1))
    assert fit.unmatched[1].close == ()
    assert [(u.event, u.count) for u in fit.unused] == [
        ("page_view", 3), ("signup", 2), ("Signed Up", 1), ("purchase", 1),
    ]  # fmt: skip
    assert fit.lines()[0] == (
        "milestone 'signed_up' matches no event (asks for signed_up); "
        "close: signup (2), Signed Up (1)"
    )


def test_a_journey_that_fits_says_nothing() -> None:
    log = events_for({"ana": [("signed_up", "2024-01-01"), ("subscribed", "2024-01-02"),
                              ("project_created", "2024-01-01", {"size": "big"})]})  # fmt: skip
    fit = journey_fit(ibis.memtable(to_arrow(log)), JOURNEY)
    assert fit.fits and fit.lines() == []


def test_import_and_a_zero_funnel_say_which_milestones_match_nothing(tmp_path: Path) -> None:
    runner = CliRunner()
    ws = tmp_path / "ws"
    assert runner.invoke(cli, ["init", str(ws), "--template", "saas-trial"]).exit_code == 0
    events = tmp_path / "e.csv"
    events.write_text("customer_id,event,timestamp\na,signup,2024-01-01\nb,signup,2024-01-02\n")
    result = runner.invoke(cli, ["import", str(events), "--workspace", str(ws)])
    assert result.exit_code == 0, result.output
    assert "milestone 'signed_up' matches no event (asks for signed_up); close: signup (2)" in (
        " ".join(result.stderr.split())
    )
    result = runner.invoke(cli, ["funnel", str(ws / "journey.yaml"), "--workspace", str(ws)])
    assert result.exit_code == 0, result.output
    assert "frequent events no milestone uses: signup (2)" in " ".join(result.stderr.split())
