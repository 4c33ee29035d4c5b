"""Milestone rules compiled to Ibis boolean expressions, so they run on every engine.

Property semantics follow SQL: a property that is missing, JSON null, or of another type than the
rule's value fails every comparison (``ne`` and ``not_in`` included); only ``exists: false`` holds
for it. Numbers compare as numbers (``1`` equals ``1.0``), strings as strings (``"1"`` is not
``1``), booleans as booleans. A property key is one top-level key, as written (``$browser``,
``a.b``); nested values are not addressed.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import reduce
from typing import TYPE_CHECKING, Any

import ibis
import ibis.expr.datatypes as dt

from journeykit.errors import JourneykitError
from journeykit.journey.schema import Condition, EventRule

if TYPE_CHECKING:
    import ibis.expr.types as ir

_COMPARE = ("gt", "gte", "lt", "lte")


def _all(preds: Sequence[ir.BooleanValue]) -> ir.BooleanValue:
    return reduce(lambda a, b: a & b, preds) if preds else ibis.literal(True)


def _any(preds: Sequence[ir.BooleanValue]) -> ir.BooleanValue:
    return reduce(lambda a, b: a | b, preds) if preds else ibis.literal(False)


# Spark's own JSON functions, through its VARIANT type (Spark >= 4.0). Ibis 12's generic JSON
# unwrapping on PySpark runs a Python UDF that json-decodes the already unquoted text and so loses
# every string property; these builtins keep the work in the JVM and know each value's type.
# (The declared types only steer Ibis; Spark sees the nested calls as written.)
@ibis.udf.scalar.builtin(name="try_parse_json")  # type: ignore[untyped-decorator]
def _spark_parse(js: str) -> str:  # type: ignore[empty-body]
    ...


@ibis.udf.scalar.builtin(name="variant_get")  # type: ignore[untyped-decorator]
def _spark_get(v: str, path: str) -> str:  # type: ignore[empty-body]
    ...


@ibis.udf.scalar.builtin(name="schema_of_variant")  # type: ignore[untyped-decorator]
def _spark_type(v: str) -> str:  # type: ignore[empty-body]
    ...


@ibis.udf.scalar.builtin(name="try_variant_get")  # type: ignore[untyped-decorator]
def _spark_text(v: str, path: str, type_: str) -> str:  # type: ignore[empty-body]
    ...


@ibis.udf.scalar.builtin(name="try_variant_get")  # type: ignore[untyped-decorator]
def _spark_number(v: str, path: str, type_: str) -> float:  # type: ignore[empty-body]
    ...


@ibis.udf.scalar.builtin(name="try_variant_get")  # type: ignore[untyped-decorator]
def _spark_flag(v: str, path: str, type_: str) -> bool:  # type: ignore[empty-body]
    ...


@ibis.udf.scalar.builtin(name="element_at")  # type: ignore[untyped-decorator]
def _spark_element(members: str, key: str) -> str:  # type: ignore[empty-body]
    ...


# PostgreSQL: Ibis 12 with sqlglot 30 compiles JSON unwrapping to `->> VARIADIC ARRAY[]`,
# which PostgreSQL refuses; its own functions read a member's type and text directly.
@ibis.udf.scalar.builtin(name="json_typeof")  # type: ignore[untyped-decorator]
def _pg_type(doc: dt.JSON) -> str:  # type: ignore[empty-body]
    ...


@ibis.udf.scalar.builtin(name="json_extract_path_text")  # type: ignore[untyped-decorator]
def _pg_text(doc: dt.JSON, key: str) -> str:  # type: ignore[empty-body]
    ...


_SPARK_NUMBERS = "^(TINYINT|SMALLINT|INT|BIGINT|FLOAT|DOUBLE|DECIMAL)"
# Keys every other Ibis backend reads as one top-level key, whatever its JSON path dialect.
_PLAIN_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _backend_name(events: ir.Table) -> str:
    try:
        return str(ibis.get_backend(events).name)
    except Exception:  # an unbound table: compiled for DuckDB, the default backend
        return "duckdb"


def _check_key(key: str) -> None:
    # The schema refuses these in rules; `--by property:KEY` arrives here unchecked.
    if "\x00" in key:
        raise JourneykitError(f"property {key!r}: a key cannot contain the NUL character")


def _json_member(events: ir.Table, key: str, backend: str) -> ir.JSONValue:
    """The top-level member ``key`` of the properties object, never a JSON path.

    Ibis hands a key to the dialect's JSON path syntax: on DuckDB `$browser` read `browser`,
    `a.b` a nested value, and a quote broke the query. DuckDB gets a JSON pointer (RFC 6901)
    instead: only `~` and `/` are special there, and sqlglot passes a path that starts with `/`
    through untouched. Other backends get only keys that no path syntax reads differently.
    """
    _check_key(key)
    props = events.properties.cast("json")
    if backend == "duckdb":
        return props["/" + key.replace("~", "~0").replace("/", "~1")]
    if not _PLAIN_KEY.fullmatch(key):
        raise JourneykitError(
            f"property {key!r}: on {backend} only keys of letters, digits and '_' can be read "
            "(DuckDB and Spark read any key as written)"
        )
    return props[key]


class _Scalar:
    """One JSON property, seen through each of its possible scalar types."""

    def __init__(self, events: ir.Table, key: str) -> None:
        backend = _backend_name(events)
        if backend == "pyspark":
            self._spark(events, key)
        elif backend == "postgres":
            self._postgres(events, key)
        else:
            raw = _json_member(events, key, backend)
            self.text = raw.str
            self.number = raw.unwrap_as("float64")
            self.flag = raw.bool
        self.present = self.text.notnull() | self.number.notnull() | self.flag.notnull()

    def _postgres(self, events: ir.Table, key: str) -> None:
        kind = _pg_type(_json_member(events, key, "postgres"))
        text = _pg_text(events.properties.cast("json"), key)
        self.text = ibis.ifelse(kind == "string", text, ibis.null())
        self.number = ibis.ifelse(kind == "number", text.cast("float64"), ibis.null())
        self.flag = ibis.ifelse(kind == "boolean", text.cast("boolean"), ibis.null())

    def _spark(self, events: ir.Table, key: str) -> None:
        _check_key(key)
        doc = _spark_parse(events.properties)
        # Spark's `$['key']` path takes the key as written, but cannot hold a quote; those keys
        # (and, in case a Spark release's path parser refuses them, `?` and '') are looked up
        # in the object read as a map, which takes any key.
        if key and "'" not in key and "?" not in key:
            value = _spark_get(doc, f"$['{key}']")
        else:
            value = _spark_element(_spark_text(doc, "$", "map<string,variant>"), key)
        kind = _spark_type(value)
        self.text = ibis.ifelse(kind == "STRING", _spark_text(value, "$", "string"), ibis.null())
        is_number = kind.re_search(_SPARK_NUMBERS)
        self.number = ibis.ifelse(is_number, _spark_number(value, "$", "double"), ibis.null())
        self.flag = ibis.ifelse(kind == "BOOLEAN", _spark_flag(value, "$", "boolean"), ibis.null())

    def typed(self, value: Any) -> ir.Value:
        if isinstance(value, bool):
            return self.flag
        if isinstance(value, int | float):
            return self.number
        return self.text


def _member(column: ir.Value, values: Sequence[Any]) -> ir.BooleanValue:
    return column.isin(list(values)).fill_null(False)


def _property(events: ir.Table, key: str, cond: Condition) -> ir.BooleanValue:
    prop = _Scalar(events, key)
    preds: list[ir.BooleanValue] = []
    if cond.exists is not None:
        preds.append(prop.present if cond.exists else ~prop.present)
    if cond.eq is not None:
        preds.append((prop.typed(cond.eq) == cond.eq).fill_null(False))
    if cond.ne is not None:
        preds.append(prop.present & ~(prop.typed(cond.ne) == cond.ne).fill_null(False))
    if cond.in_ is not None:
        preds.append(_any([_member(prop.typed(v), [v]) for v in cond.in_]))
    if cond.not_in is not None:
        hits = _any([_member(prop.typed(v), [v]) for v in cond.not_in])
        preds.append(prop.present & ~hits)
    preds += [
        _compare(prop.number, op, getattr(cond, op))
        for op in _COMPARE
        if getattr(cond, op) is not None
    ]
    return _all(preds)


def _compare(column: ir.NumericValue, op: str, bound: float) -> ir.BooleanValue:
    result = {
        "gt": column > bound,
        "gte": column >= bound,
        "lt": column < bound,
        "lte": column <= bound,
    }[op]
    return result.fill_null(False)


def _value(events: ir.Table, cond: Condition) -> ir.BooleanValue:
    column = events.value
    preds: list[ir.BooleanValue] = []

    def numeric(v: Any) -> bool:
        return isinstance(v, int | float) and not isinstance(v, bool)

    if cond.exists is not None:
        preds.append(column.notnull() if cond.exists else column.isnull())
    if cond.eq is not None:
        preds.append(
            (column == cond.eq).fill_null(False) if numeric(cond.eq) else ibis.literal(False)
        )
    if cond.ne is not None:
        same = (column == cond.ne).fill_null(False) if numeric(cond.ne) else ibis.literal(False)
        preds.append(column.notnull() & ~same)
    if cond.in_ is not None:
        preds.append(_member(column, [v for v in cond.in_ if numeric(v)]))
    if cond.not_in is not None:
        preds.append(column.notnull() & ~_member(column, [v for v in cond.not_in if numeric(v)]))
    preds += [
        _compare(column, op, getattr(cond, op)) for op in _COMPARE if getattr(cond, op) is not None
    ]
    return _all(preds)


def compile_rule(events: ir.Table, rule: EventRule, *, null_safe: bool = True) -> ir.BooleanValue:
    """The rule as a boolean expression over the canonical events table.

    ``null_safe=False`` leaves NULL where the rule cannot tell (a missing event name): fine in a
    ``CASE WHEN``, which reads NULL as false, and DuckDB evaluates the bare comparison faster.
    """
    preds: list[ir.BooleanValue] = []
    if rule.event:
        names = list(rule.event)
        preds.append(events.event == names[0] if len(names) == 1 else events.event.isin(names))
    preds += [_property(events, key, cond) for key, cond in rule.properties.items()]
    if rule.value is not None:
        preds.append(_value(events, rule.value))
    if rule.any_of:
        preds.append(_any([compile_rule(events, sub) for sub in rule.any_of]))
    return _all(preds).fill_null(False) if null_safe else _all(preds)


def event_prefilter(rules: Sequence[EventRule]) -> list[str] | None:
    """Event names that every matching event must have, or None when a rule matches any name.

    Filtering on names first lets the engine skip most rows before any JSON is parsed.
    """
    names: set[str] = set()
    for rule in rules:
        if not _has_names(rule):
            return None
        names |= rule.event_names()
    return sorted(names)


def _has_names(rule: EventRule) -> bool:
    if rule.event:
        return True
    return bool(rule.any_of) and all(_has_names(sub) for sub in rule.any_of or ())


def may_overlap(a: EventRule, b: EventRule) -> bool:
    """Whether one event could match both rules (conservatively: shared or unknown names)."""
    if not (_has_names(a) and _has_names(b)):
        return True
    return bool(a.event_names() & b.event_names())
