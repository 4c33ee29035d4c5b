"""Read one events file into typed temporary tables, every row kept or refused with a line number.

Line numbers are the file's physical lines (1-based; a CSV header is line 1), also when quoted
fields hold line breaks. DuckDB numbers reject lines by record, not by physical line, and gives
no position for good rows, so: a good row's line is its position plus the line breaks held in the
rows before it plus the records refused before it. Those corrections come from the few rows with
breaks and the few refused records, so a clean file pays nothing for them.
"""

from __future__ import annotations

import bisect
import logging
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from journeykit.events.clean import typed_sql
from journeykit.events.errors import EventFileError
from journeykit.events.sources import ColumnMap, Resolved, Scan, count_lines, open_scan, resolve
from journeykit.events.timestamps import check_timezone

if TYPE_CHECKING:
    import ibis.expr.types as ir

logger = logging.getLogger(__name__)

Progress = Callable[[str, float], None]
# Staging lives in an in-memory database: DuckDB writes temporary tables far slower, and the
# workspace file must only be written inside the import's one transaction.
STAGE = "jk_stage"

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
    record: int  # DuckDB's record number (header = 1), then the physical line
    extra_lines: int  # line breaks inside the record
    field: str
    reason: str
    raw: str


@dataclass(frozen=True)
class Staged:
    """Names of one file's staging tables."""

    typed: str  # every row: canonical columns, reason, field, raw, _ord, _nl, _h
    lined: str  # a view: typed rows with their physical ``line``
    rejected: str  # line, field, reason, raw of every refused row
    repeated: str  # the row hashes seen more than once (duplicate candidates)

    @classmethod
    def named(cls, name: str) -> Staged:
        return cls(f"{STAGE}.typed_{name}", f"lined_{name}", f"{STAGE}.rejected_{name}",
                   f"{STAGE}.repeated_{name}")  # fmt: skip


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


def read_file(
    runner: Any,
    path: Path,
    *,
    mapping: ColumnMap | None = None,
    timezone: str = "UTC",
    delimiter: str | None = None,
    progress: Progress | None = None,
    name: str = "s0",
    physical_lines: int | None = None,
) -> ReadResult:
    """Read ``path`` into staging tables; see the module docstring.

    ``physical_lines`` (the file's line count, when the caller has it) lets a clean file skip
    the search for line breaks inside quoted fields.
    """
    check_timezone(timezone)
    scan = open_scan(runner, path, delimiter=delimiter)
    resolved = resolve(mapping or ColumnMap(), list(scan.columns), path)
    tables = Staged.named(name)
    runner.execute(f"ATTACH IF NOT EXISTS ':memory:' AS {STAGE}")
    for table in ("jk_reject_errors", "jk_reject_scans"):
        runner.execute(f"DROP TABLE IF EXISTS {table}")
    sql = f"CREATE OR REPLACE TABLE {tables.typed} AS {typed_sql(scan, resolved, timezone)}"
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
    records = 1 + read + sum(r.extra_lines for r in rejects)
    maybe_broken = scan.format == "csv" and physical_lines != records
    _number_lines(runner, scan, tables, rejects, maybe_broken)
    _collect_rejected(runner, tables, rejects)
    runner.execute(
        f"CREATE OR REPLACE TABLE {tables.repeated} AS SELECT _h FROM {tables.typed} "
        "WHERE reason IS NULL GROUP BY _h HAVING count(*) > 1"
    )
    rejected = int(refused) + len(rejects)
    return ReadResult(path, scan, resolved, tables, read, read - rejected, rejected)


def _phase(progress: Progress | None, name: str) -> Callable[[float], None] | None:
    if progress is None:
        return None

    def report(done: float) -> None:
        progress(name, done)

    return report


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0][:300]


def _reader_rejects(runner: Any) -> list[ReaderReject]:
    exists = runner.fetchone(
        "SELECT count(*) FROM duckdb_tables() WHERE table_name = 'jk_reject_errors'"
    )[0]
    if not exists:
        return []
    rows = runner.fetchall(
        "SELECT line, coalesce(column_name, ''), error_type, coalesce(csv_line, ''), "
        "error_message FROM jk_reject_errors "
        "QUALIFY row_number() OVER (PARTITION BY line ORDER BY column_idx) = 1 ORDER BY line"
    )
    return [_reader_reject(*row) for row in rows]


