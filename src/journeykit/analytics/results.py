"""Typed results shared by the Python API, the CLI, the reports and the web app.

Each result has one JSON shape (``to_dict``) and table views (``to_pandas``/``to_polars``).
"""

from __future__ import annotations

import html
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import numpy as np

from journeykit.analytics.quantiles import percentiles

if TYPE_CHECKING:
    import pandas as pd
    import polars as pl

    from journeykit.analytics.windows import CalendarMonths


NONE = np.iinfo(np.int64).min  # no time: the step was not reached
_EPOCH = datetime(1970, 1, 1)
_FIRST_US = (datetime(1, 1, 1) - _EPOCH) // timedelta(microseconds=1)
_LAST_US = (datetime(9999, 12, 31, 23, 59, 59, 999999) - _EPOCH) // timedelta(microseconds=1)


def iso_time(us: int | None) -> str | None:
    if us is None:
        return None
    # Integer microseconds: a float rounds 9999-12-31 23:59:59.999999 up into the year 10000.
    return (_EPOCH + timedelta(microseconds=int(us))).isoformat()


def iso_times(us: np.ndarray) -> list[str]:
    """``[iso_time(x) for x in us]`` for many times at once (numpy formats them)."""
    us = np.asarray(us, dtype=np.int64)
    if len(us) == 0 or us.min() < _FIRST_US or us.max() > _LAST_US:
        return [iso_time(x) or "" for x in us.tolist()]
    text = np.datetime_as_string(us.astype("datetime64[us]"))
    whole = (us % 1_000_000 == 0).tolist()
    # isoformat leaves out a zero fraction of a second
    return [t[:-7] if w else t for t, w in zip(text.tolist(), whole, strict=True)]


def rounded(values: np.ndarray, digits: int) -> list[float]:
    """``[round(float(v), digits) for v in values]``, vectorised: the nearest integer of the
    scaled value divided back is Python's answer (one correctly rounded division, as Python
    reads back its decimal) except near a tie, where the scaled product's own rounding may
    decide; those, and values too large for that argument, take Python's ``round``."""
    v = np.asarray(values, dtype=np.float64)
    scale = 10.0**digits
    with np.errstate(all="ignore"):  # nan, inf and overflow go to Python below
        x = v * scale
        out = (np.rint(x) / scale).tolist()
        exact = np.abs(x) < 2.0**30  # false for nan and inf too
        near = np.abs(x - np.floor(x) - 0.5) < 1e-6
    for i in np.flatnonzero(near | ~exact).tolist():
        out[i] = round(float(v[i]), digits)
    return list(out)


def json_bytes(result: Result) -> bytes:
    """The result's JSON as the CLI prints it, ``json.dumps(to_dict(), indent=2,
    ensure_ascii=False)`` in UTF-8. A result that lists every customer writes it from its
    columns (``json_text``, through ``records_json``): Python's indenting encoder is pure
    Python, about a second per 100k customers (issue 22)."""
    text = getattr(result, "json_text", None)
    if text is not None:
        import orjson

        try:
            written: str = text()
            return written.encode("utf-8")
        except orjson.JSONEncodeError:  # e.g. a lone surrogate: json's own error, or text
            pass
    return json.dumps(result.to_dict(), indent=2, ensure_ascii=False).encode("utf-8")


def indented_json(document: Any) -> bytes:
    """``json.dumps(document, indent=2, ensure_ascii=False)`` in UTF-8, written by orjson.

    The same bytes only for what both write alike: str (every code point escaped the same),
    int, bool, None, lists, dicts with str keys, naive ``datetime`` (orjson writes its
    ``isoformat()``) and floats through ``exact_floats``. tests/analytics/test_json_text.py
    holds orjson to that.
    """
    import orjson

    return orjson.dumps(document, option=orjson.OPT_INDENT_2)


@dataclass(frozen=True)
class Shared:
    """A field of ``records_json`` that takes one of a few values: row ``r`` has
    ``values[codes[r]]`` (each value is written once)."""

    values: Sequence[Any]
    codes: np.ndarray


_FIELD = "\n      "  # a field of a record in a list under the document's top level


