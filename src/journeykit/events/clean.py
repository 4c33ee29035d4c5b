"""Typing and validation: every row is kept (typed, canonical) or refused with a reason.

Nothing disappears (STYLE Pattern 7): the typed table holds every row the reader produced, with
``reason``/``field`` set on the refused ones and ``raw`` so the user can see what they gave.
"""

from __future__ import annotations

from collections.abc import Sequence

from journeykit.events.sources import Resolved, Scan
from journeykit.events.sqltext import quote_literal
from journeykit.events.timestamps import text_to_utc_sql, typed_to_utc_sql

# The reasons a row is refused, in the order they are tested.
MISSING_CUSTOMER_ID = "missing customer id"
MISSING_EVENT = "missing event"
BAD_TIMESTAMP = "unparseable timestamp"
TIMESTAMP_OUT_OF_RANGE = "timestamp out of range (years 1 to 9999)"
NON_NUMERIC_VALUE = "non-numeric value"
BAD_PROPERTIES = "properties is not a JSON object"
BAD_JSON = "not a JSON object"
NUL_BYTE = "NUL byte in the row"
_FIRST, _LAST = "TIMESTAMP '0001-01-01'", "TIMESTAMP '9999-12-31 23:59:59.999999'"
_CANONICAL = ("customer_id", "event", "timestamp", "value", "properties")


def _blank_is_null(expr: str) -> str:
    # trim() copies every string; only values that start with a space can be blank after it.
    # Both kinds sort before '!' (0x21), as almost no id or event name does: one comparison
    # of the inlined prefix passes nearly every value on.
    return (
        f"CASE WHEN {expr} < '!' AND ({expr} = '' OR ({expr} LIKE ' %' AND trim({expr}) = '')) "
        f"THEN NULL ELSE {expr} END"
    )


def _customer_id(scan: Scan, m: Resolved) -> str:
    ids = [_blank_is_null(scan.text(c)) for c in m.customer_id]
    return ids[0] if len(ids) == 1 else f"coalesce({', '.join(ids)})"


def _timestamp(scan: Scan, m: Resolved, timezone: str) -> str:
    kind = scan.columns[m.timestamp]
    if scan.typed and kind != "VARCHAR":
        from journeykit.events.sqltext import quote_ident

        return typed_to_utc_sql(quote_ident(m.timestamp), kind, timezone)
    return text_to_utc_sql(scan.text(m.timestamp), timezone)


# Column types whose values a DOUBLE holds exactly as their text would parse: read as they
# are, not written out as text and parsed back (a tenth of a database import's typing). FLOAT
# and DECIMAL are not among them: their text parses to another double than their cast gives.
_NUMBERS = {"DOUBLE", "TINYINT", "SMALLINT", "INTEGER", "BIGINT",
            "UTINYINT", "USMALLINT", "UINTEGER"}  # fmt: skip


def _value(scan: Scan, column: str | None) -> tuple[str, str]:
    """The value as given (NULL when blank) and as a number (NULL when it is none)."""
    if column is not None and scan.typed and scan.columns[column] in _NUMBERS:
        from journeykit.events.sqltext import quote_ident

        number = f"CAST({quote_ident(column)} AS DOUBLE)"
        return number, number
    given = _blank_is_null(scan.text(column)) if column else "NULL"
    return given, f"TRY_CAST({given} AS DOUBLE)"


def _properties(scan: Scan, m: Resolved) -> str:
    if m.properties is None:
        used = [*m.customer_id, m.event, m.timestamp, *([m.value] if m.value else [])]
        return scan.rest_as_json(used, m.rest)
    if scan.format == "jsonl":  # already JSON: an object stays an object, anything else is not
        text = scan.json_value(m.properties)
        return f"CASE WHEN json_type({text}) = 'OBJECT' THEN {text} END"
    text = scan.text(m.properties)
    # NULL/blank is an empty object; anything else must parse as a JSON object. The text is
    # kept as given (re-serialising every row costs a third of the import's time).
    return (
        f"CASE WHEN {text} IS NULL THEN '{{}}' "
        f"WHEN {text} LIKE '{{%' AND json_valid({text}) THEN {text} "
        f"WHEN trim({text}) = '' THEN '{{}}' "
        f"WHEN ltrim({text}) LIKE '{{%' AND json_valid({text}) THEN {text} END"
    )


