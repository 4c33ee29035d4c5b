"""The early win of a path (docs/metrics.md "Early win"), on the hand-made log of
test_opportunities, and the lint for a path without one."""

from __future__ import annotations

import ibis
import pytest
from scipy.stats.contingency import relative_risk

from journeykit import lint, parse_journey
from journeykit.analytics import fetch_milestones
from journeykit.analytics.early_win import early_wins
from journeykit.analytics.intervals import newcombe
from tests.analytics.cases import events_table
from tests.analytics.test_opportunities import JOURNEY, LOG
from tests.builders import events_for


def test_early_win_compares_the_early_with_the_rest(con: ibis.BaseBackend) -> None:
    (w,) = early_wins(fetch_milestones(events_table(con, LOG), JOURNEY), JOURNEY)
    assert (w.path, w.milestone, w.core) == ("main", "b", "c")
    assert (w.entrants, w.reached) == (8, 3)
    assert w.time_to_win is not None and w.time_to_win.median == 86400.0
    assert w.early_within is not None and w.early_within.days == 2  # b's designed 2 days
    assert w.horizon is not None and w.horizon.days == 7  # to c: 2 + 5 days
    # Eligible: entered by March 24 (o1, March 30, has not had 7 days). Early: b1, b2, b3 (b3
    # did not buy); the rest: s1, s2, l1, l2, none bought.
    assert (w.early.customers, w.early.reached_core) == (3, 2)
    assert (w.not_early.customers, w.not_early.reached_core) == (4, 0)
    d = newcombe(2, 3, 0, 4)
    assert w.difference is not None and w.difference.estimate == pytest.approx(2 / 3)
    assert (w.difference.low, w.difference.high) == pytest.approx((d.low, d.high))
    assert w.ratio is None  # nobody on the other side bought: no ratio


def test_ratio_is_scipy_relative_risk(con: ibis.BaseBackend) -> None:
    log = [*LOG, *events_for({
        "n1": [("signup", "2024-03-01", {"kind": "one"}), ("buy", "2024-03-06", {}, 10)],
        "n2": [("signup", "2024-03-01", {"kind": "two"}), ("step_b", "2024-03-05"),
               ("buy", "2024-03-07", {}, 10)],
    })]  # fmt: skip
    (w,) = early_wins(fetch_milestones(events_table(con, log), JOURNEY), JOURNEY)
    assert (w.not_early.customers, w.not_early.reached_core) == (6, 2)  # n2's b came late
    rr = relative_risk(2, 3, 2, 6)
    ci = rr.confidence_interval(0.95)
    assert (w.ratio, w.ratio_low, w.ratio_high) == pytest.approx(
        (rr.relative_risk, ci.low, ci.high)
    )


NO_WIN = """
id: t
title: T
transformation: {from: A, to: B}
milestones:
  - {id: a, title: A, phase: pre, moment: celebrate, stage: acquire, when: a}
  - {id: b, title: B, phase: pre, stage: nurture, when: b}
  - {id: c, title: C, phase: core, stage: convert, moment: celebrate, when: c}
  - {id: d, title: D, phase: post, stage: repeat, when: d}
paths: [{id: main, steps: [a, b, c, d]}]
"""


def test_lint_names_a_path_without_an_early_win() -> None:
    problems = [p for p in lint(parse_journey(NO_WIN)) if "early win" in p.message]
    # The entry step is where customers arrive, not a win; c is the core offer itself.
    assert [p.field for p in problems] == ["paths[0]"]
    assert "'main' has no early win" in problems[0].message and "'c'" in problems[0].message
    fixed = NO_WIN.replace(
        "{id: b, title: B, phase: pre,", "{id: b, title: B, phase: pre, moment: celebrate,"
    )
    assert not [p for p in lint(parse_journey(fixed)) if "early win" in p.message]
