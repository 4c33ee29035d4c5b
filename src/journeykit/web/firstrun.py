"""First run: from an empty workspace to a living map, in three steps on one page.

1. choose a template or start blank (the journey opens in the builder);
2. upload an events file, then map its columns on a screen that shows the first rows as they
   will be read and the rows that will be refused, with the reason, before anything is
   imported (the preview is the importer's own reading of the file's first lines);
3. open the living map.
"""

from __future__ import annotations

import gzip
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import RedirectResponse, Response

from journeykit.errors import JourneykitError
from journeykit.journey.templates import template_names
from journeykit.web.app import ident_of
from journeykit.web.errors import NotFound
from journeykit.web.pages import ctx_of

if TYPE_CHECKING:
    from journeykit.events.sources import ColumnMap
    from journeykit.web.app import Context

pages = APIRouter(include_in_schema=False)

PREVIEW_LINES = 1000  # lines of the file the mapping screen reads
ROWS_SHOWN = 10
REJECTS_SHOWN = 20
BLANK = "blank"
WAITING_SECONDS = 86400.0  # an upload waiting for its column mapping is kept this long
_UPLOAD = re.compile(r"[0-9a-f]{12}-[A-Za-z0-9._-]{1,120}")
GUESSES = {
    "customer_id": ("customer_id", "user_id", "userid", "distinct_id", "anonymousid", "customer",
                    "user", "member_id", "contact_id", "email", "id"),
    "event": ("event", "event_name", "event_type", "name", "action", "type", "activity"),
    "timestamp": ("timestamp", "time", "ts", "event_time", "occurred_at", "created_at", "date",
                  "datetime"),
    "value": ("value", "amount", "revenue", "price", "total"),
    "properties": ("properties", "props", "attributes"),
}  # fmt: skip
FIELDS = tuple(GUESSES)
REQUIRED = ("customer_id", "event", "timestamp")

BLANK_JOURNEY = """\
# A blank journey: name the transformation, then add milestones in the builder.
id: {key}
title: My journey
transformation:
  from: Where my members start
  to: Where they want to be
milestones:
  - id: core_offer
    title: The core offer
    phase: core
"""


def guess(columns: list[str]) -> dict[str, str]:
    """The column each field most likely is in (by common names), or "" when none is."""
    folded = {c.lower(): c for c in columns}
    out: dict[str, str] = {}
    for name, options in GUESSES.items():
        out[name] = next(
            (folded[o] for o in options if o in folded and folded[o] not in out.values()), ""
        )
    return out


@dataclass
class Preview:
    """The importer's reading of a file's first lines under one mapping."""

    columns: list[str]
    chosen: dict[str, str]
    rows: list[dict[str, Any]] = field(default_factory=list)
    rejected: list[dict[str, Any]] = field(default_factory=list)
    read: int = 0
    kept: int = 0
    refused: int = 0
    problem: str | None = None


def mapping_of(chosen: dict[str, str]) -> ColumnMap:
    from journeykit.events.sources import column_map

    return column_map(**{k: (chosen.get(k) or None) for k in FIELDS})


def preview(path: Path, chosen: dict[str, str] | None) -> Preview:
    """The first rows as they will be imported, and the rows that will be refused (why)."""
    from journeykit.engine.duckdb import DuckDBEngine
    from journeykit.events.reader import read_events
    from journeykit.events.sources import open_scan

    eng = DuckDBEngine()
    try:
        with tempfile.TemporaryDirectory(prefix="journeykit-preview-") as folder:
            head = _head(eng, path, Path(folder))
            try:
                columns = [c for c in open_scan(eng, head).columns if not c.startswith("_")]
            except JourneykitError as exc:
                return Preview([], {}, problem=_shown(str(exc), path, head))
            picked = chosen if chosen is not None else guess(columns)
            out = Preview(columns, picked)
            try:
                read = read_events(eng, head, mapping=mapping_of(picked), narrow=False)
            except JourneykitError as exc:
                out.problem = _shown(str(exc), path, head)
                return out
            t = read.result.tables
            out.read, out.kept, out.refused = (
                read.result.read,
                read.result.kept,
                read.result.rejected,
            )
            cols = ("customer_id", "event", "timestamp", "value", "properties")
            rows = eng.fetchall(
                f"SELECT {', '.join(cols)} FROM {t.typed} WHERE reason IS NULL ORDER BY rowid "
                f"LIMIT {ROWS_SHOWN}"
            )
            out.rows = [dict(zip(cols, r, strict=True)) for r in rows]
            bad = eng.fetchall(
                f"SELECT line, field, reason, raw FROM {t.rejected} ORDER BY line "
                f"LIMIT {REJECTS_SHOWN}"
            )
            out.rejected = [
                dict(zip(("line", "field", "reason", "raw"), r, strict=True)) for r in bad
            ]
            return out
    finally:
        eng.close()


