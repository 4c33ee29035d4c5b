"""The canonical event table every reader produces and every analysis reads.

Timestamps are UTC, stored without a zone: engines disagree on zoned timestamps (Spark keeps a
session zone), so one convention at the edge keeps results identical across engines.
Properties are a JSON object as text, the one form every engine can store and query.
"""

from __future__ import annotations

EVENT_COLUMNS: dict[str, str] = {
    "customer_id": "string",
    "event": "string",
    "timestamp": "timestamp",
    "value": "float64",
    "properties": "string",
}
# Added by the workspace import so every stored event can be traced back to its file and line.
LINEAGE_COLUMNS: dict[str, str] = {
    "source": "string",
    "source_row": "int64",
    "import_id": "string",
}
