"""An ibis expression's result as Arrow, on whichever backend the expression is bound to.

On DuckDB, ibis's own ``to_pyarrow`` loads its pandas converter (ibis.formats.pandas) for every
fetch, and so pandas: 0.1-0.15 CPU s of a whole analysis from a file, which mostly never needs
it otherwise (docs/benchmarks.md, "Target 4 without pandas"). Here the expression is compiled by
ibis and run on the same DuckDB connection, and the Arrow result is cast to the expression's
schema as ibis's ``to_pyarrow`` casts it. Every other backend (Spark, PostgreSQL, ...) goes
through ibis's ``to_pyarrow`` unchanged.

Nothing here imports an engine: the DuckDB connection is the one the expression's backend holds.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import ibis.expr.types as ir


def to_arrow(expr: ir.Expr) -> Any:
    """``expr.to_pyarrow()``: a table as ``pa.Table``, a column as an Arrow array, a scalar as
    ``pa.Scalar``, with the same values and types; without pandas on DuckDB."""
    import ibis

    backend = ibis.get_backend(expr)
    table_expr = expr.as_table()
    schema = table_expr.schema()
    # Null-typed columns (ibis's DuckDB converter makes them Arrow nulls) and geometries (which
    # need DuckDB's spatial extension loaded first) keep ibis's own path.
    plain = not schema.geospatial and not any(t.is_null() for t in schema.types)
    if backend.name != "duckdb" or not plain:
        return expr.to_pyarrow()
    backend._run_pre_execute_hooks(expr)  # registers memtables and UDFs, as to_pyarrow does
    table = backend.con.sql(backend.compile(table_expr)).to_arrow_table()
    return expr.__pyarrow_result__(table)