def _shown(message: str, path: Path, head: Path) -> str:
    """A message about the preview copy as one about the upload, by the name it was given."""
    from journeykit.web.imports import shown_name

    return message.replace(str(head), shown_name(path.name)).replace(
        str(path), shown_name(path.name)
    )


def _head(eng: Any, path: Path, folder: Path) -> Path:
    """The file's first lines (rows, for Parquet) in a file of the same kind."""
    name = path.name.lower()
    if name.endswith((".parquet", ".pq")):
        out = folder / "head.parquet"
        src = str(path).replace("'", "''")
        eng.execute(
            f"COPY (SELECT * FROM read_parquet('{src}') LIMIT {PREVIEW_LINES}) TO "
            f"'{str(out).replace(chr(39), chr(39) * 2)}' (FORMAT parquet)"
        )
        return out
    suffix = next(s for s in (".csv", ".tsv", ".jsonl", ".ndjson") if s in name)
    out = folder / f"head{suffix}"
    opener: Any = gzip.open if name.endswith(".gz") else open
    with opener(path, "rb") as src_file, out.open("wb") as dst:
        for n, line in enumerate(src_file):
            if n > PREVIEW_LINES:
                break
            dst.write(line)
    return out


def upload_path(ctx: Context, upload: str) -> Path:
    """An upload waiting for its mapping, by its stored name only."""
    from journeykit.web.imports import UPLOADS

    path = ctx.ws.root / UPLOADS / upload
    if not _UPLOAD.fullmatch(upload) or not path.is_file():
        raise NotFound(f"no upload {upload!r} waiting to be imported")
    return path


@pages.get("/welcome")
def welcome_page(request: Request, journey: str | None = None) -> Response:
    from journeykit.web.pages import render
    from journeykit.web.views import journey_rows

    ctx = ctx_of(request)
    rows = journey_rows(ctx)
    return render(
        request, "welcome.html", rows=rows, templates=[*template_names(), BLANK],
        has_events=ctx.data.version() != "empty", created=journey,
    )  # fmt: skip


@pages.post("/welcome/journey")
def welcome_journey(
    request: Request, name: Annotated[str, Form()], template: Annotated[str, Form()]
) -> Response:
    ctx = ctx_of(request)
    user = ident_of(request).user
    assert user is not None
    key = name.strip()
    if template == BLANK:
        ctx.journeys.create(key, template, user.name, text=BLANK_JOURNEY.format(key=key))
    else:
        ctx.journeys.create(key, template, user.name)
    return RedirectResponse(f"/welcome?{urlencode({'journey': key})}", 303)


@pages.post("/imports/upload")
def upload_for_mapping(request: Request, file: Annotated[UploadFile, File()]) -> Response:
    ctx = ctx_of(request)
    path = ctx.imports.save_upload(file.filename or "upload", file.file)
    forget_abandoned(path.parent, keep=path)
    return RedirectResponse(f"/imports/mapping/{quote(path.name)}", 303)


def forget_abandoned(folder: Path, keep: Path, age: float = WAITING_SECONDS) -> None:
    """Uploads left on the mapping screen for a day are removed: they only fill the disk."""
    import time

    for p in folder.iterdir():
        if p != keep and _UPLOAD.fullmatch(p.name) and time.time() - p.stat().st_mtime > age:
            p.unlink(missing_ok=True)


@pages.get("/imports/mapping/{upload}")
def mapping_page(request: Request, upload: str) -> Response:
    from journeykit.web.imports import shown_name
    from journeykit.web.pages import render

    path = upload_path(ctx_of(request), upload)
    q = request.query_params
    chosen = {k: q.get(k, "") for k in FIELDS} if any(k in q for k in FIELDS) else None
    result = preview(path, chosen)
    return render(request, "mapping.html", upload=upload, shown=shown_name(upload), p=result,
                  fields=FIELDS, required=REQUIRED)  # fmt: skip


@pages.post("/imports/mapping/{upload}")
def mapping_import(
    request: Request,
    upload: str,
    customer_id: Annotated[str, Form()],
    event: Annotated[str, Form()],
    timestamp: Annotated[str, Form()],
    value: Annotated[str, Form()] = "",
    properties: Annotated[str, Form()] = "",
) -> Response:
    ctx = ctx_of(request)
    path = upload_path(ctx, upload)
    chosen = {"customer_id": customer_id, "event": event, "timestamp": timestamp,
              "value": value, "properties": properties}  # fmt: skip
    user = ident_of(request).user
    assert user is not None
    job = ctx.imports.start(path, user.name, mapping=mapping_of(chosen))
    return RedirectResponse(f"/imports/jobs/{job.id}", 303)
