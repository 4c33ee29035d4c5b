"""Event files as DuckDB relations: format detection, file-level checks, column mapping, presets.

Every reader yields the same thing, a :class:`Scan`: a FROM clause (Parquet's has ``_ord``, the
file's own row number; CSV and JSON lines rows are numbered by their order when staged) and SQL
snippets for a column's text, its JSON value, the row's raw form and "every other column as a
JSON object". ``clean`` builds the typed query from those.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from journeykit.errors import did_you_mean
from journeykit.events.errors import ColumnMappingError, EventFileError
from journeykit.events.sqltext import json_pointer, quote_ident, quote_literal

# "table": rows staged from a database source (events.dbsource): typed columns, like Parquet.
Format = Literal["csv", "parquet", "jsonl", "table"]
_SNIFF_BYTES = 65_536
_DELIMITERS = (",", "\t", ";", "|")


@dataclass(frozen=True)
class ColumnMap:
    """Which file columns hold the canonical fields.

    ``customer_id`` may name several columns: the first non-empty one wins (Segment's
    ``userId`` then ``anonymousId``). With ``properties`` unset, a column called ``properties`` is
    used if there is one; otherwise every column not mapped becomes a property. ``value`` defaults
    to a column called ``value`` when there is one.
    """

    customer_id: tuple[str, ...] = ("customer_id",)
    event: str = "event"
    timestamp: str = "timestamp"
    value: str | None = None
    properties: str | None = None
    export: str | None = None  # an export preset (events.presets): fields derived from columns

    def to_json(self) -> str:
        data = asdict(self)
        if data["export"] is None:  # the key of every import made before export presets
            del data["export"]
        return json.dumps(data, sort_keys=True)


PRESETS: dict[str, ColumnMap] = {
    "segment": ColumnMap(("userId", "anonymousId"), "event", "timestamp", None, "properties"),
    "posthog": ColumnMap(("distinct_id",), "event", "timestamp", None, "properties"),
}


def column_map(
    *,
    preset: str | None = None,
    customer_id: str | None = None,
    event: str | None = None,
    timestamp: str | None = None,
    value: str | None = None,
    properties: str | None = None,
) -> ColumnMap:
    """A mapping from a preset (or the defaults) with any options given on top."""
    from journeykit.events.presets import EXPORTS

    if preset is not None and preset in EXPORTS:
        given = [customer_id, event, timestamp, value, properties]
        if any(given):
            raise ColumnMappingError(
                f"the {preset} preset maps every field itself; leave out the column options"
            )
        return ColumnMap(export=preset)
    if preset is not None and preset not in PRESETS:
        known = [*PRESETS, *EXPORTS]
        raise ColumnMappingError(f"unknown preset {preset!r}{did_you_mean(preset, known)}")
    base = PRESETS[preset] if preset else ColumnMap()
    return ColumnMap(
        customer_id=(customer_id,) if customer_id else base.customer_id,
        event=event or base.event,
        timestamp=timestamp or base.timestamp,
        value=value or base.value,
        properties=properties or base.properties,
    )


@dataclass(frozen=True)
class Resolved:
    """A mapping checked against a file's actual column names."""

    customer_id: tuple[str, ...]
    event: str
    timestamp: str
    value: str | None
    properties: str | None
    rest: tuple[str, ...]
    export: str | None = None


def _find(name: str, columns: Sequence[str], path: Path | str, option: str) -> str:
    if name in columns:
        return name
    folded = {c.lower(): c for c in columns}
    if name.lower() in folded:
        return folded[name.lower()]
    raise ColumnMappingError(
        f"{path}: no column {name!r} for {option}{did_you_mean(name, columns)} "
        f"(columns: {', '.join(columns)}); choose one with {option} COL"
    )


def resolve(mapping: ColumnMap, columns: Sequence[str], path: Path | str) -> Resolved:
    """Check ``mapping`` against the columns of ``path`` (a file, or a source's name)."""
    if mapping.export is not None:
        from journeykit.events.presets import EXPORTS

        EXPORTS[mapping.export].check(columns, str(path))
        return Resolved((), "", "", None, None, (), mapping.export)
    ids = tuple(c for c in mapping.customer_id if c in columns) or (
        _find(mapping.customer_id[0], columns, path, "--customer-id"),
    )
    event = _find(mapping.event, columns, path, "--event")
    timestamp = _find(mapping.timestamp, columns, path, "--timestamp")
    value = _optional(mapping.value, "value", columns, path, "--value")
    props = _optional(mapping.properties, "properties", columns, path, "--properties")
    used = {*ids, event, timestamp, value, props}
    rest = tuple(c for c in columns if c not in used)
    return Resolved(ids, event, timestamp, value, props, rest)


