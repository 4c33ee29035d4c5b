"""The workspace's database: opened here, the only place that knows it is a DuckDB file.

``events.importer`` holds what an import does; this opens the file it does it in, refuses a
damaged one, and checks one on request (``journeykit doctor``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from journeykit.engine.duckdb import DuckDBEngine, TableRead, read_in_full, storage_errors
from journeykit.errors import JourneykitError, WorkspaceDamaged, WorkspaceStorageError
from journeykit.events.importer import ImportOptions, ImportReport, import_into, prepare_schema
from journeykit.events.reader import Progress
from journeykit.workspace import Workspace, journey_files

if TYPE_CHECKING:
    from journeykit.analytics.fit import JourneyFit
    from journeykit.engine.maplog import LogQuery
    from journeykit.events.dbsource import DatabaseSource
    from journeykit.events.identities import IdentityReport
    from journeykit.events.sync import SyncReport
    from journeykit.journey import Journey


def import_files(
    ws: Workspace,
    paths: Sequence[Path],
    options: ImportOptions | None = None,
    *,
    progress: Progress | None = None,
) -> list[ImportReport]:
    """Import event files into the workspace in one transaction: all of them or nothing.

    A damaged database is refused before anything is written: appending to it would succeed
    whenever the import happens not to read the damaged blocks, and hide the damage.
    """
    with storage_errors(ws.database):
        engine = DuckDBEngine(ws.database)
        try:
            damaged = [t for t in read_in_full(engine) if t.problem]
        except BaseException:
            engine.close()
            raise
        if damaged:
            engine.close()
            problem = f"table {damaged[0].name}: {damaged[0].problem}"
            raise WorkspaceDamaged(ws.database, problem, "nothing was imported")
        return import_into(engine, ws, paths, options, progress=progress, derive=logs_of(ws))


def logs_of(ws: Workspace) -> _Logs:
    """What a write to the workspace's events runs last in its transaction: the stored
    milestone logs of the workspace's journeys, brought up to date (``engine.maplog``)."""
    return _Logs(ws)


class _Logs:
    """The journey files are parsed, and each one's tagging built as SQL, in a thread while the
    write reads its rows (``prefetch``, called just before: DuckDB and the database drivers
    release the GIL then; started any earlier, the work only slowed the write's own Python).
    Built, the SQL is pure Python (Ibis), about a sixth of a 1M-row database import's wall time
    when done at the end; kept from an earlier write (``maplog.log_query``), it is a file read."""

    def __init__(self, ws: Workspace) -> None:
        self.ws = ws
        self._queries: Future[list[LogQuery]] | None = None

    def prefetch(self) -> None:
        if self._queries is None:
            pool = ThreadPoolExecutor(1, thread_name_prefix="journeykit-journeys")
            self._queries = pool.submit(_log_queries, self.ws)
            pool.shutdown(wait=False)  # the thread ends with its one task

    def __call__(self, engine: DuckDBEngine) -> None:
        from journeykit.engine.maplog import update_logs

        self.prefetch()
        assert self._queries is not None
        update_logs(engine, self._queries.result())


def _log_queries(ws: Workspace) -> list[LogQuery]:
    """The tagging of each of the workspace's journeys that keeps a log; a file with an error
    is left out: it is the design's problem, not the import's."""
    from journeykit.engine.maplog import log_query
    from journeykit.journey import load_journey

    queries = []
    for path in journey_files(ws).values():
        try:
            query = log_query(load_journey(path))
        except (JourneykitError, OSError):
            continue
        if query is not None:
            queries.append(query)
    return queries


def workspace_fit(ws: Workspace, journey: Journey) -> JourneyFit | None:
    """Does the journey fit the workspace's events (``analytics.fit``)? From the milestone
    log kept at import and a count per event name: no rule is evaluated over the events
    again. None when the workspace keeps no up-to-date log of this journey."""
    from journeykit.analytics.fit import fit_of
    from journeykit.engine.maplog import stored_counts

    with storage_errors(ws.database):
        engine = DuckDBEngine(ws.database, read_only=True)
        try:
            alias = str(engine.fetchone("SELECT current_database()")[0])
            matched = stored_counts(engine, alias, journey)
            if matched is None:
                return None
            rows = engine.fetchall("SELECT event, count(*) FROM events GROUP BY 1")
            return fit_of({str(e): int(n) for e, n in rows}, matched, journey)
        finally:
            engine.close()


