"""`analytics.fetch.to_arrow`: ibis's ``to_pyarrow``, value for value and type for type, without
pandas on DuckDB; ibis's own path on Spark."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from datetime import datetime
from typing import Any

import ibis
import pyarrow as pa
import pytest

from journeykit.analytics.fetch import to_arrow

ROWS = pa.table(
    {
        "customer_id": ["b", "a", None, "c", "a"],
        "event": ["x", "y", "x", "z", "x"],
        "timestamp": pa.array(
            [datetime(2024, 1, d, 12, 0, 0, 5) for d in (3, 1, 2, 5, 4)], pa.timestamp("us")
        ),
        "value": [1.5, None, 2.0, 0.0, -3.25],
        "n": pa.array([1, 2, None, 4, 5], pa.int32()),
        "flag": [True, None, False, True, False],
        "properties": ['{"k": 1}', None, "{}", '{"k": "s"}', "[1]"],
    }
)


def _expressions(t: ibis.Table) -> dict[str, Any]:
    who = ibis.memtable(pa.table({"customer_id": ["a", "c"]}))
    return {
        "ordered": t.order_by(["customer_id", "timestamp"]),
        "empty": t.filter(t.value > 100),
        "grouped": t.group_by("customer_id").agg(last=t.timestamp.max(), n=t.count()),
        "semi-join on a memtable": t.filter(t.customer_id.isin(who.customer_id)),
        "cast and json": t.select(
            k=t.properties.cast("json")["k"].str, day=t.timestamp.date(), v=t.value.cast("int16")
        ),
        "column": t.order_by("timestamp").event,
        "max": t.timestamp.max(),
        "count": t.count(),
        "null scalar": t.filter(t.value > 100).timestamp.min(),
        "null-typed column": t.select("event", nothing=ibis.null()),
    }


@pytest.mark.parametrize("name", list(_expressions(ibis.memtable(ROWS))))
def test_same_as_to_pyarrow_on_duckdb(con: ibis.BaseBackend, name: str) -> None:
    expr = _expressions(con.create_table("rows", ROWS, overwrite=True))[name]
    got, want = to_arrow(expr), expr.to_pyarrow()
    assert type(got) is type(want)
    assert got.equals(want)
    if isinstance(want, pa.Table):
        assert got.schema.equals(want.schema, check_metadata=True)
    else:
        assert got.type == want.type


def test_no_pandas_on_duckdb() -> None:
    """In a fresh interpreter: fetching a table, a column and a scalar leaves pandas unloaded."""
    code = textwrap.dedent(
        """
        import sys
        import duckdb, ibis
        from journeykit.analytics.fetch import to_arrow
        raw = duckdb.connect()
        raw.execute("CREATE TABLE t AS SELECT range AS i, 'c' || range AS c FROM range(10)")
        t = ibis.duckdb.from_connection(raw).table("t")
        assert to_arrow(t.order_by("i")).num_rows == 10
        assert to_arrow(t.c).to_pylist()[0] == "c0"
        assert to_arrow(t.i.max()).as_py() == 9
        print("pandas" in sys.modules)
        """
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"


@pytest.mark.spark
def test_same_as_to_pyarrow_on_spark(spark: Any) -> None:
    t = spark.upload(ROWS.drop_columns(["properties"]), "fetch_rows")
    for expr in (t.order_by(["customer_id", "timestamp"]), t.event, t.timestamp.max()):
        got, want = to_arrow(expr), expr.to_pyarrow()
        assert got.equals(want)
