"""Line numbers against an oracle: files built record by record, each one's first line known."""

from __future__ import annotations

import gzip
import random
from pathlib import Path

import pytest

from journeykit.engine.duckdb import DuckDBEngine
from journeykit.events.errors import EventFileError
from journeykit.events.reader import read_file, sweep
from journeykit.events.sources import blank_lines, count_lines, text_shape


def _dirty_file(rng: random.Random, newline: str) -> tuple[str, dict[str, int], dict[int, str]]:
    """A CSV whose rows are good, multi-line, blank, short, long or missing an id.

    Returns the text, the line of each good row (by customer id) and the reason per bad line.
    """
    lines = ["customer_id,event,timestamp"]
    good: dict[str, int] = {}
    bad: dict[int, str] = {}
    for i in range(rng.randint(1, 60)):
        kind = rng.choice(["good"] * 6 + ["multi", "blank", "short", "long", "no id", "bad time"])
        here = len(lines) + 1
        cid = f"c{i}"
        if kind == "good":
            lines.append(f"{cid},open,2024-01-01")
            good[cid] = here
        elif kind == "multi":  # a quoted event name over several lines, maybe with blank ones
            parts = ["x" if rng.random() < 0.6 else "" for _ in range(rng.randint(2, 4))]
            lines.extend(f'{cid},"{newline.join(parts)}",2024-01-01'.split(newline))
            good[cid] = here
        elif kind == "blank":
            lines.append("")
        elif kind == "short":
            lines.append(f"{cid},open")
            bad[here] = "wrong number of fields (expected 3, found 2)"
        elif kind == "long":
            lines.append(f"{cid},open,2024-01-01,more")
            bad[here] = "wrong number of fields (expected 3, found 4)"
        elif kind == "no id":
            lines.append(",open,2024-01-01")
            bad[here] = "missing customer id"
        else:
            lines.append(f"{cid},open,someday")
            bad[here] = "unparseable timestamp"
    if not good and not bad:
        lines.append("z,open,2024-01-01")
        good["z"] = len(lines)
    return newline.join(lines) + newline, good, bad


@pytest.mark.parametrize("seed", range(12))
def test_lines_match_the_oracle(tmp_path: Path, seed: int) -> None:
    rng = random.Random(seed)
    text, good, bad = _dirty_file(rng, "\r\n" if seed % 3 == 0 else "\n")
    path = tmp_path / "dirty.csv"
    path.write_bytes(text.encode())
    engine = DuckDBEngine()
    try:
        result = read_file(engine, path)
        lined = result.tables.lined
        got_good = dict(
            engine.fetchall(f"SELECT customer_id, line FROM {lined} WHERE reason IS NULL")
        )
        got_bad = dict(engine.fetchall(f"SELECT line, reason FROM {result.tables.rejected}"))
    finally:
        engine.close()
    assert got_good == good
    assert got_bad == bad
    assert result.read == len(good) + len(bad)


def test_sweep_steps() -> None:
    # Lines: 1 header, 2 row0, 3 blank, 4-6 refused (3 lines), 7 row1 (+2 lines: 7-9), 10 row2.
    assert sweep(2, [3], [(4, 3)], [(1, 2)]) == [(1, 4), (2, 6)]
    # A blank line inside a multi-line row is part of it: row0 spans 2-4, line 3 blank.
    assert sweep(2, [3], [], [(0, 2)]) == [(1, 2)]
    assert sweep(2, [], [], []) == []


def _oracle_blanks(data: bytes) -> list[int]:
    lines = data.split(b"\n")[:-1]  # a line is only blank if a break follows it
    return [i + 1 for i, line in enumerate(lines) if line in (b"", b"\r")]


def test_blank_lines_and_line_count_match_a_split(tmp_path: Path) -> None:
    rng = random.Random(7)
    path = tmp_path / "f.csv"
    for _ in range(200):
        parts = [
            rng.choice([b"a,b", b"", b"\r", b"x\r", b'"q"']) for _ in range(rng.randint(0, 25))
        ]
        data = b"\n".join(parts) + rng.choice([b"", b"\n", b"\r\n"])
        path.write_bytes(data)
        assert blank_lines(path) == _oracle_blanks(data), data
        expected = 0 if not data else data.count(b"\n") + (not data.endswith(b"\n"))
        assert count_lines(path) == expected, data
        assert text_shape(path).lines == expected, data  # the reader's pass counts them too