def ensure_tables(ws: Workspace) -> None:
    """The workspace's tables, created empty when nothing was imported yet."""
    with storage_errors(ws.database):
        engine = DuckDBEngine(ws.database)
        try:
            prepare_schema(engine)
        finally:
            engine.close()


@dataclass(frozen=True)
class WorkspaceCheck:
    """What reading the whole workspace database found; ``problem``: it could not be opened."""

    database: Path
    exists: bool
    tables: tuple[TableRead, ...] = ()
    problem: str | None = None
    sources: tuple[str, ...] = ()  # the current imports' files, to rebuild from

    @property
    def damaged(self) -> bool:
        return self.problem is not None or any(t.problem for t in self.tables)

    def to_dict(self) -> dict[str, Any]:
        return {
            "database": str(self.database),
            "exists": self.exists,
            "damaged": self.damaged,
            "problem": self.problem,
            "tables": [t.to_dict() for t in self.tables],
            "sources": list(self.sources),
        }


def check_workspace(ws: Workspace) -> WorkspaceCheck:
    """Open the workspace database read-only and read every table in full (DuckDB verifies
    each block's checksum as it loads it); damage is reported, not raised."""
    if not ws.database.exists():
        return WorkspaceCheck(ws.database, exists=False)
    try:
        engine = DuckDBEngine(ws.database, read_only=True)
    except WorkspaceStorageError as exc:
        return WorkspaceCheck(ws.database, True, problem=exc.detail)
    try:
        tables = read_in_full(engine)
        sources: tuple[str, ...] = ()
        if any(t.name == "imports" and not t.problem for t in tables):
            rows = engine.fetchall(
                "SELECT DISTINCT source FROM imports WHERE replaced_by IS NULL ORDER BY 1"
            )
            sources = tuple(r[0] for r in rows)
        return WorkspaceCheck(ws.database, True, tables, sources=sources)
    finally:
        engine.close()


def import_source(
    ws: Workspace,
    source: DatabaseSource,
    *,
    progress: Progress | None = None,
    replace: bool = False,
) -> SyncReport:
    """Pull a database table or query into the workspace and register it for ``sync``;
    ``replace``: a source of that name is read again whole, replacing what it loaded."""
    (report,) = _pull(ws, [source], progress, replace=replace)
    return report


def sync_sources(
    ws: Workspace, names: Sequence[str] = (), *, progress: Progress | None = None
) -> list[SyncReport]:
    """Pull what is new from the workspace's sources (``names``, or all), in one transaction."""
    from journeykit.engine.peek import nothing_new
    from journeykit.errors import did_you_mean
    from journeykit.events.dbsource import SourceError, declared, registered
    from journeykit.workspace import SETTINGS_FILE

    earlier = _registered(ws, registered)
    known = {n: r.source for n, r in earlier.items()}
    known.update(declared(ws.root / SETTINGS_FILE))
    if not known:
        raise SourceError(
            f"{ws.root} has no sources yet: import one with "
            "journeykit import --from URL --table NAME, or declare [sources.NAME] in "
            f"{SETTINGS_FILE}"
        )
    for name in names:
        if name not in known:
            raise SourceError(
                f"no source named {name!r}{did_you_mean(name, known)} "
                f"(sources: {', '.join(sorted(known))})"
            )
    chosen = [known[n] for n in (names or sorted(known))]
    quiet = nothing_new(chosen, earlier)  # before ibis is even imported (engine.peek)
    return quiet if quiet is not None else _pull(ws, chosen, progress)