def _reader_reject(line: int, column: str, kind: str, raw: str, message: str) -> ReaderReject:
    reason = _READER_REASONS.get(kind, kind.lower())
    counts = re.findall(r"\d+", message)
    if reason == "wrong number of fields" and len(counts) == 2:
        reason = f"{reason} (expected {counts[0]}, found {counts[1]})"
    extra = raw.rstrip("\r\n").count("\n")
    return ReaderReject(int(line), extra, column, reason, raw.rstrip("\r\n"))


def _number_lines(
    runner: Any, scan: Scan, t: Staged, rejects: list[ReaderReject], maybe_broken: bool
) -> None:
    """Create the ``lined`` view: the typed rows with their physical line number."""
    base = 1 if scan.format == "csv" else 0
    broken = _broken_rows(runner, scan) if maybe_broken else []
    if not broken and not rejects:
        runner.execute(
            f"CREATE OR REPLACE TEMP VIEW {t.lined} AS SELECT *, _ord + {base} AS line "
            f"FROM {t.typed}"
        )
        return
    # (after this many good rows, this many more lines) for each row with breaks and each reject
    steps = list(broken)
    steps += [(r.record - 1 - base - j, 1 + r.extra_lines) for j, r in enumerate(rejects)]
    steps.sort()
    thresholds: list[int] = []
    totals: list[int] = []
    total = 0
    for after, more in steps:
        total += more
        if thresholds and thresholds[-1] == after:
            totals[-1] = total
        else:
            thresholds.append(after)
            totals.append(total)
    breaks = f"{t.typed}_breaks"
    runner.execute(
        f"CREATE OR REPLACE TABLE {breaks} AS SELECT unnest($a) AS after, unnest($m) AS more",
        {"a": thresholds, "m": totals},
    )
    runner.execute(
        f"CREATE OR REPLACE TEMP VIEW {t.lined} AS SELECT r.*, "
        f"r._ord + {base} + coalesce(b.more, 0) AS line "
        f"FROM {t.typed} r ASOF LEFT JOIN {breaks} b ON r._ord > b.after"
    )
    _fix_reject_lines(rejects, broken, base)


def _broken_rows(runner: Any, scan: Scan) -> list[tuple[int, int]]:
    """The rows whose quoted fields hold line breaks: a second read, only for such files."""
    rows = runner.fetchall(
        f"SELECT _ord, nl FROM (SELECT _ord, {scan.newlines()} AS nl FROM ({scan.from_sql})) "
        "WHERE nl > 0 ORDER BY _ord",
        scan.params,
    )
    return steps_of_breaks(rows)


def steps_of_breaks(rows: list[tuple[Any, ...]]) -> list[tuple[int, int]]:
    return [(int(o), int(n)) for o, n in rows]


def _fix_reject_lines(
    rejects: list[ReaderReject], broken: list[tuple[int, int]], base: int
) -> None:
    """Turn each reject's record number into its physical line, in place."""
    ords = [o for o, _ in broken]
    cumulative = [0]
    for _, n in broken:
        cumulative.append(cumulative[-1] + n)
    earlier = 0
    for j, r in enumerate(rejects):
        good_before = r.record - 1 - base - j
        breaks = cumulative[bisect.bisect_right(ords, good_before)]
        r.record += breaks + earlier
        earlier += r.extra_lines


def _collect_rejected(runner: Any, t: Staged, rejects: list[ReaderReject]) -> None:
    runner.execute(
        f"CREATE OR REPLACE TABLE {t.rejected} AS "
        f"SELECT line, field, reason, raw FROM {t.lined} WHERE reason IS NOT NULL"
    )
    if rejects:
        runner.execute(
            f"INSERT INTO {t.rejected} SELECT unnest($l), unnest($f), unnest($r), unnest($w)",
            {
                "l": [r.record for r in rejects],
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


def read_events(
    engine: Any,
    path: Path,
    *,
    mapping: ColumnMap | None = None,
    timezone: str = "UTC",
    delimiter: str | None = None,
) -> FileEvents:
    """Read and clean ``path`` into a temporary table on the engine (no workspace involved)."""
    name = uuid.uuid4().hex[:8]
    result = read_file(
        engine, path, mapping=mapping, timezone=timezone, delimiter=delimiter, name=name,
        physical_lines=count_lines(path),
    )  # fmt: skip
    engine.execute(
        f"CREATE TABLE {STAGE}.events_{name} AS SELECT DISTINCT customer_id, event, timestamp, "
        f"value, properties FROM {result.tables.lined} WHERE reason IS NULL"
    )
    if result.rejected:
        logger.warning("%s: %d row(s) rejected while reading", path, result.rejected)
    return FileEvents(engine.con.table(f"events_{name}", database=(STAGE, "main")), result)
