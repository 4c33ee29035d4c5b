"""Read one events file into typed staging tables, every row kept or refused with a line number.

A row's line is the physical line of the file where its record starts (1-based; a CSV header is
line 1), counting blank lines (which DuckDB skips) and the line breaks inside quoted fields.

DuckDB gives no position for the rows it reads. Staging is one parallel ``CREATE TABLE AS``
that keeps the file's order, so a row's ``rowid`` is its position among the rows read. The
line is that position plus the lines of everything before it that is not a row: blank lines
(found by a byte pass over the file), records DuckDB refused (their byte offsets are in its
reject table) and line breaks inside earlier quoted fields (a second, narrow read, done only
when the line count says there are some). Those corrections are a handful of steps computed
in Python; a clean file has none and pays nothing.

A Parquet file read for analysis only (``read_events``) can be staged narrow: every row is
still typed and checked once, but only what the checks need is kept (``_ord``, ``reason``,
``field``, ``raw``, ``_h``), and the events are a view that reads the file again. Keeping every
typed column cost more (writing them, 200k page faults at 10M rows) than typing them again in
the analysis's scans. A text file is not staged narrow: it would be parsed again on each scan.
"""

from __future__ import annotations

import gzip
import logging
import re
import tempfile
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from journeykit.events.clean import typed_sql
from journeykit.events.errors import EventFileError
from journeykit.events.sources import (
    ColumnMap,
    Resolved,
    Scan,
    TextShape,
    blank_lines,
    count_lines,
    detect_format,
    open_scan,
    resolve,
    text_shape,
    write_with_lf,
)
from journeykit.events.sqltext import quote_literal
from journeykit.events.timestamps import check_timezone

if TYPE_CHECKING:
    import ibis.expr.types as ir

logger = logging.getLogger(__name__)

Progress = Callable[[str, float], None]
# Staging lives in an in-memory database: DuckDB writes temporary tables far slower, and the
# workspace file must only be written inside the import's one transaction.
STAGE = "jk_stage"
_REJECT_TABLES = ("jk_reject_errors", "jk_reject_scans")

_READER_REASONS = {
    "TOO MANY COLUMNS": "wrong number of fields",
    "MISSING COLUMNS": "wrong number of fields",
    "UNQUOTED VALUE": "broken quoting",
    "INVALID ENCODING": "invalid UTF-8",
    "INVALID UNICODE": "invalid UTF-8",
    "LINE SIZE OVER MAXIMUM": "line too long",
}


@dataclass
class ReaderReject:
    """A record DuckDB could not split into fields."""

    offset: int  # where the record starts, in the (decompressed) file's bytes
    lines: int  # physical lines the record spans
    field: str
    reason: str
    raw: str
    line: int = 0  # its physical line, once known


@dataclass(frozen=True)
class Staged:
    """Names of one file's staging tables."""

    typed: str  # every row read: canonical columns (unless narrow), reason, field, raw, _h, rowid
    lined: str  # a view: typed rows with their ``_row`` (rowid) and physical ``line``
    rejected: str  # line, field, reason, raw of every refused row
    copies: str  # _row of every kept row that repeats an earlier row exactly

    @classmethod
    def named(cls, name: str) -> Staged:
        return cls(f"{STAGE}.typed_{name}", f"lined_{name}", f"{STAGE}.rejected_{name}",
                   f"{STAGE}.copies_{name}")  # fmt: skip


@dataclass(frozen=True)
class ReadResult:
    """A file read into its :class:`Staged` tables, with the counts."""

    path: Path
    scan: Scan
    mapping: Resolved
    tables: Staged
    read: int
    kept: int
    rejected: int
    # Staged narrow: the typed rows of the file, read again (with ``_ord``), checked unchanged.
    reread: str | None = None


