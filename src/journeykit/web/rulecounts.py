"""What the rule builder offers and tells: the workspace's event names and property values with
their counts, and how many events and customers a rule matches.

Both come from one summary per data version (``facts``), built when an import finishes
(``warm``): per event, its count and the set of its customers; per (event, property, value),
the same. A rule of event names and at most one property test is counted from the summary (a
union of customer sets: milliseconds at 10M events); any other rule (a value test, tests on
two properties, ``any``, ``exists: false``, a property with too many values) runs the compiled
rule expression the analyses use on the events. Both answers are the same (tests/web check it
on random rules); the summary only makes the common case fast.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from journeykit.analytics.fetch import to_arrow
from journeykit.journey.rules import Condition, EventRule
from journeykit.web.data import db_alias

if TYPE_CHECKING:
    from journeykit.web.data import Data

TOP_VALUES = 20  # property values offered per (event, key)
TOP_KEYS = 30  # property keys offered per event
WIDE = 500  # a property with more distinct values on one event is counted by the query
MAX_VALUED = 20_000_000  # rows with a value kept in the summary (16 bytes each)
MAX_PARSED = 2_000_000  # rows with a value whose properties are kept, parsed
_OTHER = "~not a scalar~"
_MISSING = object()  # a JSON null, object or array: never valid JSON text itself
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


@dataclass(frozen=True)
class Facts:
    """The summary: per event, and per (event, key, value), its events and customer codes."""

    observed: Observed
    events: dict[str, tuple[int, np.ndarray]]
    values: dict[tuple[str, str], dict[tuple[type, Any], tuple[int, np.ndarray]]]
    wide: frozenset[tuple[str, str]]  # (event, key) with more than WIDE values
    customers: int
    # per event, its rows that have a value: (values, customer codes, properties as parsed
    # objects or None when too many to parse); None: too many rows to keep
    valued: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray | None]] | None = None


def observed(data: Data) -> Observed:
    """The workspace's events and property values with counts (empty before any import)."""
    return facts(data).observed


def facts(data: Data) -> Facts:
    version = data.version()
    if version == "empty":
        return Facts(Observed(), {}, {}, frozenset(), 0)
    return data.cached(("rule_facts", version), lambda: _scan(data))


def _scan(data: Data) -> Facts:
    with data.engine() as eng:
        alias = db_alias(eng)
        if alias is None:
            return Facts(Observed(), {}, {}, frozenset(), 0)
        table = f"{alias}.events"
        eng.raw.execute(
            f"CREATE TEMP TABLE jk_codes AS SELECT customer_id, (row_number() OVER ()) - 1 AS code "
            f"FROM (SELECT DISTINCT customer_id FROM {table})"
        )
        per_event = eng.raw.execute(
            f"SELECT e.event, c.code, count(*) FROM {table} e JOIN jk_codes c USING (customer_id) "
            "WHERE e.event IS NOT NULL GROUP BY 1, 2"
        ).fetchnumpy()
        per_value = eng.raw.execute(
            f"WITH p AS (SELECT event, customer_id, properties FROM {table} WHERE properties IS "
            "NOT NULL AND event IS NOT NULL AND json_valid(properties) AND "
            "json_type(properties) = 'OBJECT'), "
            "kv AS (SELECT p.event, p.customer_id, j.key AS k, CASE WHEN j.type IN "
            f"({', '.join(repr(t) for t in _SCALARS)}) THEN j.value ELSE '{_OTHER}' END AS v "
            "FROM p, json_each(p.properties) j) "
            "SELECT kv.event, kv.k, kv.v, c.code, count(*) FROM kv JOIN jk_codes c "
            "USING (customer_id) GROUP BY ALL"
        ).fetchnumpy()
        customers = eng.fetchone("SELECT count(*) FROM jk_codes")[0]
        n_valued = eng.fetchone(
            f"SELECT count(*) FROM {table} WHERE value IS NOT NULL AND event IS NOT NULL"
        )[0]
        per_row = None
        if n_valued <= MAX_VALUED:
            per_row = eng.raw.execute(
                f"SELECT e.event, c.code, e.value, e.properties FROM {table} e JOIN jk_codes c "
                "USING (customer_id) WHERE e.value IS NOT NULL AND e.event IS NOT NULL"
            ).fetchnumpy()
    out = _summarise(per_event, per_value, int(customers))
    if per_row is None:
        return out
    names, codes, vals, props = (np.asarray(per_row[c]) for c in per_row)
    parsed = _parsed(props) if len(props) <= MAX_PARSED else None
    valued = {
        str(k[0] if isinstance(k, tuple) else k): (
            vals[rows].astype(np.float64), codes[rows].astype(np.int64),
            None if parsed is None else parsed[rows],
        )
        for k, rows in _groups([names]).items()
    } if len(names) else {}  # fmt: skip
    return Facts(out.observed, out.events, out.values, out.wide, out.customers, valued)