def records_json(head: dict[str, Any], key: str, fields: dict[str, list[Any] | Shared]) -> str:
    """``indented_json({**head, key: records})`` as text, where record ``r`` is ``{name:
    column[r] for name, column in fields}`` (a ``Shared`` column: its value for ``r``), written
    from the columns: 100k dicts cost more to build, write and free than the text (issue 22).

    Values as ``indented_json`` takes them. A record is fixed text (keys, punctuation and
    ``Shared`` values, their codes combined) between the texts of its scalar fields, made by
    one orjson call per column; then one join.
    """
    import orjson

    start = orjson.dumps({**head, key: []}, option=orjson.OPT_INDENT_2).decode()
    n = _length(next(iter(fields.values()))) if fields else 0
    if n == 0:
        return start
    fixed = first = _Segment()
    pieces: list[_Segment | list[str]] = [fixed]  # fixed text, scalar texts, fixed text, ...
    for i, (name, column) in enumerate(fields.items()):
        fixed.add(("    {" if i == 0 else ",") + _FIELD + _text(name) + ": ")
        if isinstance(column, Shared):
            if not fixed.fits(len(column.values)):
                fixed = _Segment()
                pieces.append(fixed)
            fixed.add_shared([_field_text(v) for v in column.values], column.codes)
            continue
        quote, texts = _scalar_texts(column)
        fixed.add(quote)
        fixed = _Segment()
        pieces += [texts, fixed]
        fixed.add(quote)
    fixed.add("\n    },\n")
    lead = ""
    if fixed is not first and first.codes is None:  # every record starts with the same text:
        lead = first.texts[0]  # the previous record's end writes it
        fixed.add(lead)
        pieces.pop(0)
    columns = [r.per_row(n) if isinstance(r, _Segment) else r for r in pieces]
    parts = [""] * (n * len(columns) + 2)
    for k, texts in enumerate(columns):
        parts[1 + k : len(parts) - 1 : len(columns)] = texts
    parts[0] = start[: -len("[]\n}")] + "[\n" + lead
    parts[-2] = parts[-2][: len(parts[-2]) - len(",\n" + lead)]
    parts[-1] = "\n  ]\n}"
    return "".join(parts)


def _length(column: list[Any] | Shared) -> int:
    return len(column.codes if isinstance(column, Shared) else column)


class _Segment:
    """Fixed text between two scalar fields of a record: a table of texts and each record's
    code into it (``None``: one text for all)."""

    most = 4096  # texts in a table: Shared columns side by side multiply them

    def __init__(self) -> None:
        self.texts = [""]
        self.codes: np.ndarray | None = None

    def add(self, text: str) -> None:
        self.texts = [t + text for t in self.texts]

    def fits(self, k: int) -> bool:
        return len(self.texts) * k <= self.most

    def add_shared(self, texts: list[str], codes: np.ndarray) -> None:
        self.texts = [t + u for t in self.texts for u in texts]
        codes = np.asarray(codes, dtype=np.int64)
        self.codes = codes if self.codes is None else self.codes * len(texts) + codes

    def per_row(self, n: int) -> list[str]:
        if self.codes is None:
            return self.texts * n
        return list(np.asarray(self.texts, dtype=object)[self.codes].tolist())


def _text(value: Any) -> str:
    import orjson

    return orjson.dumps(value).decode()


def _field_text(value: Any) -> str:
    import orjson

    return orjson.dumps(value, option=orjson.OPT_INDENT_2).decode().replace("\n", _FIELD)


def _scalar_texts(column: list[Any]) -> tuple[str, list[str]]:
    """Each value's JSON as a record's field, from one orjson call where the column allows:
    all texts needing no escape (returned without their quotes, and the quote), or all
    numbers, bools and nulls."""
    blob = _text(column)[1:-1]
    if not column:
        return "", []
    if blob[0] == '"' and "\\" not in blob and blob.count('"') == 2 * len(column):
        return '"', blob[1:-1].split('","')  # a quote in a text would have been escaped
    if not any(c in blob for c in '"[{'):  # numbers, bools and nulls: none holds a comma
        return "", blob.split(",")
    return "", [_field_text(v) for v in column]


