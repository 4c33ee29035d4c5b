"""Answers in: CSV, XLSX or JSON lines, columns mapped by option, bad rows reported.

Every data row ends up in exactly one place: ``Answers.table`` (an answer, an empty answer or a
non-answer, with its status) or ``Answers.rejected`` (with its line number and the reason). Empty
and non-answers ("n/a", "no sé") stay in the table so they are counted, but never reach themes.
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zipfile import BadZipFile

import pandas as pd

from journeykit._optional import require
from journeykit.discover.errors import AnswerFileError
from journeykit.discover.questions import reveals_of
from journeykit.discover.text import LANGUAGES, Language, detect_language, non_answer_reason

TABLE_COLUMNS = (
    "row", "line", "respondent", "question", "text", "stage", "tenure", "language", "reveals",
    "status", "consent",
)  # fmt: skip
YES = frozenset({"yes", "y", "true", "1", "si", "sí", "s", "x", "consent", "consented", "ok"})
NO = frozenset({"no", "n", "false", "0", "", "-"})
RawRow = tuple[int, int, Mapping[str, Any] | None, str | None]  # row, line, values, read error


@dataclass(frozen=True)
class AnswerColumns:
    """Which input column holds what; only ``text`` is required."""

    text: str = "answer"
    respondent: str | None = None
    question: str | None = None
    stage: str | None = None
    tenure: str | None = None
    language: str | None = None
    consent: str | None = None  # yes/no: may the answer be quoted outside the team

    def mapped(self) -> dict[str, str]:
        names = ("text", "respondent", "question", "stage", "tenure", "language", "consent")
        return {k: v for k in names if (v := getattr(self, k)) is not None}


@dataclass(frozen=True, eq=False)
class Answers:
    """Answers read from a file: kept rows (with a ``status``) and rejected rows (with a reason)."""

    table: pd.DataFrame
    rejected: pd.DataFrame
    source: Path | None = None
    columns: AnswerColumns = field(default_factory=AnswerColumns)

    @property
    def answered(self) -> pd.DataFrame:
        """Only real answers: what themes are built from."""
        return self.table[self.table["status"] == "answer"].reset_index(drop=True)

    def counts(self) -> dict[str, int]:
        status = self.table["status"]
        return {
            "read": len(self.table) + len(self.rejected),
            "answers": int((status == "answer").sum()),
            "empty": int((status == "empty").sum()),
            "non_answers": int((status == "non-answer").sum()),
            "rejected": len(self.rejected),
        }

    def to_pandas(self) -> pd.DataFrame:
        return self.table.copy()


def answers_from_records(
    records: list[Mapping[str, Any]],
    columns: AnswerColumns | None = None,
    *,
    default_language: Language = "en",
) -> Answers:
    """Answers from in-memory rows (dicts), as if read from a file with a header."""
    cols = columns or AnswerColumns(text=_guess_text_column(records))
    raw = [(i, i + 2, r, None) for i, r in enumerate(records)]
    return build_answers(raw, cols, None, default_language)


def read_answers(
    path: Path | str,
    columns: AnswerColumns | None = None,
    *,
    default_language: Language = "en",
) -> Answers:
    """Read answers from CSV, XLSX or JSON lines (chosen by the file's extension)."""
    path = Path(path)
    cols = columns or AnswerColumns()
    suffix = path.suffix.lower()
    readers = {
        ".csv": _csv_rows,
        ".xlsx": _xlsx_rows,
        ".jsonl": _jsonl_rows,
        ".ndjson": _jsonl_rows,
    }
    if suffix not in readers:
        raise AnswerFileError(path, f"unsupported file type {suffix!r} (csv, xlsx, jsonl)")
    try:
        raw = list(readers[suffix](path))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise AnswerFileError(path, f"cannot be read: {exc}") from exc
    header = _header_of(raw)
    missing = [c for c in cols.mapped().values() if header is not None and c not in header]
    if missing:
        raise AnswerFileError(
            path, f"no column {missing[0]!r}; the file has: {', '.join(sorted(header or ()))}"
        )
    return build_answers(raw, cols, path, default_language)


STANDARD_NAMES = ("respondent", "question", "stage", "tenure", "language", "consent")


def standard_columns(path: Path | str) -> AnswerColumns:
    """The columns a file names in journeykit's own words: the text in ``answer`` (else ``text``
    or ``respuesta``), and ``respondent``, ``question``, ``stage``,
    ``tenure``, ``language`` and ``consent`` where present. What the web app and the demo read
    without options."""
    header = set(preview(path, 0)[0])
    text = next((c for c in ("answer", "text", "respuesta") if c in header), "answer")
    named = {c: c for c in STANDARD_NAMES if c in header}
    return AnswerColumns(text=text, **named)


def preview(path: Path | str, rows: int = 5) -> tuple[list[str], list[dict[str, Any]]]:
    """The file's columns (in order of first appearance) and its first ``rows`` readable rows:
    what a person looks at to choose which column holds the answers."""
    path = Path(path)
    readers = {".csv": _csv_rows, ".xlsx": _xlsx_rows, ".jsonl": _jsonl_rows,
               ".ndjson": _jsonl_rows}  # fmt: skip
    reader = readers.get(path.suffix.lower())
    if reader is None:
        raise AnswerFileError(path, f"unsupported file type {path.suffix!r} (csv, xlsx, jsonl)")
    try:
        raw = list(reader(path))
    except (OSError, UnicodeDecodeError, csv.Error, ValueError, KeyError, BadZipFile) as exc:
        raise AnswerFileError(path, f"cannot be read: {exc}") from exc
    columns: dict[str, None] = {}
    for _, _, values, _ in raw:
        columns.update(dict.fromkeys(map(str, values or {})))
    shown = [dict(values) for _, _, values, _ in raw if values is not None][:rows]
    return list(columns), shown


def _header_of(raw: list[RawRow]) -> set[str] | None:
    keys: set[str] = set()
    for _, _, values, _ in raw:
        if values is not None:
            keys |= set(values)
    return keys if raw else None


def _csv_rows(path: Path) -> Iterator[RawRow]:
    with path.open(newline="", encoding="utf-8-sig") as fh:
        reader = csv.reader(fh)
        header = next(reader, None)
        if header is None:
            return
        line = reader.line_num + 1
        for row, fields in enumerate(reader):
            if len(fields) != len(header):
                problem = f"expected {len(header)} fields, found {len(fields)}"
                yield row, line, None, problem
            else:
                yield row, line, dict(zip(header, fields, strict=True)), None
            line = reader.line_num + 1


def _jsonl_rows(path: Path) -> Iterator[RawRow]:
    row = 0
    with path.open(encoding="utf-8") as fh:
        for line, text in enumerate(fh, start=1):
            if not text.strip():
                continue
            try:
                value = json.loads(text)
            except json.JSONDecodeError as exc:
                yield row, line, None, f"not valid JSON: {exc.msg}"
            else:
                ok = isinstance(value, dict)
                yield row, line, value if ok else None, None if ok else "expected a JSON object"
            row += 1


def _xlsx_rows(path: Path) -> Iterator[RawRow]:
    require("openpyxl", extra="discover")
    frame = pd.read_excel(path, dtype=object, keep_default_na=False)  # "n/a" is a non-answer
    for row, values in enumerate(frame.to_dict("records")):
        yield row, row + 2, {str(k): v for k, v in values.items()}, None


def _guess_text_column(records: list[Mapping[str, Any]]) -> str:
    keys = set(records[0]) if records else {"answer"}
    for name in ("answer", "text", "respuesta"):
        if name in keys:
            return name
    return sorted(keys)[0]


def build_answers(
    raw: Sequence[RawRow], cols: AnswerColumns, source: Path | None, default_language: Language
) -> Answers:
    kept: list[dict[str, Any]] = []
    rejected: list[dict[str, Any]] = []
    for row, line, values, problem in raw:
        record, problem = (None, problem) if values is None else _record(values, cols)
        if problem is not None or record is None:
            rejected.append({"row": row, "line": line, "reason": problem, "raw": _raw(values)})
            continue
        record["language"] = record["language"] or detect_language(
            record["text"] or "", default_language
        )
        kept.append({"row": row, "line": line, **record})
    table = pd.DataFrame(kept, columns=list(TABLE_COLUMNS))
    table["tenure"] = table["tenure"].astype("float64")
    rejects = pd.DataFrame(rejected, columns=["row", "line", "reason", "raw"])
    return Answers(table=table, rejected=rejects, source=source, columns=cols)


def _raw(values: Mapping[str, Any] | None) -> str:
    return "" if values is None else json.dumps(dict(values), ensure_ascii=False, default=str)


def _cell(values: Mapping[str, Any], column: str | None) -> Any:
    if column is None:
        return None
    value = values.get(column)
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return value.strip() or None if isinstance(value, str) else value


def _record(
    values: Mapping[str, Any], cols: AnswerColumns
) -> tuple[dict[str, Any] | None, str | None]:
    text = _cell(values, cols.text)
    if text is not None and not isinstance(text, str | int | float):
        return None, f"{cols.text}: expected text, found {type(text).__name__}"
    tenure, problem = _tenure(_cell(values, cols.tenure), cols.tenure)
    if problem:
        return None, problem
    try:
        consent = consent_of(_cell(values, cols.consent))
    except ValueError as exc:
        return None, f"{cols.consent}: {exc}"
    language = _cell(values, cols.language)
    if language is not None:
        language = str(language).lower()[:2]
        if language not in LANGUAGES:
            return None, f"{cols.language}: unsupported language {language!r} (en, es)"
    question = _text_or_none(_cell(values, cols.question))
    text_str = _text_or_none(text)
    return {
        "respondent": _text_or_none(_cell(values, cols.respondent)),
        "question": question,
        "text": text_str,
        "stage": _text_or_none(_cell(values, cols.stage)),
        "tenure": tenure,
        "language": language,
        "reveals": reveals_of(question),
        "status": non_answer_reason(text_str) or "answer",
        "consent": consent,
    }, None


def consent_of(value: Any) -> bool | None:
    """A consent cell or property: True (yes, true, 1, sí, x), False (no, false, 0, empty text),
    None when there is none. Anything else is a ValueError: a typo must not be read as consent."""
    if value is None:
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float) and value in (0, 1):
        return bool(value)
    word = str(value).strip().lower()
    if word in YES:
        return True
    if word in NO:
        return False
    raise ValueError(f"expected yes or no (consent), found {value!r}")


def _text_or_none(value: Any) -> str | None:
    return None if value is None else str(value)


def _tenure(value: Any, column: str | None) -> tuple[float | None, str | None]:
    if value is None:
        return None, None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None, f"{column}: expected a number (tenure), found {value!r}"
    return (
        (None, f"{column}: expected a finite number")
        if not math.isfinite(number)
        else (number, None)
    )