def read_file(
    runner: Any,
    path: Path,
    *,
    mapping: ColumnMap | None = None,
    timezone: str = "UTC",
    delimiter: str | None = None,
    progress: Progress | None = None,
    name: str = "s0",
    lines: int | Callable[[], int | None] | None = None,
    narrow: bool = False,
) -> ReadResult:
    """Read ``path`` into staging tables; see the module docstring.

    ``narrow``: a Parquet file in UTC is staged narrow (see the module docstring); other files
    are staged whole whatever it says.

    ``lines`` (the file's line count, or a function giving it once the caller's own pass over
    the file is done) saves a pass. A text file whose line ends DuckDB cannot read (a lone CR,
    CRLF mixed with LF) is read from a copy with LF line ends: a line is what an editor shows.
    """
    check_timezone(timezone)
    shape = text_shape(path) if detect_format(path) != "parquet" else TextShape(False, False)
    if not shape.mixed_newlines:
        return _read(runner, path, path, shape.nul, mapping, timezone, delimiter, progress, name,
                     shape.lines if lines is None else lines, narrow)  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="journeykit-lf-") as folder:
        copy = Path(folder) / path.name.removesuffix(".gz").removesuffix(".GZ")
        write_with_lf(path, copy)
        return _read(runner, path, copy, shape.nul, mapping, timezone, delimiter, progress, name,
                     None, narrow=False)  # fmt: skip


def _read(
    runner: Any,
    path: Path,
    source: Path,
    nul: bool,
    mapping: ColumnMap | None,
    timezone: str,
    delimiter: str | None,
    progress: Progress | None,
    name: str,
    lines: int | Callable[[], int | None] | None,
    narrow: bool = False,
) -> ReadResult:
    scan = open_scan(runner, source, delimiter=delimiter)
    resolved = resolve(mapping or ColumnMap(), list(scan.columns), path)
    tables = Staged.named(name)
    runner.execute(f"ATTACH IF NOT EXISTS ':memory:' AS {STAGE}")
    _drop_reject_tables(runner)
    # $tz is a parameter; a view cannot hold one, so other zones are staged whole.
    reread = _reread(runner, scan, resolved) if narrow and timezone == "UTC" else None
    # Order is kept (DuckDB's default preserve_insertion_order) so rowid is the row's position.
    typed = typed_sql(scan, resolved, timezone, nul=nul)
    if reread is not None:
        typed = f"SELECT _ord, reason, field, raw, _h FROM ({typed})"
    sql = f"CREATE OR REPLACE TABLE {tables.typed} AS {typed}"
    params = {**scan.params, **({"tz": timezone} if timezone != "UTC" else {})}
    try:
        runner.execute_with_progress(sql, params, _phase(progress, "reading"))
    except Exception as exc:  # duckdb's own errors: a file problem we cannot pin to a row
        raise EventFileError(path, _first_line(exc)) from None
    rejects = _reader_rejects(runner) if scan.format != "parquet" else []
    good, refused = runner.fetchone(f"SELECT count(*), count(reason) FROM {tables.typed}")
    read = int(good) + len(rejects)
    if read == 0:
        raise EventFileError(path, "no rows: the file has a header but no events")
    if scan.format == "parquet":  # Parquet rows carry their own number
        line_sql = f"SELECT r.*, r.rowid AS _row, r._ord AS line FROM {tables.typed} r"
    else:
        count = lines() if callable(lines) else lines
        if count is None:
            count = count_lines(source)
        steps = _line_steps(runner, scan, int(good), rejects, count)
        line_sql = _lined_sql(runner, tables, steps, 2 if scan.format == "csv" else 1)
    runner.execute(f"CREATE OR REPLACE TEMP VIEW {tables.lined} AS {line_sql}")
    _collect_rejected(runner, tables, rejects)
    _find_copies(runner, tables, reread)
    rejected = int(refused) + len(rejects)
    return ReadResult(path, scan, resolved, tables, read, read - rejected, rejected, reread)


def _reread(runner: Any, scan: Scan, resolved: Resolved) -> str | None:
    """The typed rows of a Parquet file, read again, failing if the file changed since now.

    A view of the file would silently give other answers once the file is replaced; its size
    and modification time (to the second, as DuckDB gives it) are checked on every read.
    """
    if scan.format != "parquet":
        return None
    path = quote_literal(str(scan.path.absolute()))  # the view may be read from elsewhere
    size, modified = runner.fetchone(
        f"SELECT size, CAST(last_modified AS VARCHAR) FROM read_blob({path})"
    )
    changed = quote_literal(f"{scan.path}: the file changed after it was read; read it again")
    check = (
        f"(SELECT CASE WHEN size = {int(size)} AND CAST(last_modified AS VARCHAR) = "
        f"{quote_literal(str(modified))} THEN true ELSE error({changed}) END "
        f"FROM read_blob({path}))"
    )
    again = replace(scan, from_sql=scan.from_sql.replace("$path", path), params={})
    return f"SELECT * FROM ({typed_sql(again, resolved, 'UTC', row_hash=False)}) WHERE {check}"


