"""What the rule builder offers and tells: the workspace's event names and property values with
their counts, and how many events and customers a rule matches.

The offer (``observed``) is one scan per data version, computed when an import finishes
(``warm``) so the first builder page after it does not wait; a rule's counts (``matches``) are
one filtered aggregate per (rule, data version), on the same compiled rule expression the
analyses use, so the count is what the map will show. Both live in the app's result cache.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from journeykit.journey.rules import EventRule
from journeykit.web.data import db_alias

if TYPE_CHECKING:
    from journeykit.web.data import Data

TOP_VALUES = 20  # property values offered per (event, key)
TOP_KEYS = 30  # property keys offered per event
_SCALARS = ("VARCHAR", "BIGINT", "UBIGINT", "DOUBLE", "BOOLEAN")


@dataclass(frozen=True)
class EventCount:
    name: str
    events: int
    customers: int

    @property
    def label(self) -> str:
        return f"{self.name} ({self.events:,} events, {self.customers:,} customers)"


@dataclass(frozen=True)
class ValueCount:
    value: Any  # str | bool | int | float, as in the events
    events: int

    @property
    def text(self) -> str:
        if isinstance(self.value, bool):
            return "true" if self.value else "false"
        return str(self.value)


@dataclass(frozen=True)
class Observed:
    """Event names by count, and per event its property keys with their commonest values."""

    events: tuple[EventCount, ...] = ()
    properties: dict[str, dict[str, tuple[ValueCount, ...]]] = field(default_factory=dict)

    def keys_for(self, names: list[str]) -> dict[str, list[ValueCount]]:
        """Property keys (and values, merged) seen on any of ``names`` (all events if none)."""
        chosen = names or [e.name for e in self.events]
        out: dict[str, dict[Any, int]] = {}
        for name in chosen:
            for key, values in self.properties.get(name, {}).items():
                merged = out.setdefault(key, {})
                for v in values:
                    merged[(type(v.value), v.value)] = (
                        merged.get((type(v.value), v.value), 0) + v.events
                    )
        return {
            k: sorted((ValueCount(tv[1], n) for tv, n in vs.items()), key=lambda v: -v.events)[
                :TOP_VALUES
            ]
            for k, vs in sorted(out.items())
        }


@dataclass(frozen=True)
class Match:
    events: int
    customers: int

    def to_dict(self) -> dict[str, int]:
        return {"events": self.events, "customers": self.customers}


def observed(data: Data) -> Observed:
    """The workspace's events and property values with counts (empty before any import)."""
    version = data.version()
    if version == "empty":
        return Observed()
    return data.cached(("observed", version), lambda: _scan(data))


def _scan(data: Data) -> Observed:
    with data.engine() as eng:
        alias = db_alias(eng)
        if alias is None:
            return Observed()
        table = f"{alias}.events"
        names = eng.raw.execute(
            f"SELECT event, count(*), count(DISTINCT customer_id) FROM {table} "
            "WHERE event IS NOT NULL GROUP BY 1 ORDER BY 2 DESC, 1"
        ).fetchall()
        rows = eng.raw.execute(
            f"WITH p AS (SELECT event, properties FROM {table} WHERE properties IS NOT NULL "
            "AND json_valid(properties) AND json_type(properties) = 'OBJECT'), "
            "kv AS (SELECT p.event, j.key AS k, j.value AS v, j.type AS t FROM p, "
            "json_each(p.properties) j), "
            "g AS (SELECT event, k, v, t, count(*) AS n FROM kv WHERE t IN "
            f"({', '.join(repr(s) for s in _SCALARS)}) GROUP BY ALL), "
            "r AS (SELECT *, row_number() OVER (PARTITION BY event, k ORDER BY n DESC, v) AS rn, "
            "sum(n) OVER (PARTITION BY event, k) AS total FROM g) "
            f"SELECT event, k, v, n, total FROM r WHERE rn <= {TOP_VALUES} "
            "ORDER BY event, total DESC, k, n DESC"
        ).fetchall()
    props: dict[str, dict[str, list[ValueCount]]] = {}
    for event, key, value, n, _ in rows:
        keys = props.setdefault(str(event), {})
        if key not in keys and len(keys) >= TOP_KEYS:
            continue
        keys.setdefault(str(key), []).append(ValueCount(json.loads(value), int(n)))
    return Observed(
        tuple(EventCount(str(e), int(n), int(c)) for e, n, c in names),
        {e: {k: tuple(v) for k, v in ks.items()} for e, ks in props.items()},
    )


def matches(data: Data, rule: EventRule) -> Match:
    """How many events, and how many customers, ``rule`` matches in the workspace."""
    version = data.version()
    if version == "empty":
        return Match(0, 0)
    text = json.dumps(rule.model_dump(mode="json", by_alias=True), sort_keys=True)
    return data.cached(("rule_match", version, text), lambda: _count(data, rule))


def _count(data: Data, rule: EventRule) -> Match:
    from journeykit.analytics.compile import compile_rule, event_prefilter

    with data.engine() as eng:
        events = eng.events(str(data.ws.root))
        names = event_prefilter([rule])
        if names is not None:  # names first: the engine skips most rows before any JSON
            events = events.filter(events.event.isin(names))
        hits = events.filter(compile_rule(events, rule))
        row = hits.aggregate(n=hits.count(), c=hits.customer_id.nunique()).to_pyarrow()
    return Match(int(row["n"][0].as_py() or 0), int(row["c"][0].as_py() or 0))


def warm(data: Data) -> None:
    """Compute the offer now (after an import), so the builder's first page is quick."""
    observed(data)
