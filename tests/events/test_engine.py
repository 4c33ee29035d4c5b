from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import journeykit.engine as je
from journeykit.engine.errors import UnknownEngineError
from journeykit.engine.workspace import import_files
from journeykit.events.schema import EVENT_COLUMNS
from journeykit.workspace import Workspace


def test_events_from_workspace_file_and_table(ws: Workspace, tmp_path: Path) -> None:
    path = tmp_path / "e.csv"
    path.write_text("customer_id,event,timestamp\na,x,2024-01-01\na,x,2024-01-01\n,x,2024-01-01\n")
    import_files(ws, [path])
    engine = je.connect()
    from_ws = engine.events(ws.root)
    from_file = engine.events(path)
    assert list(from_ws.columns) == list(EVENT_COLUMNS) == list(from_file.columns)
    assert from_ws.count().to_pyarrow().as_py() == 1 == from_file.count().to_pyarrow().as_py()
    engine.con.create_table("mine", from_file.to_pyarrow())
    assert engine.events("mine").count().to_pyarrow().as_py() == 1


def test_two_engines_in_one_process_read_one_workspace(ws: Workspace, tmp_path: Path) -> None:
    # The demo and the web app open a workspace more than once; the first reader must not keep
    # the second from opening it.
    path = tmp_path / "e.csv"
    path.write_text("customer_id,event,timestamp\na,x,2024-01-01\n")
    import_files(ws, [path])
    first = je.connect().events(ws.root)
    second = je.connect().events(ws.root)
    assert first.count().to_pyarrow().as_py() == 1 == second.count().to_pyarrow().as_py()


def test_an_empty_workspace_reads_as_no_events(ws: Workspace) -> None:
    assert je.connect().events(ws.root).count().to_pyarrow().as_py() == 0


def test_unknown_scheme_is_an_error() -> None:
    with pytest.raises(UnknownEngineError):
        je.connect("not a url")


def test_duckdb_file_url(tmp_path: Path) -> None:
    from journeykit.engine.duckdb import DuckDBEngine

    engine = je.connect(f"duckdb:///{tmp_path / 'x.duckdb'}")
    assert isinstance(engine, DuckDBEngine)
    engine.execute("CREATE TABLE t AS SELECT 1 AS a")
    assert (tmp_path / "x.duckdb").is_file()


def test_a_statement_that_ends_between_polls_still_reports_its_end() -> None:
    # Progress is polled every 0.1 s; a quick statement must still end its phase at 100%,
    # or a bar shown for an import could stop short (and a quick phase would never show).
    from journeykit.engine.duckdb import DuckDBEngine

    seen: list[float] = []
    engine = DuckDBEngine()
    engine.execute_with_progress("CREATE TABLE t AS SELECT 1 AS x", progress=seen.append)
    assert seen and seen[-1] == 100.0
    assert engine.fetchone("SELECT count(*) FROM t") == (1,)


# Parameters written in as literals (engine.duckdb.inline) read back as DuckDB binds them.
_scalar = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**63), 2**63 - 1),
    st.floats(allow_nan=False, width=64),
    # No lone surrogates: DuckDB can neither bind one nor read one in SQL text (not UTF-8).
    st.text(
        alphabet=st.characters(blacklist_characters="\x00", blacklist_categories=("Cs",)),
        max_size=20,
    ),
    st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31)),
    st.dates(),
)


@settings(max_examples=300, deadline=None)
@given(values=st.lists(st.one_of(_scalar, st.lists(st.integers(0, 2**63 - 1), max_size=4)),
                       min_size=1, max_size=4))  # fmt: skip
def test_inlined_parameters_read_back_as_bound_ones(values: list[Any]) -> None:
    import duckdb

    from journeykit.engine.duckdb import inline

    params = {f"p{i}": v for i, v in enumerate(values)}
    # A quoted '$p0' and a "$p0" identifier stay as they are.
    sql = "SELECT '$p0' AS q, " + ", ".join(f'${k} AS "${k}"' for k in params)
    written, left = inline(sql, params)
    assert left is None
    con = duckdb.connect()
    bound = con.execute(sql, params)
    want, names = bound.fetchall(), [d[0] for d in bound.description]
    got = con.execute(written)
    assert got.fetchall() == want and [d[0] for d in got.description] == names


def test_a_numpy_float_is_written_in_as_its_value() -> None:
    import duckdb
    import numpy as np

    from journeykit.engine.duckdb import inline

    written, left = inline("SELECT $f", {"f": np.float64(0.1)})  # numpy 2's repr: np.float64(…)
    assert left is None
    assert duckdb.connect().execute(written).fetchall() == [(0.1,)]


def test_a_value_without_a_literal_is_bound() -> None:
    from journeykit.engine.duckdb import inline

    assert inline("SELECT $b", {"b": b"\x00"}) == ("SELECT $b", {"b": b"\x00"})
    assert inline("SELECT $s", {"s": "a\x00b"}) == ("SELECT $s", {"s": "a\x00b"})
