"""The same analyses give the same answers on DuckDB and on Spark (local mode)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import ibis
import pyarrow as pa
import pytest

from journeykit import load_journey
from journeykit.analytics import cohorts, funnel, paths, positions
from journeykit.events.simulate import SimulationOptions, simulate
from journeykit.journey import EventRule, Journey
from tests.conftest import EXAMPLES

pytestmark = pytest.mark.spark


@pytest.fixture(scope="module")
def journey() -> Journey:
    return load_journey(next(p for p in EXAMPLES if p.stem == "saas-trial"))


@pytest.fixture(scope="module")
def log(journey: Journey) -> pa.Table:
    table = simulate(journey, SimulationOptions(customers=400, seed=3, duplicates=0.0))
    return table.select(["customer_id", "event", "timestamp", "value", "properties"])


@pytest.fixture(scope="module")
def spark_events(log: pa.Table) -> Iterator[Any]:
    pytest.importorskip("pyspark")
    from journeykit.engine.spark import SparkEngine

    engine = SparkEngine.from_url("spark://local[2]")
    yield engine.upload(log)
    engine.con.disconnect()


def _results(events: Any, journey: Journey) -> dict[str, Any]:
    return {
        f"funnel-{mode}": funnel(events, journey, mode=mode, window=timedelta(days=14)).to_dict()
        for mode in ("ordered", "strict", "any")
    } | {
        "positions": positions(events, journey).to_dict(),
        "paths": paths(events, journey, top=None).to_dict(),
        "cohorts": cohorts(events, journey, days=30).to_dict(),
    }


def _names_only(journey: Journey) -> Journey:
    milestones = tuple(
        m.model_copy(update={"when": EventRule(event=tuple(sorted(m.when.event_names())))})
        if m.when
        else m
        for m in journey.milestones
    )
    return journey.model_copy(update={"milestones": milestones})


def test_duckdb_and_spark_agree(journey: Journey, log: pa.Table, spark_events: Any) -> None:
    journey = _names_only(journey)
    duck = ibis.duckdb.connect().create_table("events", log)
    expected = _results(duck, journey)
    assert expected["funnel-ordered"]["steps"][0]["customers"] > 300  # the log is not trivial
    assert expected["positions"]["summary"]["stuck"] > 0
    assert _results(spark_events, journey) == expected


def test_duckdb_and_spark_agree_on_property_rules(
    journey: Journey, log: pa.Table, spark_events: Any
) -> None:
    duck = ibis.duckdb.connect().create_table("events", log)
    assert _results(spark_events, journey) == _results(duck, journey)
