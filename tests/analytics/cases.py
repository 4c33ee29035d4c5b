"""What the analytics tests share: small journeys, readers of oracle results, and the glue that
puts a random log on DuckDB for the kernels-against-oracle tests."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import ibis
import numpy as np

from journeykit.journey import Journey
from tests.analytics.strategies import make_journey
from tests.builders import Event, to_arrow

D30 = timedelta(days=30)
Scenario = tuple[Journey, list[Event], timedelta | None, datetime | None]

ONBOARDING = make_journey(
    {"opt_in": "opt_in", "trial": "trial_start", "purchase": "purchase"},
    {"onboarding": ["opt_in", "trial", "purchase"]},
)
ABC = make_journey({"a": "a", "b": "b", "c": "c"}, {"main": ["a", "b", "c"]})


def dt(text: str) -> datetime:
    return datetime.fromisoformat(text)


def counts(result: dict[str, Any]) -> list[int]:
    return [s["customers"] for s in result["steps"]]


def states(result: dict[str, Any]) -> list[tuple[int, int]]:
    return [(s["dropped"], s["in_progress"]) for s in result["steps"]]


def events_table(con: ibis.BaseBackend, events: list[Event]) -> ibis.Table:
    return con.create_table("events", to_arrow(events), overwrite=True)


def us(t: datetime) -> int:
    return int(np.datetime64(t, "us").astype(np.int64))


def has_data(events: list[Event], now: datetime | None) -> bool:
    return bool(events) and (now is None or any(e.timestamp <= now for e in events))