def import_rest(
    ws: Workspace, url: str, *, progress: Progress | None = None
) -> ImportReport | None:
    """Pull a REST resource (``stripe://charges``) and import it with its preset; None when
    the API has no objects. The pull is kept in the workspace's ``pulled/`` folder (removed
    again if the import fails), so every event can be traced to the object it came from."""
    from datetime import UTC, datetime

    from journeykit.events.dbsource import SourceError
    from journeykit.events.rest import pull_to_file, rest_target
    from journeykit.events.sources import column_map

    target = rest_target(url)
    if target is None:
        raise SourceError(f"{url}: not a REST source (known: stripe://RESOURCE)")
    api, resource = target
    folder = ws.root / "pulled"
    folder.mkdir(exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
    path = folder / f"{api.name}-{resource}-{stamp}.jsonl"
    try:
        if not pull_to_file(api, resource, path):
            path.unlink()
            return None
        preset = api.resources[resource][0]
        options = ImportOptions(column_map(preset=preset))
        (report,) = import_files(ws, [path], options, progress=progress)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return report


def load_identities(ws: Workspace, path: Path) -> IdentityReport:
    """Replace the workspace's identity map with ``path``'s; every analysis then reads the
    merged customers (events.identities)."""
    from journeykit.events.identities import IdentityReport, read_identity_map, store_identities

    mapping = read_identity_map(path)  # a bad file fails before the workspace is opened
    _reshape_view(ws, lambda engine: store_identities(engine, mapping))
    return IdentityReport(path, _count_pairs(path), len(mapping), len(set(mapping.values())))


def load_rates(ws: Workspace, path: Path, *, base: str, prop: str = "currency") -> int:
    """Replace the workspace's currency rates; every analysis then reads values in ``base``
    (events.rates). Refused, changing nothing, when a stored event's currency has no rate."""
    from journeykit.events.rates import read_rates, store_rates

    rates = read_rates(path, base=base, prop=prop)
    _reshape_view(ws, lambda engine: store_rates(engine, rates))
    return len(rates.rows)


def _reshape_view(ws: Workspace, store: Callable[[DuckDBEngine], None]) -> None:
    """Store what the ``events`` view reads through and rebuild it, in one transaction."""
    from journeykit.events.importer import refresh_events_view

    engine = DuckDBEngine(ws.database)
    try:
        prepare_schema(engine)
        with engine.transaction():
            store(engine)
            refresh_events_view(engine)
            logs_of(ws)(engine)
    finally:
        engine.close()


def _count_pairs(path: Path) -> int:
    with path.open(encoding="utf-8-sig") as fh:
        return max(sum(1 for line in fh if line.strip()) - 1, 0)


def source_states(ws: Workspace) -> list[dict[str, Any]]:
    """The workspace's database sources (registered or declared) and where each stopped."""
    from journeykit.events.dbsource import declared, registered
    from journeykit.workspace import SETTINGS_FILE

    known = _registered(ws, registered)
    rows = [
        {"name": n, "reads": r.source.describe(), "cursor": r.source.cursor,
         "at": r.cursor.value if r.cursor else None, "synced_at": r.synced_at}
        for n, r in known.items()
    ]  # fmt: skip
    rows += [
        {"name": n, "reads": s.describe(), "cursor": s.cursor, "at": None, "synced_at": None}
        for n, s in declared(ws.root / SETTINGS_FILE).items()
        if n not in known
    ]
    return sorted(rows, key=lambda r: str(r["name"]))


def _registered(ws: Workspace, read: Any) -> dict[str, Any]:
    if not ws.database.exists():
        return {}
    engine = DuckDBEngine(ws.database)
    try:
        prepare_schema(engine)
        return dict(read(engine))
    finally:
        engine.close()


def _pull(
    ws: Workspace,
    sources: Sequence[DatabaseSource],
    progress: Progress | None,
    *,
    replace: bool = False,
) -> list[SyncReport]:
    from journeykit.engine.remote import RemoteTable
    from journeykit.events.sync import complete, sync_into

    remotes: list[RemoteTable] = []
    try:
        for source in sources:
            remotes.append(RemoteTable(source))
        pairs = [(complete(s, r), r) for s, r in zip(sources, remotes, strict=True)]
        return sync_into(
            DuckDBEngine(ws.database), ws, pairs, progress=progress, replace=replace,
            derive=logs_of(ws),
        )  # fmt: skip
    finally:
        for remote in remotes:
            remote.close()
