"""Imports from the browser: the upload is saved in the workspace, then the CLI's importer runs.

The upload's name never becomes a path: the file is stored as ``uploads/<random>-<safe name>``,
where the safe name keeps letters, digits, dots, dashes and underscores of the last component
only, and its suffix must be one the importer reads. The import runs in a thread and reports
its progress (the importer's own progress callback) to a job the page polls.
"""

from __future__ import annotations

import re
import secrets
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from journeykit.engine.workspace import import_files
from journeykit.errors import JourneykitError, no_room
from journeykit.events.importer import ImportOptions, ImportReport
from journeykit.events.sources import ColumnMap, column_map
from journeykit.web.data import Data, db_alias
from journeykit.web.errors import NotFound, UploadError

UPLOADS = "uploads"
SUFFIXES = (".csv", ".csv.gz", ".tsv", ".tsv.gz", ".parquet", ".pq", ".jsonl", ".ndjson",
            ".jsonl.gz", ".ndjson.gz")  # fmt: skip
MAX_UPLOAD = 2 * 1024**3  # bytes
MAX_JOBS = 200  # import jobs remembered (in memory; the import history is in the database)
REJECTS_SHOWN = 200
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_IMPORT_ID = re.compile(r"[0-9a-f]{6,64}")
_JOB_ID = re.compile(r"[A-Za-z0-9_-]{16,64}")


_STORED = re.compile(r"[0-9a-f]{12}-(?P<name>.+)")


def shown_name(source: str) -> str:
    """The name a person uploaded, without the folder and the random prefix it is stored under."""
    name = Path(source).name
    match = _STORED.fullmatch(name)
    return match.group("name") if match else name


def safe_name(
    filename: str, suffixes: tuple[str, ...] = SUFFIXES, what: str = "an events file"
) -> str:
    """The upload's name reduced to its last component and safe characters; its type checked."""
    base = re.split(r"[\\/]", filename)[-1]
    name = _UNSAFE.sub("_", base).lstrip(".") or "upload"
    if not name.lower().endswith(suffixes):
        raise UploadError(f"{base!r}: expected {what} ending in {', '.join(suffixes)}")
    return name[-120:]


def copy_upload(stream: BinaryIO, path: Path, name: str, limit: int | None = None) -> int:
    """Write the upload to ``path`` in chunks, refusing it past ``limit`` bytes (default
    MAX_UPLOAD, read at the call so a setting or test can lower it): its size."""
    limit = MAX_UPLOAD if limit is None else limit
    size = 0
    with path.open("wb") as out:
        while chunk := stream.read(1 << 20):
            size += len(chunk)
            if size > limit:
                raise UploadError(f"{name}: larger than {limit >> 20} MB")
            out.write(chunk)
    return size


@dataclass
class Job:
    id: str
    source: str
    user: str
    phase: str = "queued"
    percent: float = 0.0
    state: str = "running"  # running | done | failed
    error: str | None = None
    reports: list[ImportReport] = field(default_factory=list)
    rejected: list[dict[str, Any]] = field(default_factory=list)
    started: float = field(default_factory=time.time)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "source": self.source,
            "state": self.state,
            "phase": self.phase,
            "percent": round(self.percent, 1),
            "error": self.error,
            "reports": [_report_dict(r) for r in self.reports],
            "rejected": self.rejected,
        }


def _report_dict(r: ImportReport) -> dict[str, Any]:
    out = r.to_dict()
    out["source"] = shown_name(r.source)
    # Where the rejects are, relative to the workspace: the server's paths are not the client's.
    out["rejected_file"] = Path(r.rejected_file).name if r.rejected_file else None
    return out


