"""Ordered windowed funnel counts equal ClickHouse ``windowFunnel`` (run in-process by chDB).

The same simulated log of about a million events goes to both sides as one Parquet file. The
ClickHouse conditions are written here by hand from the journey's ``when`` rules, so the rule
compiler is checked too, and near-miss rows (right event, wrong property or value) are added so a
rule that ignored its property or value test would count too many. Timestamps go to ClickHouse
as integer microseconds, the resolution journeykit compares at (``windowFunnel`` takes an
unsigned integer, ``Date`` or ``DateTime``; ``DateTime64`` is not accepted).
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from journeykit import load_journey
from journeykit.analytics import funnel
from journeykit.analytics.milestones import fetch_milestones
from journeykit.engine.duckdb import DuckDBEngine
from journeykit.events.simulate import SimulationOptions, simulate
from journeykit.journey import Journey, parse_journey
from tests.conftest import EXAMPLES

chdb = pytest.importorskip("chdb", reason="chdb is not installed (it is in the dev extra)")

pytestmark = pytest.mark.slow

# The "team" path of examples/saas-trial.yaml, each `when` rule in ClickHouse SQL.
TEAM_CONDITIONS = (
    "event = 'signed_up'",
    "event = 'board_created'",
    "event = 'teammate_invited' AND ifNull(value >= 1, 0)",
    "event IN ('subscription_started', 'invoice_paid')"
    " AND JSONExtractBool(properties, 'first') = 1",
    "event = 'nps_submitted'",
    "event = 'plan_changed' AND JSONExtractString(properties, 'direction') = 'up'",
    "event = 'subscription_renewed'",
)
# Rows that look like a step but fail its property or value test: (event, properties, value).
NEAR_MISSES = {
    "teammate_invited": ("{}", 0.0),
    "subscription_started": ('{"first":false}', 80.0),
    "invoice_paid": ('{"first":false}', 80.0),
    "plan_changed": ('{"direction":"down"}', 20.0),
}
WINDOWS = (timedelta(days=14), timedelta(days=60), timedelta(days=3650))


@pytest.fixture(scope="module")
def journey() -> Journey:
    return load_journey(next(p for p in EXAMPLES if p.stem == "saas-trial"))


def _with_near_misses(log: pa.Table, seed: int) -> pa.Table:
    """Copies of 30% of each listed step's rows, hours to days later, failing its rule."""
    rng = np.random.default_rng(seed)
    events = log.column("event")
    parts = [log]
    for name, (props, value) in NEAR_MISSES.items():
        rows = np.flatnonzero(pc.equal(events, name).to_numpy(zero_copy_only=False))
        rows = rows[rng.random(len(rows)) < 0.3]
        shift = rng.integers(-5 * 86_400, 20 * 86_400, len(rows)).astype("timedelta64[s]")
        stamps = log.column("timestamp").take(rows).to_numpy() + shift
        parts.append(
            pa.table(
                {
                    "customer_id": log.column("customer_id").take(rows),
                    "event": pa.array([name] * len(rows)),
                    "timestamp": pa.array(stamps, log.schema.field("timestamp").type),
                    "value": pa.array(np.full(len(rows), value)),
                    "properties": pa.array([props] * len(rows)),
                },
                schema=log.schema,
            )
        )
    return pa.concat_tables(parts)