def exact_floats(values: np.ndarray) -> list[Any]:
    """Floats for ``indented_json``: orjson and ``repr`` agree between 1e-4 and 1e16 (and on
    zero); outside it, and for nan and inf, the value is handed over as json's own text."""
    import orjson

    v = np.asarray(values, dtype=np.float64)
    out: list[Any] = v.tolist()
    with np.errstate(invalid="ignore"):
        size = np.abs(v)
        alike = (v == 0) | ((size >= 1e-4) & (size < 1e16))
    for i in np.flatnonzero(~alike).tolist():
        out[i] = orjson.Fragment(json.dumps(out[i]))
    return out


def json_times(us: np.ndarray) -> list[Any]:
    """Times for ``indented_json`` as ``iso_times`` writes them: naive datetimes (numpy makes
    them ten times faster than the text), the text itself outside years 1-9999."""
    us = np.asarray(us, dtype=np.int64)
    if len(us) == 0 or us.min() < _FIRST_US or us.max() > _LAST_US:
        return list(iso_times(us))
    return list(us.astype("datetime64[us]").tolist())


@runtime_checkable
class Result(Protocol):
    """What every result offers, the one shape the CLI, the web API and notebooks read: ``rows``
    (flat, for CSV and tables), ``to_dict`` (the JSON), ``to_pandas`` and ``to_polars``."""

    def rows(self) -> list[dict[str, Any]]: ...

    def to_dict(self) -> dict[str, Any]: ...

    def to_pandas(self) -> pd.DataFrame: ...

    def to_polars(self) -> pl.DataFrame: ...


class _Tabular:
    """``to_pandas``/``to_polars``/notebook HTML from one list of row dicts (``Result``)."""

    def rows(self) -> list[dict[str, Any]]:
        raise NotImplementedError

    def to_pandas(self) -> pd.DataFrame:
        import pandas as pd

        return pd.DataFrame(self.rows())

    def to_polars(self) -> pl.DataFrame:
        from journeykit._optional import require

        polars = require("polars", extra="polars")
        frame: pl.DataFrame = polars.DataFrame(self.rows())
        return frame

    def _repr_html_(self) -> str:
        rows = self.rows()[:50]
        if not rows:
            return "<p>(no rows)</p>"
        head = "".join(f"<th>{html.escape(str(k))}</th>" for k in rows[0])
        body = "".join(
            "<tr>" + "".join(f"<td>{html.escape(str(v))}</td>" for v in r.values()) + "</tr>"
            for r in rows
        )
        return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


@dataclass(frozen=True)
class TimeStats:
    """Distribution of durations in seconds: quantiles by linear interpolation, and a histogram."""

    count: int
    median: float
    p25: float
    p75: float
    p90: float
    histogram: tuple[tuple[float, float, int], ...]  # (from_seconds, to_seconds, customers)
    mean: float = 0.0

    @classmethod
    def of(cls, seconds: np.ndarray, bins: int = 10) -> TimeStats | None:
        if len(seconds) == 0:
            return None
        q = percentiles(seconds, [50, 25, 75, 90])
        counts, edges = np.histogram(seconds, bins=bins)
        hist = tuple(
            (float(edges[i]), float(edges[i + 1]), int(counts[i])) for i in range(len(counts))
        )
        mean = float(np.mean(seconds))
        return cls(len(seconds), float(q[0]), float(q[1]), float(q[2]), float(q[3]), hist, mean)

    @property
    def median_timedelta(self) -> timedelta:
        return timedelta(seconds=self.median)

    def to_dict(self) -> dict[str, Any]:
        return {
            "count": self.count,
            "median_seconds": self.median,
            "mean_seconds": self.mean,
            "p25_seconds": self.p25,
            "p75_seconds": self.p75,
            "p90_seconds": self.p90,
            "histogram": [
                {"from_seconds": a, "to_seconds": b, "customers": n} for a, b, n in self.histogram
            ],
        }


