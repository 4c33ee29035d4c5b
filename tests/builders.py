"""Declarative event logs for tests: who did what, when (STYLE.md Pattern 8).

``events_for`` turns a readable dict into ``Event`` rows; ``to_arrow`` turns them into the
canonical event table (``journeykit.events.schema.EVENT_COLUMNS``) that the real analytics read
through an ibis memtable.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa

When = str | date | datetime
# (event, when) | (event, when, properties) | (event, when, properties, value)
Row = Sequence[Any]

ARROW_SCHEMA = pa.schema(
    [
        ("customer_id", pa.string()),
        ("event", pa.string()),
        ("timestamp", pa.timestamp("us")),
        ("value", pa.float64()),
        ("properties", pa.string()),
    ]
)


@dataclass(frozen=True)
class Event:
    """One row of behaviour. ``timestamp`` is naive UTC at microsecond precision."""

    customer_id: str
    event: str
    timestamp: datetime
    value: float | None = None
    properties: dict[str, Any] = field(default_factory=dict)


def to_datetime(when: When) -> datetime:
    """A naive UTC datetime from a date, an ISO text ("YYYY-MM-DD[ HH:MM[:SS]]") or a datetime."""
    if isinstance(when, datetime):
        if when.tzinfo is not None:
            when = when.astimezone(UTC).replace(tzinfo=None)
        return when
    if isinstance(when, date):
        return datetime(when.year, when.month, when.day)
    parsed = datetime.fromisoformat(when)
    return to_datetime(parsed) if parsed.tzinfo is not None else parsed


def _event(customer_id: str, row: Row) -> Event:
    if not 2 <= len(row) <= 4:
        raise ValueError(f"expected (event, when[, properties[, value]]), got {row!r}")
    name, when = row[0], row[1]
    props = dict(row[2] or {}) if len(row) > 2 else {}
    value = float(row[3]) if len(row) > 3 and row[3] is not None else None
    return Event(customer_id, name, to_datetime(when), value, props)


def events_for(log: Mapping[str, Iterable[Row]]) -> list[Event]:
    """Events from ``{customer: [(event, when[, properties[, value]]), ...]}``, in the given order.

    Example: ``events_for({"ana": [("opt_in", "2024-01-01"),
    ("trial_start", "2024-01-03 10:00", {"plan": "pro"}, 49.0)]})``.
    """
    return [_event(customer, row) for customer, rows in log.items() for row in rows]


def properties_json(props: Mapping[str, Any]) -> str | None:
    """The canonical text form of properties: sorted-key JSON, null when there are none."""
    return json.dumps(props, sort_keys=True) if props else None


def to_arrow(events: Iterable[Event]) -> pa.Table:
    """The events as the canonical event table (timestamp[us], properties as JSON text)."""
    rows = list(events)
    columns = {
        "customer_id": [e.customer_id for e in rows],
        "event": [e.event for e in rows],
        "timestamp": [e.timestamp for e in rows],
        "value": [e.value for e in rows],
        "properties": [properties_json(e.properties) for e in rows],
    }
    return pa.table(columns, schema=ARROW_SCHEMA)


@contextmanager
def database_held(database: Path, *, write: bool, release_after: float = 60.0) -> Iterator[None]:
    """Another process holding a DuckDB file as an import does (``write``) or as the web app
    does while it computes (read-only); it lets go after ``release_after`` seconds, or at exit."""
    code = (
        "import duckdb, sys, time\n"
        "c = duckdb.connect(sys.argv[1]) if sys.argv[2] == 'w' else duckdb.connect()\n"
        "if sys.argv[2] != 'w': c.execute(f\"ATTACH '{sys.argv[1]}' AS ws (READ_ONLY)\")\n"
        "print('held', flush=True)\n"
        "time.sleep(float(sys.argv[3]))\n"
    )
    args = [sys.executable, "-c", code, str(database), "w" if write else "r", str(release_after)]
    holder = subprocess.Popen(args, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        yield
    finally:
        holder.kill()
        holder.wait()