def typed_sql(
    scan: Scan,
    m: Resolved,
    timezone: str,
    *,
    nul: bool = False,
    carry: Sequence[str] = (),
    checks: Sequence[tuple[str, str, str]] = (),
    row_hash: bool = True,
) -> str:
    """SELECT every row with canonical columns plus ``reason``, ``field``, ``raw`` and ``_h``.

    ``nul``: the file holds a NUL byte somewhere; rows holding one are refused (a NUL is damage,
    not data), so the test is only paid for by files that have one. ``carry``: more ``expr AS
    name`` items over the source's columns to keep (a database row's key and cursor);
    ``checks``: more ``(test, reason, field)`` refusals, tested after the others.
    ``row_hash``: add ``_h``, the hash that finds exact duplicates (files only need it).
    """
    from_sql, order = scan.from_sql, ""
    if m.export is not None:
        from journeykit.events.presets import EXPORTS, Fields

        preset = EXPORTS[m.export]
        d = preset.derive(Fields(scan, preset.group))
        if preset.group is not None:
            from_sql, order = preset.numbered(scan.from_sql), " ORDER BY __jk_n"
        customer, event = _blank_is_null(d.customer_id), _blank_is_null(d.event)
        when, props = text_to_utc_sql(d.timestamp, timezone), d.properties
        value_text = _blank_is_null(d.value) if d.value else "NULL"
        number = f"TRY_CAST({value_text} AS DOUBLE)"
        names = {"customer_id": d.fields["customer_id"], "event": d.fields["event"],
                 "timestamp": d.fields["timestamp"], "value": d.fields.get("value", ""),
                 "properties": d.fields.get("properties", "properties")}  # fmt: skip
    else:
        customer, event = _customer_id(scan, m), _blank_is_null(scan.text(m.event))
        when, props = _timestamp(scan, m, timezone), _properties(scan, m)
        value_text, number = _value(scan, m.value)
        names = {"customer_id": " or ".join(m.customer_id), "event": m.event,
                 "timestamp": m.timestamp, "value": m.value or "",
                 "properties": m.properties or "properties"}  # fmt: skip
    inner = (
        f"SELECT src.*, {customer} AS __jk_customer_id, {event} AS __jk_event, "
        f"{when} AS __jk_timestamp, {value_text} AS __jk_value_text, "
        f"CASE WHEN isfinite({number}) THEN {number} END AS __jk_value, "
        f"{props} AS __jk_properties "
        f"FROM ({from_sql}) AS src"
    )
    refusals: list[tuple[str, str, str] | None] = [
        (f"contains({scan.raw()}, chr(0))", NUL_BYTE, "") if nul else None,
        ("_j IS NULL", BAD_JSON, "line") if scan.format == "jsonl" else None,
        ("__jk_customer_id IS NULL", MISSING_CUSTOMER_ID, names["customer_id"]),
        ("__jk_event IS NULL", MISSING_EVENT, names["event"]),
        ("__jk_timestamp IS NULL", BAD_TIMESTAMP, names["timestamp"]),
        # Every analysis hands times to Python (datetime: years 1-9999); 'infinity' too is out.
        (
            f"NOT (__jk_timestamp BETWEEN {_FIRST} AND {_LAST})",
            TIMESTAMP_OUT_OF_RANGE,
            names["timestamp"],
        ),
        ("__jk_value IS NULL AND __jk_value_text IS NOT NULL", NON_NUMERIC_VALUE, names["value"]),
        ("__jk_properties IS NULL", BAD_PROPERTIES, names["properties"]),
        *checks,
    ]
    tests = [c for c in refusals if c is not None]
    # One CASE finds the first failing test, each tested once; reason and field are looked up
    # from its number (only on refused rows), not found again by two CASEs repeating every test.
    # The cast (one that could fail, though 1..len(tests) never does) keeps DuckDB from pushing
    # a caller's `WHERE reason IS NULL` below the typing: pushed, the filter computes every
    # typed value and the projection above it again (a third of a database import's checks).
    code = " ".join(f"WHEN {t} THEN {i}" for i, (t, _, _) in enumerate(tests, 1))
    reason = " ".join(f"WHEN {i} THEN {quote_literal(r)}" for i, (_, r, _) in enumerate(tests, 1))
    field = " ".join(f"WHEN {i} THEN {quote_literal(f)}" for i, (_, _, f) in enumerate(tests, 1))
    canonical = ", ".join(f"__jk_{c} AS {c}" for c in _CANONICAL)
    hashed = ", ".join(f"__jk_{c}" for c in _CANONICAL)
    ordinal = "_ord, " if scan.typed else ""  # others: the staging rowid
    kept = "".join(f"{c}, " for c in carry)
    # DuckDB runs `CASE x WHEN 1 .. WHEN 2 ..` as x = 1, x = 2, ...: the outer WHEN keeps that to
    # refused rows (and, were the filter ever pushed, x's whole CASE from running once a WHEN).
    refused = "CASE WHEN __jk_code IS NOT NULL THEN"
    return (
        f"SELECT {ordinal}{kept}{canonical}, {refused} CASE __jk_code {reason} END END AS reason, "
        f"{refused} CASE __jk_code {field} END END AS field, "
        f"{refused} {scan.raw()} END AS raw, "
        f"{f'hash({hashed})' if row_hash else 'NULL'} AS _h "
        f"FROM (SELECT *, CAST(CASE {code} END AS USMALLINT) AS __jk_code FROM ({inner})){order}"
    )