@dataclass(frozen=True)
class FunnelStep:
    milestone: str
    title: str
    customers: int
    dropped: int  # furthest step here, and no attempt has time left at `now`
    in_progress: int  # furthest step here, but an attempt's window is still open at `now`
    share_of_start: float
    share_of_previous: float
    time_from_previous: TimeStats | None
    time_from_start: TimeStats | None

    def to_dict(self) -> dict[str, Any]:
        prev, start = self.time_from_previous, self.time_from_start
        return {
            "milestone": self.milestone,
            "title": self.title,
            "customers": self.customers,
            "dropped": self.dropped,
            "in_progress": self.in_progress,
            "share_of_start": self.share_of_start,
            "share_of_previous": self.share_of_previous,
            "median_seconds_from_previous": prev.median if prev else None,
            "median_seconds_from_start": start.median if start else None,
            "time_from_previous": prev.to_dict() if prev else None,
            "time_from_start": start.to_dict() if start else None,
        }


@dataclass(frozen=True)
class FunnelResult(_Tabular):
    """How many customers reached each step of a path, and how long it took (docs/metrics.md)."""

    path: str
    mode: str
    window: timedelta | CalendarMonths | None
    now: int  # microseconds since the epoch: the "as of" time
    steps: tuple[FunnelStep, ...]
    customer_ids: np.ndarray
    furthest: np.ndarray  # per customer: index of the furthest step
    open: np.ndarray  # per customer: an attempt is still in progress
    step_times: np.ndarray | None  # per customer x step: microseconds, or NONE
    breakdown: dict[str, tuple[FunnelStep, ...]] | None = None
    breakdown_by: str | None = None
    window_source: str = "given"  # "designed": the path's designed window (analytics.windows)
    semantics: str = "journeykit"  # or a peer's: "posthog", "clickhouse" (funnel_semantics)
    optional: tuple[bool, ...] = ()  # per step: optional on the path
    passed: np.ndarray | None = None  # per customer x step, when counts are not by furthest step
    filters: tuple[str, ...] = ()  # the customer filters applied: "persona=team", "cohort=2024-03"
    aggregate_by: str | None = None  # the unit counted instead of customers: "property:company"
    without_unit: int = 0  # with aggregate_by: events left out because they lack the unit

    @property
    def window_text(self) -> str:
        """The window as stated next to every funnel number."""
        from journeykit.analytics.windows import describe_window

        return describe_window(self.window, self.window_source)

    @property
    def counts(self) -> list[int]:
        return [s.customers for s in self.steps]

    def rows(self) -> list[dict[str, Any]]:
        """One row per step; with a breakdown, also one per group and step (``group`` column)."""

        def flat(steps: tuple[FunnelStep, ...]) -> list[dict[str, Any]]:
            return [
                {k: v for k, v in s.to_dict().items() if not isinstance(v, dict)} for s in steps
            ]

        if self.breakdown is None:
            return flat(self.steps)
        out = [{"group": "(all)", **r} for r in flat(self.steps)]
        for group, steps in self.breakdown.items():
            out += [{"group": group, **r} for r in flat(steps)]
        return out

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "path": self.path,
            "mode": self.mode,
            "window_seconds": self.window.total_seconds()
            if isinstance(self.window, timedelta)
            else None,
            "window": self.window_text,
            "now": iso_time(self.now),
            "steps": [s.to_dict() for s in self.steps],
        }
        if self.window is not None and not isinstance(self.window, timedelta):
            out["window_months"] = self.window.months
        if self.semantics != "journeykit":
            out["semantics"] = self.semantics
        if self.filters:
            out["filters"] = list(self.filters)
        if self.aggregate_by is not None:
            out["aggregate_by"] = self.aggregate_by
            out["events_without_unit"] = self.without_unit
        if self.breakdown is not None:
            out["breakdown_by"] = self.breakdown_by
            out["breakdown"] = {
                group: [s.to_dict() for s in steps] for group, steps in self.breakdown.items()
            }
        return out

    def customer_rows(self) -> list[dict[str, Any]]:
        """Per customer: furthest step and its state (completed, in_progress, dropped)."""
        ids = [s.milestone for s in self.steps]
        last = len(ids) - 1
        out = []
        for cid, level, is_open in zip(self.customer_ids, self.furthest, self.open, strict=True):
            state = "completed" if level == last else ("in_progress" if is_open else "dropped")
            out.append({"customer_id": str(cid), "furthest": ids[level], "state": state})
        return out


def stats_from(seconds: Sequence[float] | np.ndarray) -> TimeStats | None:
    return TimeStats.of(np.asarray(seconds, dtype=np.float64))
