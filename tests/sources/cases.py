"""Helpers shared by the database-source tests: putting events into PostgreSQL, reading a
workspace back."""

from __future__ import annotations

import pyarrow as pa

from journeykit.events.simulate import SimulationOptions, simulate
from journeykit.journey import parse_journey
from journeykit.journey.templates import template_text
from journeykit.workspace import Workspace
from tests.events.conftest import db_rows as workspace_rows
from tests.events.conftest import snapshot as events_snapshot

__all__ = ["JOURNEY", "create_events_table", "simulated", "snapshot", "workspace_rows"]

JOURNEY = parse_journey(template_text("saas-trial"))


def simulated(customers: int, seed: int = 1) -> pa.Table:
    """A journey's events with an ``id`` column 1..n (the source table's primary key)."""
    table = simulate(JOURNEY, SimulationOptions(customers=customers, seed=seed))
    ids = pa.array(range(1, table.num_rows + 1), pa.int64())
    return table.add_column(0, "id", ids)


def create_events_table(
    pg_url: str, name: str, table: pa.Table, *, updated_at: bool = False
) -> None:
    """``name`` with the table's rows, ``id`` its primary key; ``updated_at`` (indexed) when
    asked, set to each row's timestamp."""
    import adbc_driver_postgresql.dbapi as adbc

    with adbc.connect(pg_url) as con, con.cursor() as cur:
        cur.adbc_ingest(name, table, mode="create")
        cur.execute(f'ALTER TABLE "{name}" ADD PRIMARY KEY (id)')
        if updated_at:
            cur.execute(f'ALTER TABLE "{name}" ADD COLUMN updated_at timestamp')
            cur.execute(f'UPDATE "{name}" SET updated_at = "timestamp"')
            cur.execute(f'CREATE INDEX ON "{name}" (updated_at)')
        con.commit()


def snapshot(ws: Workspace) -> tuple[object, ...]:
    """Everything a sync could change, in a comparable form."""
    return events_snapshot(ws, ("events", "rejected", "imports", "sources"))