def _find_copies(runner: Any, t: Staged, reread: str | None = None) -> None:
    """The later copies of exact duplicate rows, found without comparing every row.

    Rows are grouped by a 64-bit hash first, so only rows whose hash repeats (the duplicates
    and the rare collision) go through the exact comparison on all five columns. Sorting the
    hashes in numpy finds the repeated ones in a third of the time of DuckDB's GROUP BY. They go
    back as one text literal split in the engine: as a list literal (70k values on sim) the
    query's parsing and binding took about 0.1 CPU s.
    """
    import numpy as np

    hashes = np.asarray(
        runner.raw.execute(f"SELECT _h FROM {t.typed} WHERE reason IS NULL").fetchnumpy()["_h"]
    )
    hashes.sort()
    repeated = np.unique(hashes[1:][hashes[1:] == hashes[:-1]])
    del hashes
    params = {"repeated": ",".join(map(str, repeated.tolist()))}
    hashed = (
        "reason IS NULL AND _h IN (SELECT CAST(h AS UBIGINT) "
        "FROM unnest(string_split($repeated, ',')) AS u(h) WHERE h <> '')"
    )
    over = "OVER (PARTITION BY customer_id, event, timestamp, value, properties ORDER BY _row)"
    if reread is None:
        runner.execute(
            f"CREATE OR REPLACE TABLE {t.copies} AS SELECT _row FROM {t.lined} "
            f"WHERE {hashed} QUALIFY row_number() {over} > 1",
            params,
        )
        return
    runner.execute(
        f"CREATE OR REPLACE TABLE {t.copies}_of AS SELECT _row, _ord FROM {t.lined} WHERE {hashed}",
        params,
    )
    runner.execute(
        f"CREATE OR REPLACE TABLE {t.copies} AS SELECT _row FROM {t.copies}_of "
        f"JOIN ({reread}) USING (_ord) "
        f"WHERE _ord IN (SELECT _ord FROM {t.copies}_of) QUALIFY row_number() {over} > 1"
    )
    runner.execute(f"DROP TABLE {t.copies}_of")


def _phase(progress: Progress | None, name: str) -> Callable[[float], None] | None:
    if progress is None:
        return None

    def report(done: float) -> None:
        progress(name, done)

    return report


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0][:300]


def _drop_reject_tables(runner: Any) -> None:
    for table in _REJECT_TABLES:
        runner.execute(f"DROP TABLE IF EXISTS {table}")


def _reader_rejects(runner: Any) -> list[ReaderReject]:
    exists = runner.fetchone(
        "SELECT count(*) FROM duckdb_tables() WHERE table_name = 'jk_reject_errors'"
    )[0]
    if not exists:
        return []
    # One record can have several errors (one per column); the first names it.
    rows = runner.fetchall(
        "SELECT line_byte_position, coalesce(column_name, ''), error_type, "
        "coalesce(csv_line, ''), error_message FROM jk_reject_errors "
        "QUALIFY row_number() OVER (PARTITION BY line ORDER BY column_idx) = 1 "
        "ORDER BY line_byte_position"
    )
    return [_reader_reject(*row) for row in rows]


def _reader_reject(offset: int, column: str, kind: str, raw: str, message: str) -> ReaderReject:
    reason = _READER_REASONS.get(kind, kind.lower())
    counts = re.findall(r"\d+", message)
    if reason == "wrong number of fields" and len(counts) == 2:
        reason = f"{reason} (expected {counts[0]}, found {counts[1]})"
    # DuckDB's position is 1-based and, after a CRLF or blank line, may point at the line
    # breaks before the record; its text may start with them too.
    text = raw.lstrip("\r\n").rstrip("\r\n")
    return ReaderReject(max(int(offset) - 1, 0), 1 + text.count("\n"), column, reason, text)