def _groups(keys: list[np.ndarray]) -> Any:
    """Row indexes grouped by the key columns (one sort, no Python loop over rows)."""
    import pandas as pd

    frame = pd.DataFrame({str(i): k for i, k in enumerate(keys)})
    return frame.groupby(list(frame.columns), sort=False).indices


def _summarise(per_event: dict[str, Any], per_value: dict[str, Any], customers: int) -> Facts:
    e_names, e_codes, e_n = (np.asarray(per_event[c]) for c in per_event)
    events: dict[str, tuple[int, np.ndarray]] = {}
    for name, rows in _groups([e_names]).items():
        name = name[0] if isinstance(name, tuple) else name
        events[str(name)] = (int(e_n[rows].sum()), np.unique(e_codes[rows].astype(np.int64)))
    v_event, v_key, v_text, v_codes, v_n = (np.asarray(per_value[c]) for c in per_value)
    values: dict[tuple[str, str], dict[tuple[type, Any], tuple[int, np.ndarray]]] = {}
    mixed: set[tuple[str, str]] = set()
    for (event, key, text), rows in _groups([v_event, v_key, v_text]).items():
        if text == _OTHER:  # null, an object or a list: the query knows how to read those
            mixed.add((str(event), str(key)))
            continue
        value = json.loads(text)
        slot = values.setdefault((str(event), str(key)), {})
        slot[(_kind(value), value)] = (
            int(v_n[rows].sum()),
            np.unique(v_codes[rows].astype(np.int64)),
        )
    wide = frozenset({k for k, vs in values.items() if len(vs) > WIDE} | mixed)
    offer = Observed(
        tuple(sorted((EventCount(e, n, len(c)) for e, (n, c) in events.items()),
                     key=lambda x: (-x.events, x.name))),
        _offer(values),
    )  # fmt: skip
    return Facts(offer, events, values, wide, customers)


def _offer(
    values: dict[tuple[str, str], dict[tuple[type, Any], tuple[int, np.ndarray]]],
) -> dict[str, dict[str, tuple[ValueCount, ...]]]:
    per_event: dict[str, list[tuple[int, str, tuple[ValueCount, ...]]]] = {}
    for (event, key), vs in values.items():
        ranked = sorted((ValueCount(v, n) for (_, v), (n, _) in vs.items()),
                        key=lambda x: (-x.events, str(x.value)))  # fmt: skip
        total = sum(v.events for v in ranked)
        per_event.setdefault(event, []).append((total, key, tuple(ranked[:TOP_VALUES])))
    return {
        e: {k: vs for _, k, vs in sorted(keys, key=lambda x: (-x[0], x[1]))[:TOP_KEYS]}
        for e, keys in per_event.items()
    }


def _kind(value: Any) -> type:
    """Values compare within their JSON type only, as the compiled rule compares them."""
    if isinstance(value, bool):
        return bool
    return float if isinstance(value, int | float) else str


def matches(data: Data, rule: EventRule) -> Match:
    """How many events, and how many customers, ``rule`` matches in the workspace."""
    version = data.version()
    if version == "empty":
        return Match(0, 0)
    fast = from_facts(facts(data), rule)
    if fast is not None:
        return fast
    text = json.dumps(rule.model_dump(mode="json", by_alias=True), sort_keys=True)
    return data.cached(("rule_match", version, text), lambda: _count(data, rule))


def from_facts(f: Facts, rule: EventRule) -> Match | None:
    """The counts from the summary, or None when the summary cannot say them exactly."""
    if rule.any_of or len(rule.properties) > 1:
        return None
    names = list(rule.event) if rule.event else list(f.events)
    if rule.value is not None:
        return _by_value(f, names, rule)
    if not rule.properties:
        parts = [f.events[n] for n in names if n in f.events]
        return _union(parts, f.customers)
    ((key, cond),) = rule.properties.items()
    if cond.exists is False or any((n, key) in f.wide for n in names):
        return None
    parts = [
        counted
        for n in names
        for (_, value), counted in f.values.get((n, key), {}).items()
        if holds(cond, value)
    ]
    return _union(parts, f.customers)