def test_blank_lines_across_read_chunks(tmp_path: Path) -> None:
    # Blank lines around the 4 MiB read boundary, at every alignment of the pattern.
    rows = [b"" if i in (381_300, 381_301, 381_303) or i % 99_991 == 0 else b"abcdefghij"
            for i in range(400_000)]  # fmt: skip
    body = b"\n".join(rows) + b"\n"
    path = tmp_path / "big.csv"
    for shift in range(12):
        data = b"x" * shift + body.replace(b"\n\n", b"\n\r\n", shift % 2)
        path.write_bytes(data)
        assert blank_lines(path) == _oracle_blanks(data)
    gz = tmp_path / "big.csv.gz"
    gz.write_bytes(gzip.compress(body, compresslevel=1))
    assert blank_lines(gz) == _oracle_blanks(body)
    assert count_lines(gz) == 400_000
    assert text_shape(gz).lines == 400_000


def _read_lines(path: Path) -> tuple[dict[str, int], dict[int, str], int]:
    engine = DuckDBEngine()
    try:
        result = read_file(engine, path)
        lined = result.tables.lined
        good = dict(engine.fetchall(f"SELECT customer_id, line FROM {lined} WHERE reason IS NULL"))
        bad = dict(engine.fetchall(f"SELECT line, reason FROM {result.tables.rejected}"))
    finally:
        engine.close()
    return good, bad, result.read


@pytest.mark.parametrize("seed", range(8))
def test_mixed_line_ends_are_read_and_lines_are_what_an_editor_shows(
    tmp_path: Path, seed: int
) -> None:
    """Each line ends in LF, CRLF or a lone CR at random (seed 0: CR only, 1: a CRLF header
    on LF rows); DuckDB refused all of these files, and a CR-only one was a traceback."""
    rng = random.Random(seed)
    text, good, bad = _dirty_file(rng, "\n")
    physical = text.split("\n")[:-1]
    ends = [rng.choice(["\n", "\r\n", "\r"]) for _ in physical]
    if seed == 0:
        ends = ["\r"] * len(physical)
    elif seed == 1:
        ends = ["\r\n"] + ["\n"] * (len(physical) - 1)
    for i in range(1, len(physical)):  # CR, an empty line, LF: the bytes are one CRLF break
        if ends[i - 1] == "\r" and not physical[i] and ends[i].startswith("\n"):
            ends[i] = "\r"
    path = tmp_path / ("mixed.csv.gz" if seed % 2 else "mixed.csv")
    data = "".join(line + end for line, end in zip(physical, ends, strict=True)).encode()
    path.write_bytes(gzip.compress(data) if seed % 2 else data)
    assert _read_lines(path) == (good, bad, len(good) + len(bad))


def test_nul_bytes_reject_the_row_with_its_line_wherever_they_are(tmp_path: Path) -> None:
    rows = [b"c%d,open,2024-01-01" % i for i in range(6000)]  # line 2 + i; past 64 KiB at ~3500
    for i in (1, 5000):
        rows[i] = b"c%d,op\x00en,2024-01-01" % i
    path = tmp_path / "nul.csv"
    path.write_bytes(b"customer_id,event,timestamp\n" + b"\n".join(rows) + b"\n")
    good, bad, read = _read_lines(path)
    assert bad == {3: "NUL byte in the row", 5002: "NUL byte in the row"}
    assert read == 6000 and len(good) == 5998
    binary = tmp_path / "binary.csv"
    binary.write_bytes(b"c\x00u\x00s\x00t\x00\n\x00" * 10)  # UTF-16, or not text at all
    with pytest.raises(EventFileError, match="looks like a binary file"):
        _read_lines(binary)


@pytest.mark.parametrize("copies", [0, 1, 400])
def test_exact_copies_are_left_out_and_counted_like_a_set(tmp_path: Path, copies: int) -> None:
    """Many repeated hashes (half of them past 2**63) go back to the engine as one text; the
    rows kept are still one of each distinct row, the first, and the copies are counted."""
    from journeykit.events.reader import read_events

    rng = random.Random(copies)
    rows = [f"c{i % 97},e{i % 5},2024-01-{1 + i % 28:02d},{i}" for i in range(2000)]
    again = [rng.choice(rows) for _ in range(copies)]
    lines = rows + again
    rng.shuffle(lines)
    path = tmp_path / "copies.csv"
    path.write_text("customer_id,event,timestamp,value\n" + "\n".join(lines) + "\n")
    engine = DuckDBEngine()
    try:
        read = read_events(engine, path)
        kept = read.events.value.to_pyarrow().to_pylist()
        (hashed,) = engine.fetchone(
            f"SELECT count(*) FROM {read.result.tables.typed} WHERE _h > 9223372036854775807"
        )
    finally:
        engine.close()
    assert read.duplicates == len(lines) - len(set(lines)) == copies
    assert sorted(kept) == sorted(float(r.rsplit(",", 1)[1]) for r in set(lines))
    assert hashed > 0