def _line_steps(
    runner: Any, scan: Scan, good: int, rejects: list[ReaderReject], lines: int
) -> list[tuple[int, int]]:
    """``(first row, extra lines)``: from that row on, rows start this many lines further down.

    Each step costs a pass, taken only when the line count says it is needed: blank lines
    and line breaks inside quoted fields are the only lines not in a row or a refused record.
    """
    if rejects:
        _locate(scan.path, rejects)
    first = 2 if scan.format == "csv" else 1
    explained = first - 1 + good + sum(r.lines for r in rejects)
    blanks: list[int] = []
    if lines != explained and scan.format == "csv":  # JSON lines: a blank line is a row
        spans = [(r.line, r.line + r.lines) for r in rejects]
        blanks = [b for b in blank_lines(scan.path) if not _inside(spans, b)]
    multi = _multiline_rows(runner, scan) if lines != explained + len(blanks) else []
    return sweep(first, blanks, [(r.line, r.lines) for r in rejects], multi)


def _inside(spans: list[tuple[int, int]], line: int) -> bool:
    return any(start <= line < end for start, end in spans)


def sweep(
    first: int,
    blanks: Sequence[int],
    refused: Sequence[tuple[int, int]],
    multi: Sequence[tuple[int, int]],
) -> list[tuple[int, int]]:
    """Walk the file's anomalies in order and say where each run of plain rows starts.

    ``blanks``: physical lines that are blank; ``refused``: (line, lines spanned) of records
    DuckDB refused; ``multi``: (row position, extra lines) of rows whose quoted fields hold line
    breaks. Row ``i`` (0-based) of a run starting at ``(row, extra)`` is on line
    ``first + i + extra``. A blank line inside a multi-line row is part of that row.
    """
    row, line = 0, first
    steps: list[tuple[int, int]] = []
    b = r = m = 0
    inf = float("inf")
    while True:
        while b < len(blanks) and blanks[b] < line:  # inside an earlier multi-line row
            b += 1
        next_blank = blanks[b] if b < len(blanks) else inf
        next_refused = refused[r][0] if r < len(refused) else inf
        interruption = min(next_blank, next_refused)
        if m < len(multi) and line + (multi[m][0] - row) < interruption:
            at, extra = multi[m]
            line += at - row + 1 + extra
            row = at + 1
            m += 1
        elif interruption < inf:
            row += int(interruption) - line
            line = int(interruption)
            if next_blank <= next_refused:
                line, b = line + 1, b + 1
            else:
                line, r = line + refused[r][1], r + 1
        else:
            return steps
        if steps and steps[-1][0] == row:
            steps.pop()
        steps.append((row, line - first - row))


def _locate(path: Path, rejects: list[ReaderReject]) -> None:
    """Give each refused record its physical line, from its byte offset (one pass)."""
    opener: Any = gzip.open if path.name.lower().endswith(".gz") else open
    pending = sorted(rejects, key=lambda r: r.offset)
    done, breaks, i = 0, 0, 0
    with opener(path, "rb") as fh:
        while i < len(pending) and (chunk := fh.read(4 << 20)):
            end = done + len(chunk)
            while i < len(pending) and pending[i].offset < end:
                at = pending[i].offset - done
                # Step over line breaks DuckDB counts as the record's start.
                while at < len(chunk) and chunk[at : at + 1] in (b"\r", b"\n"):
                    at += 1
                pending[i].line = breaks + chunk.count(b"\n", 0, at) + 1
                i += 1
            breaks += chunk.count(b"\n")
            done = end


def _multiline_rows(runner: Any, scan: Scan) -> list[tuple[int, int]]:
    """(position, line breaks) of the rows whose quoted fields hold line breaks: a second read.

    Only files whose line count is not explained by rows, blank lines and refused records get
    here. The read is ordered like the first, so positions match.
    """
    table = f"{STAGE}.jk_newlines"
    _drop_reject_tables(runner)
    runner.execute(
        f"CREATE OR REPLACE TABLE {table} AS SELECT {scan.newlines()} AS nl FROM ({scan.from_sql})",
        scan.params,
    )
    _drop_reject_tables(runner)
    rows = runner.fetchall(f"SELECT rowid, nl FROM {table} WHERE nl > 0 ORDER BY rowid")
    runner.execute(f"DROP TABLE {table}")
    return [(int(o), int(n)) for o, n in rows]


