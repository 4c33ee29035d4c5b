"""Timestamps as people export them, turned into UTC without a zone (see events.schema).

Accepted, per value (one file may mix them):
- ISO 8601 with an offset (``2024-03-01T09:30:00+02:00``, ``...Z``, ``...+0530``): converted to UTC.
- ISO 8601 without an offset, and plain dates (``2024-03-01``): read in ``timezone`` (default UTC).
- Epoch numbers: seconds, or milliseconds when the magnitude is at least 1e11. As seconds 1e11 is
  the year 5138; as milliseconds it is 1973-03-03, so the two ranges cannot be confused for any
  real event log. Fractions are kept to the microsecond.
Anything else is "unparseable timestamp": words (``epoch``, ``infinity``, ``inf``) and offsets
beyond ``+23:59``/``-23:59`` (``+25:00``) among them. A timestamp that reads but falls outside
years 1 to 9999 (``10000-01-01``, ``0000-01-01``, ``8999999999999999``) is refused as "timestamp
out of range" (events.clean): every analysis hands times to Python, whose dates stop there.
"""

from __future__ import annotations

from functools import cache
from zoneinfo import available_timezones

from journeykit.events.errors import EventsError

EPOCH_MS_THRESHOLD = 100_000_000_000
# Beyond this (in ms) DuckDB's timestamp range ends; such numbers are not timestamps.
_EPOCH_MS_LIMIT = 9_000_000_000_000_000
_OFFSET = r"\d[T ]\d\d:\d\d(:\d\d(\.\d+)?)?\s*([Zz]|[+-]([01]\d|2[0-3])(:?[0-5]\d)?)$"
# Text DuckDB would read but we do not: words ('epoch', 'infinity') and offsets _OFFSET refused.
_NOT_A_TIME = r"^[^0-9]|\d:\d\d(:\d\d(\.\d+)?)?\s*[+-]\d+(:?\d+)?$"
_NUMBER = r"[+-]?\d+(\.\d+)?"
_COMMON_SHAPES = ("____-__-__ __:__:__", "____-__-__T__:__:__", "____-__-__")


@cache
def _zones() -> frozenset[str]:
    return frozenset(available_timezones())


def check_timezone(name: str) -> str:
    """The IANA zone name, or an error: a typo must not silently shift every event."""
    if name == "UTC" or name in _zones():
        return name
    from journeykit.errors import did_you_mean

    raise EventsError(f"unknown time zone {name!r}{did_you_mean(name, _zones())} (IANA names)")


def _naive(expr: str, timezone: str) -> str:
    # $tz is the checked zone name, passed as a query parameter.
    return expr if timezone == "UTC" else f"timezone('UTC', timezone($tz, {expr}))"


def epoch_sql(number: str) -> str:
    """Epoch seconds or milliseconds (by magnitude) as a UTC timestamp."""
    return (
        f"CASE WHEN abs({number}) >= {_EPOCH_MS_LIMIT} THEN NULL "
        f"WHEN abs({number}) >= {EPOCH_MS_THRESHOLD} "
        f"THEN make_timestamp(CAST({number} * 1000 AS BIGINT)) "
        f"ELSE make_timestamp(CAST({number} * 1000000 AS BIGINT)) END"
    )


def text_to_utc_sql(text: str, timezone: str) -> str:
    """A SQL expression turning the text column ``text`` into a UTC timestamp (NULL if not one)."""
    t = f"trim({text})"
    # The common shapes first: 'YYYY-MM-DD' and 'YYYY-MM-DD HH:MM:SS' need no regular expression.
    common = " OR ".join(f"{text} LIKE '{shape}'" for shape in _COMMON_SHAPES)
    return (
        "CASE "
        f"WHEN {common} THEN {_naive(f'TRY_CAST({text} AS TIMESTAMP)', timezone)} "
        f"WHEN regexp_full_match({t}, '{_NUMBER}') THEN {epoch_sql(f'TRY_CAST({t} AS DOUBLE)')} "
        f"WHEN regexp_matches({t}, '{_OFFSET}') "
        # DuckDB reads no space before the offset ("... 09:58:12 +0000", as Shopify writes).
        f"THEN timezone('UTC', TRY_CAST(regexp_replace({t}, '\\s+([-+Zz])', '\\1') "
        "AS TIMESTAMPTZ)) "
        f"WHEN regexp_matches({t}, '{_NOT_A_TIME}') THEN NULL "
        f"ELSE {_naive(f'TRY_CAST({t} AS TIMESTAMP)', timezone)} END"
    )


def typed_to_utc_sql(column: str, duck_type: str, timezone: str) -> str:
    """The same rules for a column that already has a type (Parquet)."""
    kind = duck_type.upper()
    if kind.startswith("TIMESTAMP WITH TIME ZONE") or kind == "TIMESTAMPTZ":
        return f"timezone('UTC', {column})"
    if kind.startswith("TIMESTAMP") or kind == "DATE":
        return _naive(f"CAST({column} AS TIMESTAMP)", timezone)
    if kind in {"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "FLOAT", "DOUBLE"} or (
        kind.startswith(("DECIMAL", "UBIGINT", "UINTEGER", "USMALLINT", "UTINYINT"))
    ):
        return epoch_sql(f"CAST({column} AS DOUBLE)")
    return text_to_utc_sql(f"CAST({column} AS VARCHAR)", timezone)
