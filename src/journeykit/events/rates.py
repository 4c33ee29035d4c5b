"""Values in several currencies, converted with a rates file the user gives (never fetched).

A rates file is a CSV ``date,currency,rate``: from that date on (until the currency's next
row), one unit of the currency is worth ``rate`` units of the base currency. It is loaded into
the workspace's ``rates`` table with the base and the property that names an event's currency
(default ``currency``); the ``events`` view then gives every event's ``value`` in the base
currency, so every analysis (CLV, value at stake) adds like with like. ``source_value`` keeps
the value as given.

An event in the base currency, or with no currency property, keeps its value. Loading is
refused, naming the currency and the first date, when any stored event has a currency the
file has no rate for at its time: a value must not be silently dropped or left unconverted.
"""

from __future__ import annotations

import csv
import json
import math
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from journeykit.events.errors import EventFileError, EventsError
from journeykit.events.sqltext import json_pointer, quote_literal


class RatesError(EventsError):
    """Events in a currency the workspace's rates do not cover."""


@dataclass(frozen=True)
class Rates:
    base: str
    property: str
    rows: tuple[tuple[str, date, float], ...]  # currency (upper case), valid from, rate

    def to_json(self) -> str:
        return json.dumps({"base": self.base, "property": self.property})


def read_rates(path: Path, *, base: str, prop: str = "currency") -> Rates:
    rows: list[tuple[str, date, float]] = []
    try:
        with path.open(newline="", encoding="utf-8-sig") as fh:
            reader = csv.DictReader(fh)
            if reader.fieldnames is None or not {"date", "currency", "rate"} <= set(
                reader.fieldnames
            ):
                raise EventFileError(path, "expected the columns date,currency,rate", line=1)
            for row in reader:
                rows.append(_rate(path, reader.line_num, row))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise EventFileError(path, f"cannot be read: {exc}") from None
    seen: dict[tuple[str, date], int] = {}
    for i, (currency, day, _) in enumerate(rows):
        if (currency, day) in seen:
            raise EventFileError(path, f"two rates for {currency} on {day}")
        seen[(currency, day)] = i
    return Rates(base.upper(), prop, tuple(rows))


def _rate(path: Path, line: int, row: dict[str, Any]) -> tuple[str, date, float]:
    try:
        day = date.fromisoformat(str(row["date"]).strip())
    except ValueError:
        raise EventFileError(
            path, f"date: expected YYYY-MM-DD, got {row['date']!r}", line=line
        ) from None
    currency = str(row["currency"] or "").strip().upper()
    if len(currency) != 3 or not currency.isalpha():
        raise EventFileError(
            path, f"currency: expected a 3-letter code, got {currency!r}", line=line
        )
    try:
        rate = float(row["rate"])
    except (TypeError, ValueError):
        rate = math.nan
    if not math.isfinite(rate) or rate <= 0:
        raise EventFileError(
            path, f"rate: expected a positive number, got {row['rate']!r}", line=line
        )
    return currency, day, rate


def currency_sql(prop: str, column: str = "properties") -> str:
    """An event's currency code, upper case, from its properties (NULL without one)."""
    return f"upper(trim({column} ->> {quote_literal(json_pointer(prop))}))"


def store_rates(runner: Any, rates: Rates) -> None:
    """Replace the workspace's rates (inside the caller's transaction), after checking that
    every stored event in another currency has a rate at its time."""
    runner.execute("DELETE FROM rates")
    if rates.rows:
        runner.execute(
            "INSERT INTO rates SELECT unnest($c), unnest($d), unnest($r)",
            {"c": [r[0] for r in rates.rows], "d": [r[1] for r in rates.rows],
             "r": [r[2] for r in rates.rows]},
        )  # fmt: skip
    runner.execute(
        "INSERT OR REPLACE INTO journeykit_meta VALUES ('rates', $v)", {"v": rates.to_json()}
    )
    check_rates(runner, rates.base, rates.property)


def check_rates(runner: Any, base: str, prop: str) -> None:
    """Refuse (nothing changes) when a stored event's currency has no rate at its time."""
    cur = currency_sql(prop)
    missing = runner.fetchall(
        f"SELECT e.cur, min(e.timestamp), count(*) FROM (SELECT {cur} AS cur, timestamp "
        "FROM event_rows WHERE value IS NOT NULL) e ASOF LEFT JOIN rates r "
        "ON e.cur = r.currency AND e.timestamp >= r.valid_from "
        f"WHERE e.cur IS NOT NULL AND e.cur <> {quote_literal(base)} AND r.rate IS NULL "
        "GROUP BY 1 ORDER BY 3 DESC LIMIT 5"
    )
    if missing:
        shown = "; ".join(f"{c} from {t:%Y-%m-%d} ({n:,} events)" for c, t, n in missing)
        raise RatesError(
            f"the workspace's rates (journeykit rates) have no rate for {shown}; add rows for "
            "them and load the rates again (nothing was changed)"
        )


def value_sql(runner: Any) -> tuple[str, str]:
    """The events view's value expression and the join it needs (none without rates)."""
    row = runner.fetchall("SELECT value FROM journeykit_meta WHERE key = 'rates'")
    has_rates = bool(row) and runner.fetchone("SELECT count(*) > 0 FROM rates")[0]
    if not has_rates:
        return "e.value", ""
    spec = json.loads(row[0][0])
    check_rates(runner, spec["base"], spec["property"])
    cur = currency_sql(spec["property"], "e.properties")
    base = quote_literal(spec["base"])
    value = (
        f"CASE WHEN e.value IS NULL OR {cur} IS NULL OR {cur} = {base} THEN e.value "
        "ELSE e.value * r.rate END"
    )
    join = f" ASOF LEFT JOIN rates r ON {cur} = r.currency AND e.timestamp >= r.valid_from"
    return value, join
