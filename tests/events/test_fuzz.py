"""Fuzzing event files (issue 23): any rows are read, kept or refused, and analysed, quickly.

Rows mix good and odd timestamps (every form the reader accepts, the edges of years 1 and
9999, words, huge numbers, offsets), ids and values with quotes, commas, formulas and NULs, and
bytes that are not UTF-8; each line ends in LF, CRLF or a lone CR, and some files start with a
BOM. The header is always good, so no file is refused as a whole: no exception at all, every
row read is kept or refused (read = rows written = kept + rejected), and funnel,
positions, paths and cohorts run on what was kept. Budget: 5 s per file for all of it, and the
process's peak memory may not grow by more than 256 MB over the run. Fixed seed, a few seconds.
"""

from __future__ import annotations

import csv
import io
import resource
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from journeykit.analytics import cohorts, funnel, paths, positions
from journeykit.engine import connect
from journeykit.engine.duckdb import DuckDBEngine
from journeykit.events.reader import read_file
from journeykit.journey import parse_journey

SECONDS, GROWTH_KB = 5.0, 256 * 1024
JOURNEY = parse_journey("""\
id: onb
title: Onboarding
transformation: {from: a, to: b}
milestones:
  - {id: opt_in, title: Opt in, phase: pre, when: opt_in}
  - {id: trial_start, title: Trial, phase: pre, when: trial_start, expected_within: 3d}
  - {id: purchase, title: Purchase, phase: core, when: purchase, expected_within: 10d}
""")
ODD_TIMES = ["infinity", "inf", "-infinity", "epoch", "now", "10000-01-01", "294247-01-10",
             "0000-01-01", "8999999999999999", "-62135596801", "2024-03-01T09:30:00+25:00",
             "0001-01-01", "9999-12-31 23:59:59.999999", "1e10", "NaN", "", " ", "2024-02-30",
             "2024-03-01T09:30:00-23:59", "99999999999999999999999"]  # fmt: skip
WEIRD_TEXT = ["", " ", '"', "a,b", "=SUM(A1)", "+1", "@x", "-2", "é", "\x00", "a\x00b", "\t"]


def peak_kb() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KB on Linux


@pytest.fixture
def start_kb() -> int:
    """The process's peak memory when the test starts (other tests ran before it)."""
    return peak_kb()


@st.composite
def timestamps(draw: Any) -> str:
    when = draw(st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30)))
    form = draw(st.sampled_from(["odd", "iso", "date", "offset", "epoch_s", "epoch_ms", "int"]))
    if form == "odd":
        return draw(st.sampled_from(ODD_TIMES))
    if form == "iso":
        return when.isoformat(sep=draw(st.sampled_from([" ", "T"])))
    if form == "date":
        return when.date().isoformat()
    if form == "offset":
        return when.isoformat() + draw(st.sampled_from(["Z", "+02:00", "-0530", "+14", "+23:59"]))
    seconds = (when.replace(tzinfo=UTC) - datetime(1970, 1, 1, tzinfo=UTC)) / timedelta(seconds=1)
    if form == "epoch_s":
        return str(int(seconds))
    if form == "epoch_ms":
        return str(int(seconds * 1000))
    return str(draw(st.integers(-(10**19), 10**19)))


def texts(known: list[str]) -> st.SearchStrategy[str]:
    return st.sampled_from(known + WEIRD_TEXT) | st.text(max_size=6)


@st.composite
def files(draw: Any) -> tuple[bytes, int]:
    """A CSV file's bytes and how many rows (records) it holds."""
    clean = draw(st.booleans())  # half the files have only good rows: the analyses get data
    ids, events = ["ana", "ben", "cy"], ["opt_in", "trial_start", "purchase", "other"]
    rows = draw(st.lists(st.tuples(
        st.sampled_from(ids) if clean else texts(ids),
        st.sampled_from(events) if clean else texts(events),
        st.dates().map(str) if clean else timestamps(),
        st.sampled_from(["", "1", "2.5", "-3", "nan", "inf", "abc", "1e400"][: 3 if clean else 8]),
    ), min_size=1, max_size=30))  # fmt: skip
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")  # fields holding a CR or LF are quoted
    records = []
    for row in [("customer_id", "event", "timestamp", "value"), *rows]:
        out.seek(0)
        out.truncate()
        writer.writerow(row)
        records.append(out.getvalue()[:-2].encode("utf-8", "surrogatepass"))
    ends = draw(st.lists(st.sampled_from([b"\n", b"\r\n", b"\r"]), min_size=len(records),
                         max_size=len(records)))  # fmt: skip
    if not clean and draw(st.booleans()):  # bytes that are not UTF-8, in a row
        i = draw(st.integers(1, len(records) - 1))
        at = draw(st.integers(0, len(records[i])))
        bad = draw(st.sampled_from([b"\xff", b"\xc3", b"\xed\xa0\x80"]))
        records[i] = records[i][:at] + bad + records[i][at:]
    data = b"".join(record + end for record, end in zip(records, ends, strict=True))
    if draw(st.booleans()):
        data = b"\xef\xbb\xbf" + data
    return data, len(rows)


def analyse(path: Path) -> None:
    engine = connect()
    events = engine.events(str(path))
    for result in (
        funnel(events, JOURNEY, window=timedelta(days=30)),
        positions(events, JOURNEY),
        paths(events, JOURNEY),
        cohorts(events, JOURNEY),
    ):
        result.to_dict()


@settings(max_examples=12, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                 HealthCheck.function_scoped_fixture])  # fmt: skip
@given(file=files())
def test_any_events_file_is_read_and_analysed_within_budget(
    tmp_path: Path, start_kb: int, file: tuple[bytes, int]
) -> None:
    data, rows = file
    path = tmp_path / "fuzz.csv"
    path.write_bytes(data)
    start = time.perf_counter()
    engine = DuckDBEngine()
    try:
        result = read_file(engine, path)
    finally:
        engine.close()
    assert result.read == rows == result.kept + result.rejected
    event("rows rejected" if result.rejected else "no row rejected")
    event("rows kept" if result.kept else "no row kept")
    if result.kept:
        analyse(path)
    assert time.perf_counter() - start < SECONDS
    assert peak_kb() - start_kb < GROWTH_KB