class Imports:
    def __init__(self, data: Data) -> None:
        self.data = data
        self.jobs: dict[str, Job] = {}
        self.workers: list[threading.Thread] = []

    def wait(self, timeout: float = 60.0) -> None:
        """Let running imports finish (a server shutting down, a test ending)."""
        for worker in self.workers:
            worker.join(timeout)

    def save_upload(self, filename: str, stream: BinaryIO) -> Path:
        name = safe_name(filename)
        folder = self.data.ws.root / UPLOADS
        folder.mkdir(exist_ok=True)
        path = folder / f"{secrets.token_hex(6)}-{name}"
        try:
            size = copy_upload(stream, path, name)
        except (OSError, UploadError) as exc:
            path.unlink(missing_ok=True)
            full = (
                no_room(exc, folder, "nothing was imported") if isinstance(exc, OSError) else None
            )
            if full is None:
                raise
            raise full from exc
        if size == 0:
            path.unlink()
            raise UploadError(f"{name}: the file is empty")
        return path

    def start(self, path: Path, user: str, *, customer_id: str | None = None,
              mapping: ColumnMap | None = None, wait: bool = False) -> Job:  # fmt: skip
        job = Job(secrets.token_urlsafe(16), shown_name(path.name), user)
        self.jobs[job.id] = job
        while len(self.jobs) > MAX_JOBS:  # jobs live in memory: the oldest go first
            self.jobs.pop(next(iter(self.jobs)))
        if mapping is None:
            mapping = column_map(preset=None, customer_id=customer_id or None, event=None,
                                 timestamp=None, value=None, properties=None)  # fmt: skip
        worker = threading.Thread(target=self._run, args=(job, path, mapping), daemon=True)
        self.workers.append(worker)
        worker.start()
        if wait:
            worker.join()
        return job

    def _run(self, job: Job, path: Path, mapping: Any) -> None:
        def progress(phase: str, done: float) -> None:
            job.phase, job.percent = phase, done

        try:
            # The lock: no analysis holds the file open while the importer writes it.
            with self.data.lock:
                job.phase = "importing"
                job.reports = import_files(
                    self.data.ws, [path], ImportOptions(mapping), progress=progress
                )
                self.data.forget()
                job.rejected = self.rejected_rows([r.import_id for r in job.reports])
                job.phase = "counting events for the rule builder"
                from journeykit.web.rulecounts import warm

                warm(self.data)
            job.state, job.phase, job.percent = "done", "done", 100.0
        except JourneykitError as exc:
            job.state, job.error = "failed", str(exc).replace(str(path.parent) + "/", "")
        except Exception as exc:  # our bug: the page says so instead of spinning forever
            job.state, job.error = "failed", f"internal error: {type(exc).__name__}"
            raise
        finally:
            # The events are in the database and the refused rows in their own file; the same
            # bytes uploaded again are known by their digest. Kept, uploads only filled the disk.
            path.unlink(missing_ok=True)

    def job(self, job_id: str) -> Job:
        if not _JOB_ID.fullmatch(job_id) or job_id not in self.jobs:
            raise NotFound(f"no import job {job_id!r}")
        return self.jobs[job_id]

    def history(self) -> list[dict[str, Any]]:
        if not self.data.ws.database.exists():
            return []
        cols = ("import_id", "source", "imported_at", "read", "loaded", "duplicates", "rejected",
                "rejected_file", "replaced_by")  # fmt: skip
        with self.data.lock, self.data.engine() as eng:
            alias = db_alias(eng)
            if alias is None:
                return []
            rows = eng.raw.execute(
                f"SELECT {', '.join(cols)} FROM {alias}.imports ORDER BY imported_at DESC"
            ).fetchall()
        out = [dict(zip(cols, r, strict=True)) for r in rows]
        for r in out:
            r["source"] = shown_name(r["source"])
            r["imported_at"] = r["imported_at"].isoformat(timespec="seconds")
            r["rejected_file"] = Path(r["rejected_file"]).name if r["rejected_file"] else None
        return out

    def rejected_rows(
        self, import_ids: list[str], limit: int = REJECTS_SHOWN
    ) -> list[dict[str, Any]]:
        ids = [i for i in import_ids if _IMPORT_ID.fullmatch(i)]
        if not ids or not self.data.ws.database.exists():
            return []
        with self.data.lock, self.data.engine() as eng:
            alias = db_alias(eng)
            if alias is None:
                return []
            marks = ", ".join("?" for _ in ids)
            rows = eng.raw.execute(
                f"SELECT import_id, source, line, field, reason, raw FROM {alias}.rejected "
                f"WHERE import_id IN ({marks}) ORDER BY source, line LIMIT {int(limit)}", ids,
            ).fetchall()  # fmt: skip
        keys = ("import_id", "source", "line", "field", "reason", "raw")
        out = [dict(zip(keys, r, strict=True)) for r in rows]
        for r in out:
            r["source"] = shown_name(r["source"])
        return out

    def rejects_file(self, import_id: str) -> Path:
        """The rejects CSV of one import, found through the database, never from the request."""
        from journeykit.events.importer import REJECTED_FOLDER

        if not _IMPORT_ID.fullmatch(import_id):
            raise NotFound(f"no import {import_id!r}")
        for row in self.history():
            if row["import_id"] == import_id and row["rejected_file"]:
                path: Path = self.data.ws.root / REJECTED_FOLDER / str(row["rejected_file"])
                if path.is_file():
                    return path
        raise NotFound(f"import {import_id!r} has no rejects file")