def _optional(
    given: str | None, default: str, columns: Sequence[str], path: Path | str, option: str
) -> str | None:
    if given is not None:
        return _find(given, columns, path, option)
    return default if default in columns else None


def detect_format(path: Path) -> Format:
    name = path.name.lower().removesuffix(".gz")
    if name.endswith((".parquet", ".pq")):
        return "parquet"
    if name.endswith((".jsonl", ".ndjson", ".json")):
        return "jsonl"
    return "csv"


@dataclass(frozen=True)
class Scan:
    """One file as a relation; see the module docstring."""

    path: Path
    format: Format
    columns: dict[str, str]
    from_sql: str
    params: dict[str, Any] = field(default_factory=dict)
    delimiter: str = ","

    @property
    def typed(self) -> bool:
        """Columns carry their own types and rows their own number (``_ord``)."""
        return self.format in ("parquet", "table")

    def text(self, column: str) -> str:
        if self.format == "jsonl":
            return f"(_j ->> {quote_literal(json_pointer(column))})"
        ident = quote_ident(column)
        return ident if self.columns[column] == "VARCHAR" else f"CAST({ident} AS VARCHAR)"

    def json_value(self, column: str) -> str:
        if self.format == "jsonl":
            return f"CAST(_j -> {quote_literal(json_pointer(column))} AS VARCHAR)"
        return f"CAST(to_json({quote_ident(column)}) AS VARCHAR)"

    def rest_as_json(self, used: Sequence[str], rest: Sequence[str]) -> str:
        """Every column not mapped, as one JSON object text; NULLs are left out."""
        if self.format == "jsonl":
            patch = json.dumps(dict.fromkeys(used))  # null in a merge patch removes the key
            return f"CAST(json_merge_patch(_j, {quote_literal(patch)}) AS VARCHAR)"
        if not rest:
            return "'{}'"
        parts = ", ".join(
            f"CASE WHEN {quote_ident(c)} IS NOT NULL THEN "
            f"{quote_literal(json.dumps(c))} || ':' || {self.json_value(c)} END"
            for c in rest
        )
        return f"'{{' || concat_ws(',', {parts}) || '}}'"

    def raw(self) -> str:
        """The row as the user would recognise it: the CSV line, the JSON line, the Parquet row."""
        if self.format == "jsonl":
            return "_text"
        if self.typed:
            pairs = ", ".join(f"{quote_literal(c)}, {quote_ident(c)}" for c in self.columns)
            return f"CAST(json_object({pairs}) AS VARCHAR)"
        d = quote_literal(self.delimiter)
        fields = ", ".join(_csv_field(quote_ident(c), d) for c in self.columns)
        return f"concat_ws({d}, {fields})"

    def newlines(self) -> str:
        """How many line breaks the row's quoted fields hold (CSV only; for line numbers)."""
        if self.format != "csv":
            return "0"
        cols = [quote_ident(c) for c in self.columns]
        test = " OR ".join(f"contains({c}, chr(10))" for c in cols)
        count = " + ".join(
            f"coalesce(length({c}) - length(replace({c}, chr(10), '')), 0)" for c in cols
        )
        return f"CASE WHEN {test} THEN {count} ELSE 0 END"


def count_lines(path: Path, digest: Any = None) -> int:
    """Physical lines of ``path`` (decompressed when gzip): a cheap pass, no parsing.

    ``digest`` (a hashlib object), when given, is fed the file's bytes as stored, so the one
    pass also fingerprints the file.
    """
    lines, last = 0, b"\n"
    with path.open("rb") as raw:
        stream: Any = _Hashing(raw, digest)
        fh: Any = gzip.open(stream) if path.name.lower().endswith(".gz") else stream  # noqa: SIM115
        while chunk := fh.read(4 << 20):
            lines += chunk.count(b"\n")
            last = chunk[-1:]
    return lines + (last != b"\n")


