"""A Parquet file staged narrow gives the events, refusals and copies of the full stage."""

from __future__ import annotations

import os
import random
from pathlib import Path

import duckdb
import pytest

from journeykit.engine.duckdb import DuckDBEngine
from journeykit.events.reader import read_events


def _write_parquet(path: Path, rows: list[tuple[object, ...]]) -> None:
    con = duckdb.connect()
    con.execute(
        "CREATE TABLE t (customer_id VARCHAR, event VARCHAR, timestamp VARCHAR, value VARCHAR, "
        "properties VARCHAR, extra INTEGER)"
    )
    con.executemany("INSERT INTO t VALUES (?, ?, ?, ?, ?, ?)", rows)
    con.execute(f"COPY t TO '{path}' (FORMAT parquet, ROW_GROUP_SIZE 500)")
    con.close()


def _dirty_rows(rng: random.Random) -> list[tuple[object, ...]]:
    """Good rows, refused rows of every kind a Parquet row can have, exact and near copies."""
    rows: list[tuple[object, ...]] = []
    for i in range(3000):
        kind = rng.choice(["good"] * 8 + ["no id", "no event", "bad time", "far", "text value",
                                          "bad props", "copy", "near"])  # fmt: skip
        good = (f"c{i % 131}", f"e{i % 7}", f"2024-01-{1 + i % 28:02d} 10:00:00",
                str(i % 11), '{"a": 1}', i % 3)  # fmt: skip
        if kind == "good":
            rows.append(good)
        elif kind == "no id":
            rows.append((None, *good[1:]))
        elif kind == "no event":
            rows.append((good[0], "", *good[2:]))
        elif kind == "bad time":
            rows.append((*good[:2], "not a time", *good[3:]))
        elif kind == "far":
            rows.append((*good[:2], "99999-01-01", *good[3:]))
        elif kind == "text value":
            rows.append((*good[:3], "lots", *good[4:]))
        elif kind == "bad props":
            rows.append((*good[:4], "{not json", good[5]))
        elif kind == "copy" and rows:
            rows.append(rng.choice(rows))
        elif rows:  # one column apart from an earlier row: not a copy
            base = rng.choice(rows)
            rows.append((*base[:5], (int(base[5] or 0) + 1) % 3))
    return rows


def _read(path: Path, narrow: bool) -> tuple[object, ...]:
    engine = DuckDBEngine()
    try:
        read = read_events(engine, path, narrow=narrow)
        events = engine.fetchall(
            "SELECT customer_id, event, CAST(timestamp AS VARCHAR), value, properties, count(*) "
            f"FROM ({read.events.compile()}) GROUP BY ALL ORDER BY ALL"
        )
        rejected = engine.fetchall(
            f"SELECT line, field, reason, raw FROM {read.result.tables.rejected} ORDER BY line"
        )
        staged_narrow = read.result.reread is not None
        r = read.result
    finally:
        engine.close()
    return staged_narrow, events, rejected, read.duplicates, r.read, r.kept, r.rejected


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_narrow_stage_equals_the_full_stage(tmp_path: Path, seed: int) -> None:
    """The oracle is the full stage: same events (with their multiplicity), same refused rows
    with line, field, reason and text, same copies and counts."""
    path = tmp_path / "dirty.parquet"
    _write_parquet(path, _dirty_rows(random.Random(seed)))
    narrow, full = _read(path, narrow=True), _read(path, narrow=False)
    assert narrow[0] is True and full[0] is False
    assert narrow[1:] == full[1:]
    _, events, rejected, duplicates, read, kept, refused = narrow
    assert read == kept + refused
    assert rejected and duplicates > 0 and refused == len(rejected)
    assert sum(int(str(e[-1])) for e in events) == kept - duplicates
    assert all(e[-1] == 1 for e in events)  # exact copies are counted once


def test_text_files_and_other_zones_are_staged_whole(tmp_path: Path) -> None:
    csv = tmp_path / "e.csv"
    csv.write_text("customer_id,event,timestamp\nc1,open,2024-01-01\n")
    parquet = tmp_path / "e.parquet"
    _write_parquet(parquet, [("c1", "open", "2024-01-01", None, None, 1)])
    engine = DuckDBEngine()
    try:
        assert read_events(engine, csv).result.reread is None
        assert read_events(engine, parquet, timezone="Europe/Paris").result.reread is None
        assert read_events(engine, parquet).result.reread is not None
    finally:
        engine.close()


def test_a_file_changed_after_the_read_is_not_read_again_silently(tmp_path: Path) -> None:
    path = tmp_path / "events.parquet"
    _write_parquet(path, [("c1", "open", "2024-01-01", None, None, 1)] * 3)
    engine = DuckDBEngine()
    try:
        read = read_events(engine, path)
        assert read.events.count().execute() == 1
        _write_parquet(path, [("c2", "open", "2024-01-02", None, None, 1)] * 3)
        stat = path.stat()
        os.utime(path, (stat.st_atime, stat.st_mtime + 5))
        with pytest.raises(Exception, match=r"events\.parquet: the file changed after it was read"):
            read.events.count().execute()
    finally:
        engine.close()