def _lined_sql(runner: Any, t: Staged, steps: list[tuple[int, int]], first: int) -> str:
    """The typed rows with their line; the steps, if any, go in a table joined by position."""
    if not steps:
        return f"SELECT r.*, r.rowid AS _row, r.rowid + {first} AS line FROM {t.typed} r"
    runner.execute(
        f"CREATE OR REPLACE TABLE {t.typed}_steps AS "
        "SELECT unnest($f) AS first, unnest($e) AS extra",
        {"f": [f for f, _ in steps], "e": [e for _, e in steps]},
    )
    return (
        f"SELECT r.*, r.rowid AS _row, r.rowid + {first} + coalesce(s.extra, 0) AS line "
        f"FROM {t.typed} r ASOF LEFT JOIN {t.typed}_steps s ON r.rowid >= s.first"
    )


def _collect_rejected(runner: Any, t: Staged, rejects: list[ReaderReject]) -> None:
    runner.execute(
        f"CREATE OR REPLACE TABLE {t.rejected} AS "
        f"SELECT line, field, reason, raw FROM {t.lined} WHERE reason IS NOT NULL"
    )
    if rejects:
        runner.execute(
            f"INSERT INTO {t.rejected} SELECT unnest($l), unnest($f), unnest($r), unnest($w)",
            {
                "l": [r.line for r in rejects],
                "f": [r.field for r in rejects],
                "r": [r.reason for r in rejects],
                "w": [r.raw for r in rejects],
            },
        )


@dataclass(frozen=True)
class FileEvents:
    """Events read straight from a file: the canonical table (duplicates removed) and counts."""

    events: ir.Table
    result: ReadResult
    duplicates: int = 0  # exact copies of an earlier row, left out


def read_events(
    engine: Any,
    path: Path,
    *,
    mapping: ColumnMap | None = None,
    timezone: str = "UTC",
    delimiter: str | None = None,
    narrow: bool = True,
) -> FileEvents:
    """Read and clean ``path`` into staging tables and a view of its events (no workspace).

    ``narrow``: a Parquet file is staged narrow and its events read again from the file (see
    the module docstring).
    """
    view, result, copies = stage_events(
        engine, path, mapping=mapping, timezone=timezone, delimiter=delimiter, narrow=narrow
    )
    return FileEvents(staged_table(engine, view), result, copies)


def staged_table(engine: Any, view: str) -> ir.Table:
    """The Ibis table of a view ``stage_events`` made on ``engine``."""
    schema, name = view.split(".")
    return engine.con.table(name, database=(schema, "main"))


def stage_events(
    engine: Any,
    path: Path,
    *,
    mapping: ColumnMap | None = None,
    timezone: str = "UTC",
    delimiter: str | None = None,
    narrow: bool = True,
) -> tuple[str, ReadResult, int]:
    """``read_events`` without Ibis: the view of the events (``schema.name``), what the read
    found, and the exact copies left out. For SQL run on the engine's own connection."""
    name = uuid.uuid4().hex[:8]
    result = read_file(
        engine, path, mapping=mapping, timezone=timezone, delimiter=delimiter, name=name,
        narrow=narrow,
    )  # fmt: skip
    # A view that leaves out the copies ``_find_copies`` already found: no second copy of the
    # rows, and no DISTINCT over every column (8.5 s of CPU at 10M rows).
    t = result.tables
    columns = "customer_id, event, timestamp, value, properties"
    if result.reread is None:
        engine.execute(
            f"CREATE VIEW {STAGE}.events_{name} AS SELECT {columns} FROM {t.typed} "
            f"WHERE reason IS NULL AND rowid NOT IN (SELECT _row FROM {t.copies})"
        )
    else:  # the refused rows and the copies, by their number in the file; no check runs again
        engine.execute(
            f"CREATE TABLE {STAGE}.left_out_{name} AS SELECT _ord FROM {t.typed} "
            f"WHERE reason IS NOT NULL OR rowid IN (SELECT _row FROM {t.copies})"
        )
        engine.execute(
            f"CREATE VIEW {STAGE}.events_{name} AS SELECT {columns} FROM ({result.reread}) "
            f"WHERE _ord NOT IN (SELECT _ord FROM {STAGE}.left_out_{name})"
        )
    if result.rejected:
        logger.warning("%s: %d row(s) rejected while reading", path, result.rejected)
    # Exact duplicate rows are one event, as `journeykit import` counts them; said, never silent.
    (copies,) = engine.fetchone(f"SELECT count(*) FROM {t.copies}")
    if copies:
        logger.warning(
            "%s: %d exact duplicate row(s) counted once (as journeykit import does)", path, copies
        )
    return f"{STAGE}.events_{name}", result, int(copies)