@pytest.fixture(scope="module", params=["s", "h"], ids=["seconds", "hours"])
def events_file(
    journey: Journey, tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Path:
    """The log as simulated (second resolution), and rounded down to the hour: many same-time
    steps (ties go in path order) and many gaps of exactly the window (it is inclusive)."""
    log = simulate(journey, SimulationOptions(customers=115_000, seed=11, duplicates=0.01))
    log = _with_near_misses(
        log.select(["customer_id", "event", "timestamp", "value", "properties"]), 11
    )
    assert log.num_rows > 1_000_000
    if request.param == "h":
        stamps = log.column("timestamp").to_numpy().astype("datetime64[h]").astype("datetime64[s]")
        log = log.set_column(2, "timestamp", pa.array(stamps))
    path = tmp_path_factory.mktemp("chdb") / f"events-{request.param}.parquet"
    pq.write_table(log, path)
    return path


def _chdb_counts(
    path: Path, conditions: tuple[str, ...], windows: tuple[timedelta, ...]
) -> list[list[int]]:
    """Customers reaching each step, per window: one windowFunnel per window, one scan."""
    conds = ", ".join(f"toUInt8(ifNull({c}, 0))" for c in conditions)
    ts = "toUInt64(toUnixTimestamp64Micro(timestamp))"
    levels = ", ".join(
        f"windowFunnel({int(w / timedelta(microseconds=1))})({ts}, {conds}) AS l{i}"
        for i, w in enumerate(windows)
    )
    counts = ", ".join(
        f"countIf(l{i} >= {k + 1})" for i in range(len(windows)) for k in range(len(conditions))
    )
    sql = (
        f"SELECT {counts} FROM (SELECT customer_id, {levels} "
        f"FROM file('{path}', Parquet) GROUP BY customer_id)"
    )
    row = [int(x) for x in chdb.query(sql, "CSV").data().strip().split(",")]
    k = len(conditions)
    return [row[i * k : (i + 1) * k] for i in range(len(windows))]


def test_ordered_funnel_equals_windowfunnel(journey: Journey, events_file: Path) -> None:
    expected = _chdb_counts(events_file, TEAM_CONDITIONS, WINDOWS)
    events = DuckDBEngine().events(events_file)
    frame = fetch_milestones(events, journey, journey.path("team").milestone_ids)
    for window, want in zip(WINDOWS, expected, strict=True):
        got = [s.customers for s in funnel(frame, journey, path="team", window=window).steps]
        assert got == want, f"window {window}"
    # The comparison is not trivial: long journeys, and the window matters.
    assert expected[0][0] > 100_000
    assert expected[0][3] > 5_000
    assert expected[0][3] < expected[1][3] < expected[2][3]
    if events_file.stem == "events-h":
        # Same-time steps occur and count: without them ('strict_increase') fewer go on.
        increasing = _chdb_counts_mode(events_file, TEAM_CONDITIONS, WINDOWS[0], "strict_increase")
        assert increasing[1:] < expected[0][1:]


def test_near_misses_change_the_counts(events_file: Path) -> None:
    """Without the property and value tests ClickHouse counts more: the near misses bite."""
    loose = tuple(c.split(" AND ")[0] for c in TEAM_CONDITIONS)
    window = (timedelta(days=60),)
    assert (
        _chdb_counts(events_file, loose, window)[0][2:]
        != _chdb_counts(events_file, TEAM_CONDITIONS, window)[0][2:]
    )


# One event may match two steps: windowFunnel's default mode lets it serve both, journeykit (like
# windowFunnel's 'strict_once' mode) lets one event serve one step (docs/metrics.md).
OVERLAP = """
id: overlap
title: Overlapping rules
transformation: {from: "Trying", to: "Buying big"}
milestones:
  - {id: trial, title: Trial, phase: pre, when: trial_started}
  - {id: bought, title: Bought, phase: core, when: purchase}
  - {id: big, title: Big purchase, phase: post, when: {event: purchase, value: {gte: 100}}}
paths:
  - {id: main, title: Main, steps: [trial, bought, big]}
"""


def test_one_event_serves_one_step_like_strict_once(tmp_path: Path) -> None:
    journey = parse_journey(OVERLAP)
    log = pa.table(
        {
            "customer_id": ["a", "a", "b", "b", "b"],
            "event": ["trial_started", "purchase", "trial_started", "purchase", "purchase"],
            "timestamp": pa.array(
                np.array(
                    ["2024-01-01", "2024-01-02", "2024-01-01", "2024-01-02", "2024-01-03"],
                    dtype="datetime64[s]",
                )
            ),
            "value": [None, 150.0, None, 20.0, 150.0],
            "properties": ["{}"] * 5,
        }
    )
    path = tmp_path / "overlap.parquet"
    pq.write_table(log, path)
    conditions = (
        "event = 'trial_started'",
        "event = 'purchase'",
        "event = 'purchase' AND value >= 100",
    )
    day = (timedelta(days=7),)
    got = [s.customers for s in funnel(DuckDBEngine().events(path), journey, window=day[0]).steps]
    assert got == [2, 2, 1]  # only b has a second purchase for the third step
    assert _chdb_counts(path, conditions, day) == [
        [2, 2, 2]
    ]  # default: a's one purchase counts twice
    strict_once = _chdb_counts_mode(path, conditions, day[0], "strict_once")
    assert strict_once == got


def _chdb_counts_mode(
    path: Path, conditions: tuple[str, ...], window: timedelta, mode: str
) -> list[int]:
    conds = ", ".join(f"toUInt8(ifNull({c}, 0))" for c in conditions)
    ts = "toUInt64(toUnixTimestamp64Micro(timestamp))"
    w = int(window / timedelta(microseconds=1))
    counts = ", ".join(f"countIf(l >= {k + 1})" for k in range(len(conditions)))
    sql = (
        f"SELECT {counts} FROM (SELECT windowFunnel({w}, '{mode}')({ts}, {conds}) AS l "
        f"FROM file('{path}', Parquet) GROUP BY customer_id)"
    )
    return [int(x) for x in chdb.query(sql, "CSV").data().strip().split(",")]