def _parsed(texts: np.ndarray) -> np.ndarray:
    out = np.empty(len(texts), dtype=object)
    for i, text in enumerate(texts):
        try:
            doc = json.loads(text) if isinstance(text, str) else None
        except ValueError:
            doc = None
        out[i] = doc if isinstance(doc, dict) else {}
    return out


def _by_value(f: Facts, names: list[str], rule: EventRule) -> Match | None:
    """A value test (and at most one property test) on the events' kept rows with a value:
    every value test but ``exists: false`` needs a value, so those rows are all it can match."""
    cond = rule.value
    if f.valued is None or cond is None or cond.exists is False:
        return None
    parts = []
    for name in names:
        if name not in f.valued:
            continue
        values, codes, props = f.valued[name]
        keep = value_mask(cond, values)
        for key, test in rule.properties.items():
            if props is None or test.exists is False:
                return None
            passed = _property_mask(test, key, props)
            if passed is None:
                return None
            keep &= passed
        parts.append((int(keep.sum()), codes[keep]))
    return _union(parts, f.customers)


def _property_mask(cond: Condition, key: str, props: np.ndarray) -> np.ndarray | None:
    """Which rows' property ``key`` passes ``cond`` (a missing key fails); None when a row
    holds a null, an object or a list there (the query reads those)."""
    verdicts: dict[tuple[type, Any], bool] = {}
    keep = np.zeros(len(props), dtype=bool)
    for i, doc in enumerate(props):
        value = doc.get(key, _MISSING)
        if value is _MISSING:
            continue
        if isinstance(value, dict | list) or value is None:
            return None
        slot = (_kind(value), value)
        if slot not in verdicts:
            verdicts[slot] = holds(cond, value)
        keep[i] = verdicts[slot]
    return keep


def value_mask(cond: Condition, values: np.ndarray) -> np.ndarray:
    """Which (non-null) event values pass ``cond``: only numbers compare or equal a value."""

    def number(x: Any) -> bool:
        return isinstance(x, int | float) and not isinstance(x, bool)

    keep = np.ones(len(values), dtype=bool)
    if cond.eq is not None:
        keep &= values == cond.eq if number(cond.eq) else False
    if cond.ne is not None and number(cond.ne):
        keep &= values != cond.ne
    if cond.in_ is not None:
        keep &= np.isin(values, [x for x in cond.in_ if number(x)])
    if cond.not_in is not None:
        keep &= ~np.isin(values, [x for x in cond.not_in if number(x)])
    for op, test in (("gt", np.greater), ("gte", np.greater_equal), ("lt", np.less),
                     ("lte", np.less_equal)):  # fmt: skip
        bound = getattr(cond, op)
        if bound is not None:
            keep &= test(values, bound)
    return keep


def _union(parts: list[tuple[int, np.ndarray]], customers: int) -> Match:
    seen = np.zeros(customers, dtype=bool)
    for _, codes in parts:
        seen[codes] = True
    return Match(sum(n for n, _ in parts), int(seen.sum()))


def holds(cond: Condition, value: Any) -> bool:
    """Whether a present property value passes ``cond``, read as the compiled rule reads it:
    equality within the value's JSON type (true is not 1), comparisons on numbers only."""
    kind = _kind(value)

    def same(x: Any) -> bool:
        return _kind(x) is kind and x == value

    checks = [
        cond.eq is None or same(cond.eq),
        cond.ne is None or not same(cond.ne),
        cond.in_ is None or any(same(x) for x in cond.in_),
        cond.not_in is None or not any(same(x) for x in cond.not_in),
    ]
    for op in ("gt", "gte", "lt", "lte"):
        bound = getattr(cond, op)
        if bound is not None:
            number = kind is float
            checks.append(number and {"gt": value > bound, "gte": value >= bound,
                                      "lt": value < bound, "lte": value <= bound}[op])  # fmt: skip
    return all(checks)


def _count(data: Data, rule: EventRule) -> Match:
    from journeykit.analytics.compile import compile_rule, event_prefilter

    with data.engine() as eng:
        events = eng.events(str(data.ws.root))
        names = event_prefilter([rule])
        if names is not None:  # names first: the engine skips most rows before any JSON
            events = events.filter(events.event.isin(names))
        hits = events.filter(compile_rule(events, rule))
        row = to_arrow(hits.aggregate(n=hits.count(), c=hits.customer_id.nunique()))
    return Match(int(row["n"][0].as_py() or 0), int(row["c"][0].as_py() or 0))


def warm(data: Data) -> None:
    """Build the summary now (after an import), so the builder's first page is quick."""
    facts(data)
