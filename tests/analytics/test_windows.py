"""The funnel window: one default for every surface, the path's designed window
(`analytics/windows.py`)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from journeykit.analytics.errors import WindowError
from journeykit.analytics.windows import describe_window, designed_window, parse_window
from journeykit.journey import load_journey
from tests.conftest import EXAMPLES


def test_designed_window_sums_the_allowances() -> None:
    j = load_journey(next(p for p in EXAMPLES if p.stem == "saas-trial"))
    # webinar_first: webinar 7d, first_board 2d, invited_team 5d, subscribed within 21d, referred (30d)
    assert designed_window(j, j.path("webinar_first")) == timedelta(days=7 + 2 + 5 + 21 + 30)


def test_an_undesigned_step_is_allowed_30_days() -> None:
    from tests.analytics.strategies import make_journey

    j = make_journey({"a": "a", "b": "b", "c": "c"}, {"main": ["a", "b", "c"]})
    assert designed_window(j, j.path("main")) == timedelta(days=60)


@pytest.mark.parametrize(
    ("text", "window"),
    [
        ("designed", "designed"),
        ("14d", timedelta(days=14)),
        ("none", None),
        (" 2W ", timedelta(weeks=2)),
    ],
)
def test_parse_window(text: str, window: object) -> None:
    assert parse_window(text) == window


def test_a_window_that_cannot_be_read_says_what_is_expected() -> None:
    with pytest.raises(WindowError, match="'designed', or 'none'"):
        parse_window("soon")


def test_every_funnel_states_its_window() -> None:
    assert describe_window(timedelta(days=35), "designed") == "designed, 35 days"
    assert describe_window(timedelta(days=14), "given") == "14 days"
    assert describe_window(timedelta(hours=36), "given") == "1.5 days"
    assert describe_window(timedelta(hours=12), "given") == "12 hours"
    assert describe_window(None, "given") == "no window"
