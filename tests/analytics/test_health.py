"""Card health: how a milestone's numbers stand against the design (docs/metrics.md "Map and
report", `analytics/health.py`). The map's cards equal the funnel and positions: tests/report."""

from __future__ import annotations

import pytest

from journeykit.analytics.health import card_health


@pytest.mark.parametrize(
    ("k", "reached", "previous", "conversion", "median", "expected", "reference", "health"),
    [
        (0, 10, 0, None, None, None, None, "entry"),
        (0, 0, 0, None, None, None, None, "none"),
        (2, 0, 0, 0.0, None, 86400.0, 0.5, "none"),
        (1, 5, 10, 0.5, 80000.0, 86400.0, 0.5, "ok"),
        (1, 5, 10, 0.5, 90000.0, 86400.0, 0.5, "slow"),
        (1, 5, 10, 0.5, 2 * 86400.0 + 1, 86400.0, 0.5, "off"),
        (1, 2, 10, 0.2, 100.0, 86400.0, 0.5, "off"),  # conversion under half the typical step
        (1, 3, 10, 0.3, None, None, 0.5, "ok"),
    ],
)
def test_health_against_the_design(
    k, reached, previous, conversion, median, expected, reference, health
) -> None:  # type: ignore[no-untyped-def]
    assert card_health(k, reached, previous, conversion, median, expected, reference)[0] == health
