"""``semantics="clickhouse"`` against ClickHouse itself (chDB) on generated logs, every mode.

The peer is the oracle here: each generated log goes to chDB as Parquet and to journeykit as a
table, and every customer's level must be the same for the mode drawn. Steps are event-name
lists that may share names, so one event often meets several steps (ClickHouse lets it serve
each), ties are common (a 12-hour grid) and the window lands on the grid's edges.
"""

from __future__ import annotations

import tempfile
from datetime import timedelta
from pathlib import Path
from typing import Any

import ibis
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.analytics.peers.support import levels, run
from tests.analytics.strategies import BASE, GRID, GRID_POINTS
from tests.builders import Event, to_arrow

chdb = pytest.importorskip("chdb", reason="chdb is not installed (it is in the dev extra)")

NAMES = ("a", "b", "c", "d")
MODES = (
    (),
    ("strict_order",),
    ("strict_deduplication",),
    ("strict_increase",),
    ("strict_order", "allow_reentry"),
    ("strict_order", "strict_deduplication"),
    ("strict_order", "allow_reentry", "strict_deduplication", "strict_increase"),
)


@st.composite
def cases(draw: st.DrawFn) -> tuple[list[list[str]], list[Event], int, tuple[str, ...]]:
    k = draw(st.integers(1, 4))
    steps = [
        sorted(draw(st.sets(st.sampled_from(NAMES), min_size=1, max_size=2))) for _ in range(k)
    ]
    events = [
        Event(
            f"c{c}",
            draw(st.sampled_from([*NAMES, "noise"])),
            BASE + draw(st.integers(0, GRID_POINTS)) * GRID,
        )
        for c in range(draw(st.integers(1, 6)))
        for _ in range(draw(st.integers(1, 10)))
    ]
    return steps, events, draw(st.sampled_from([1, 2, 5])), draw(st.sampled_from(MODES))


def _chdb_levels(path: Path, steps: list[list[str]], days: int, modes: tuple[str, ...]) -> Any:
    conds = ", ".join("event IN (" + ", ".join(f"'{n}'" for n in names) + ")" for names in steps)
    opts = "".join(f", '{m}'" for m in modes)
    window = days * 86_400 * 1_000_000
    sql = (
        f"SELECT customer_id, windowFunnel({window}{opts})"
        f"(toUInt64(toUnixTimestamp64Micro(timestamp)), {conds}) "
        f"FROM file('{path}', Parquet) GROUP BY customer_id"
    )
    out = chdb.query(sql, "CSV").data()
    return {
        line.split(",")[0].strip('"'): int(line.split(",")[1]) for line in out.strip().splitlines()
    }


@settings(settings.get_profile("analytics"), max_examples=80)
@given(case=cases())
def test_every_mode_agrees_with_chdb(con: ibis.BaseBackend, case: Any) -> None:
    steps, events, days, modes = case
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "events.parquet"
        pq.write_table(to_arrow(events), path)
        expected = _chdb_levels(path, steps, days, modes)
    got = run(
        con,
        [{"event": names} for names in steps],
        events,
        window=timedelta(days=days),
        semantics="clickhouse",
        clickhouse=modes,
    )
    assert levels(got, sorted(expected)) == expected