def blank_lines(path: Path) -> list[int]:
    """The physical lines that are empty (or a lone CR): DuckDB skips them in a CSV.

    A blank line inside a quoted field is listed too; the reader sorts that out. Only files
    whose line count is not explained by their rows get this second pass.
    """
    blanks: list[int] = []
    seen, buf = -1, b"\n"  # a line break before line 1 finds a blank first line
    with gzip.open(path) if path.name.lower().endswith(".gz") else path.open("rb") as fh:
        while True:
            chunk = fh.read(4 << 20)
            buf += chunk
            # "\n\n" or "\n\r\n": the line after this break is blank. A match must end
            # before the last two bytes unless the file has ended; those are looked at again.
            stop = len(buf) - 2 if chunk else len(buf)
            found = sorted(_find_all(buf, b"\n\n", stop) + _find_all(buf, b"\n\r\n", stop))
            counted, breaks = 0, seen
            for at in found:
                breaks += buf.count(b"\n", counted, at + 1)
                counted = at + 1
                blanks.append(breaks + 1)
            seen += buf.count(b"\n", 0, max(stop, 0))
            buf = buf[max(stop, 0) :]
            if not chunk:
                return blanks


def _find_all(data: bytes, pattern: bytes, stop: int) -> list[int]:
    found, at = [], data.find(pattern)
    while 0 <= at < stop:
        found.append(at)
        at = data.find(pattern, at + 1)
    return found


@dataclass(frozen=True)
class TextShape:
    """What one byte pass finds in a text file that DuckDB's reader would trip on."""

    nul: bool  # a NUL byte somewhere: the rows holding one are refused, wherever they are
    mixed_newlines: bool  # a lone CR, or CRLF and LF in one file: DuckDB refuses the file
    lines: int | None = None  # physical lines, as count_lines counts them (saves its pass)


def _open_text(path: Path) -> Any:
    return gzip.open(path, "rb") if path.name.lower().endswith(".gz") else path.open("rb")


def text_shape(path: Path) -> TextShape:
    """Look for NULs and line ends DuckDB cannot read (the counts run in C: ~1 GB/s)."""
    nul, cr, crlf, lf, last = False, 0, 0, 0, b""
    try:
        with _open_text(path) as fh:
            while chunk := fh.read(4 << 20):
                nul = nul or b"\x00" in chunk
                lf += chunk.count(b"\n")
                if b"\r" in chunk:  # most files have none: one scan instead of three
                    cr += chunk.count(b"\r")
                    crlf += chunk.count(b"\r\n")
                crlf += last == b"\r" and chunk[:1] == b"\n"
                last = chunk[-1:]
    except (OSError, EOFError) as exc:
        raise EventFileError(path, f"cannot be read: {exc}") from None
    return TextShape(nul, cr > 0 and not cr == crlf == lf, lf + (last not in (b"", b"\n")))


def write_with_lf(path: Path, out: Path) -> None:
    """Copy ``path`` (decompressed) with every CRLF and lone CR made LF: rows and line numbers
    are then what an editor shows, one line per CR, LF or CRLF."""
    carry = b""
    with _open_text(path) as fh, out.open("wb") as dest:
        while chunk := fh.read(4 << 20):
            data = carry + chunk
            # A CR at the end may be the first half of a CRLF: keep it for the next chunk.
            data, carry = (data[:-1], b"\r") if data.endswith(b"\r") else (data, b"")
            dest.write(data.replace(b"\r\n", b"\n").replace(b"\r", b"\n"))
        dest.write(carry.replace(b"\r", b"\n"))


class _Hashing:
    """A binary file that feeds what is read to a hash (or to nothing)."""

    def __init__(self, fh: Any, digest: Any) -> None:
        self.fh, self.digest = fh, digest

    def read(self, size: int = -1) -> bytes:
        data: bytes = self.fh.read(size)
        if self.digest is not None:
            self.digest.update(data)
        return data


def _csv_field(ident: str, delim: str) -> str:
    needs_quotes = (
        f"(contains({ident}, '\"') OR contains({ident}, {delim}) OR contains({ident}, chr(10)))"
    )
    return (
        f"CASE WHEN {ident} IS NULL THEN '' WHEN {needs_quotes} "
        f"THEN '\"' || replace({ident}, '\"', '\"\"') || '\"' ELSE {ident} END"
    )


def open_scan(runner: Any, path: Path, *, delimiter: str | None = None) -> Scan:
    """Check the file as a whole and describe it; nothing is read into the database yet."""
    if not path.is_file():
        raise EventFileError(path, "no such file")
    fmt = detect_format(path)
    if fmt == "parquet":
        return _parquet_scan(runner, path)
    head = _head_bytes(path)
    if fmt == "jsonl":
        return _jsonl_scan(runner, path, head)
    return _csv_scan(path, head, delimiter)


def _head_bytes(path: Path) -> bytes:
    try:
        if path.name.lower().endswith(".gz"):
            with gzip.open(path, "rb") as fh:
                head = fh.read(_SNIFF_BYTES)
        else:
            with path.open("rb") as fh:
                head = fh.read(_SNIFF_BYTES)
    except (OSError, EOFError) as exc:
        raise EventFileError(path, f"cannot be read: {exc}") from None
    if not head.strip():
        raise EventFileError(path, "the file is empty")
    # A NUL in a text file is a damaged row (refused with its line, as anywhere in the file);
    # a NUL in the header or NULs all over the start are a binary file (or UTF-16).
    if b"\x00" in head.split(b"\n", 1)[0] or head.count(b"\x00") > len(head) // 10:
        raise EventFileError(path, "this looks like a binary file, not text (CSV or JSON lines)")
    return head


def _first_line(path: Path, head: bytes) -> str:
    line = head.split(b"\n", 1)[0].rstrip(b"\r")
    try:
        return line.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise EventFileError(path, f"invalid UTF-8 in the header ({exc.reason})", line=1) from None


def _csv_scan(path: Path, head: bytes, delimiter: str | None) -> Scan:
    header_line = _first_line(path, head)
    delim = delimiter or _guess_delimiter(path, header_line)
    if len(delim) != 1:
        raise EventFileError(path, f"the delimiter must be one character, got {delim!r}")
    names = next(csv.reader(io.StringIO(header_line), delimiter=delim))
    columns = _header_names(path, names)
    struct = "{" + ", ".join(f"{quote_literal(c)}: 'VARCHAR'" for c in columns) + "}"
    # The file is read as text with the dialect fixed (no sniffing: a dirty file would defeat it);
    # DuckDB records rows it cannot split in reject tables, with their line numbers.
    from_sql = (
        f"SELECT * FROM read_csv($path, columns = {struct}, "
        "auto_detect = false, header = true, delim = $delim, quote = '\"', escape = '\"', "
        "store_rejects = true, rejects_table = 'jk_reject_errors', "
        "rejects_scan = 'jk_reject_scans')"
    )
    return Scan(path, "csv", dict.fromkeys(columns, "VARCHAR"), from_sql,
                {"path": str(path), "delim": delim}, delim)  # fmt: skip


def _guess_delimiter(path: Path, header: str) -> str:
    if path.name.lower().removesuffix(".gz").endswith(".tsv"):
        return "\t"
    counts = {d: header.count(d) for d in _DELIMITERS}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def _header_names(path: Path, names: list[str]) -> list[str]:
    columns = [n.strip() or f"column{i + 1}" for i, n in enumerate(names)]
    seen: set[str] = set()
    for name in columns:
        if name in seen:
            raise EventFileError(path, f"column {name!r} appears twice in the header", line=1)
        seen.add(name)
    return columns


def _jsonl_scan(runner: Any, path: Path, head: bytes) -> Scan:
    _first_line(path, head)
    # Each physical line is one text value; JSON is parsed per row so a bad line is a rejected
    # row with its line number, not a failed import.
    from_sql = (
        "SELECT line AS _text, "
        "CASE WHEN json_valid(line) THEN CASE WHEN json_type(line) = 'OBJECT' THEN line END END "
        "AS _j FROM read_csv($path, "
        "columns = {'line': 'VARCHAR'}, auto_detect = false, header = false, delim = $delim, "
        "quote = '', escape = '', store_rejects = true, "
        "rejects_table = 'jk_reject_errors', rejects_scan = 'jk_reject_scans')"
    )
    params = {"path": str(path), "delim": "\x1f"}
    keys = runner.fetchall(
        f"SELECT DISTINCT unnest(json_keys(_j)) FROM ({from_sql} LIMIT 10000) WHERE _j IS NOT NULL",
        params,
    )
    columns = {k[0]: "JSON" for k in keys}
    if not columns:
        raise EventFileError(path, "no JSON objects in the first 10,000 lines")
    return Scan(path, "jsonl", columns, from_sql, params)


def _parquet_scan(runner: Any, path: Path) -> Scan:
    from_sql = (
        "SELECT file_row_number + 1 AS _ord, * EXCLUDE (file_row_number) "
        "FROM read_parquet($path, file_row_number = true)"
    )
    params = {"path": str(path)}
    try:
        described = runner.fetchall(f"DESCRIBE {from_sql}", params)
    except Exception as exc:  # duckdb's errors are not ours to name here
        raise EventFileError(
            path, f"not a readable Parquet file ({_first_sentence(exc)})"
        ) from None
    columns = {str(r[0]): str(r[1]) for r in described if r[0] != "_ord"}
    if not columns:
        raise EventFileError(path, "the Parquet file has no columns")
    return Scan(path, "parquet", columns, from_sql, params)


def _first_sentence(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0][:200]
