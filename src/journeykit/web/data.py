"""The workspace's events for the app, and every analysis cached per journey revision and data.

The data version is read from the workspace's import history (the current imports' ids), so the
same events give the same version across restarts and any import, from the app or the CLI,
changes it. The DuckDB file is opened only to compute (under one lock), never held while idle:
DuckDB allows one writer, and a CLI import must not find the file locked by an idle server.
Whether to re-read the history is decided by the file's size and time (a stat per request).
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np

from journeykit.analytics import (
    CohortsResult,
    FunnelResult,
    MilestoneFrame,
    PathsResult,
    PositionsResult,
    cohorts,
    fetch_milestones,
    funnel,
    paths,
    positions,
)
from journeykit.analytics.fetch import to_arrow
from journeykit.analytics.status import StatusList, status_list
from journeykit.analytics.windows import DEFAULT_WINDOW, Window, parse_window
from journeykit.engine.maplog import merges_of, stored_frame
from journeykit.errors import JourneykitError
from journeykit.journey import Journey
from journeykit.web.errors import FilterError
from journeykit.workspace import Workspace

if TYPE_CHECKING:
    import ibis.expr.types as ir

    from journeykit.engine.duckdb import DuckDBEngine
    from journeykit.measure import JourneyResults

T = TypeVar("T")
CACHE_SIZE = 96  # entries
# Bytes of arrays the cache may hold (JOURNEYKIT_WEB_CACHE_MB): at 10M events a milestone log or
# a positions result is a few hundred MB, so a count alone would not bound the memory.
CACHE_BYTES = int(os.environ.get("JOURNEYKIT_WEB_CACHE_MB", "3000")) * 2**20


def footprint(value: Any) -> int:
    """Roughly the bytes ``value`` holds: its arrays, its dict entries; small objects as 1 KB."""
    if isinstance(value, str):
        return len(value)
    if isinstance(value, np.ndarray):
        return int(value.nbytes) + (64 * value.size if value.dtype == object else 0)
    if isinstance(value, dict):
        if len(value) > 1000:  # an id index: strings and ints
            return 200 * len(value)
        return 200 * len(value) + sum(footprint(v) for v in value.values())
    if isinstance(value, tuple) and len(value) < 1000:
        return sum(footprint(v) for v in value)
    if hasattr(value, "__dataclass_fields__"):
        return 1024 + sum(footprint(getattr(value, k)) for k in value.__dataclass_fields__)
    return 1024


@dataclass(frozen=True)
class Filters:
    """What every dashboard can be narrowed by. ``until`` is also the "as of" time."""

    path: str | None = None
    window: str = DEFAULT_WINDOW
    persona: str | None = None
    since: date | None = None
    until: date | None = None
    # Set when a persona is chosen: "as of" stays the latest event of everyone, so a persona's
    # customers are not judged against an earlier "now" than the whole population.
    as_of: datetime | None = None

    def window_asked(self) -> Window:
        try:
            return parse_window(self.window)
        except JourneykitError as exc:
            raise FilterError(str(exc)) from None

    @property
    def now(self) -> datetime | None:
        if self.as_of is not None:
            return self.as_of
        return None if self.until is None else datetime.combine(self.until, time(23, 59, 59))

    def check(self, journey: Journey) -> Filters:
        if self.path is not None and self.path not in {p.id for p in journey.paths}:
            known = ", ".join(p.id for p in journey.paths) or "(none)"
            raise FilterError(f"path {self.path!r}: expected one of {known}")
        if self.persona is not None and self.persona not in {p.id for p in journey.personas}:
            known = ", ".join(p.id for p in journey.personas) or "(none)"
            raise FilterError(f"persona {self.persona!r}: expected one of {known}")
        if self.since and self.until and self.since > self.until:
            raise FilterError("since: expected a date on or before until")
        self.window_asked()
        return self

    def key(self) -> tuple[Any, ...]:
        return (self.path, self.persona, self.since, self.until)


@dataclass(frozen=True)
class FunnelAsk:
    """How the funnel dashboard counts: ``funnel()``'s mode, semantics and ClickHouse modes."""

    mode: str = "ordered"
    semantics: str = "journeykit"
    clickhouse: tuple[str, ...] = ()


@dataclass(frozen=True)
class Customer:
    """One customer on one path: position, status, strays, and their milestone timeline."""

    customer_id: str
    path: str
    position: dict[str, Any] | None
    timeline: list[dict[str, Any]]

    def to_dict(self) -> dict[str, Any]:
        return {
            "customer_id": self.customer_id,
            "path": self.path,
            "position": self.position,
            "timeline": self.timeline,
        }


def db_alias(eng: DuckDBEngine) -> str | None:
    """The alias the workspace's database is attached under (None before any import)."""
    row = eng.raw.execute(
        "SELECT database_name FROM duckdb_tables() WHERE table_name = 'imports' "
        "AND database_name <> 'memory' LIMIT 1"
    ).fetchone()
    return None if row is None else str(row[0])


@dataclass
class _Stat:
    signature: tuple[int, ...] = ()
    version: str = ""


@dataclass
class Data:
    ws: Workspace
    cache: OrderedDict[tuple[Any, ...], Any] = field(default_factory=OrderedDict)
    lock: threading.RLock = field(default_factory=threading.RLock)
    _stat: _Stat = field(default_factory=_Stat)
    sizes: dict[tuple[Any, ...], int] = field(default_factory=dict)
    entries: threading.Lock = field(default_factory=threading.Lock)  # guards ``cache`` itself

    def _signature(self) -> tuple[int, ...]:
        out: list[int] = []
        for p in (self.ws.database, self.ws.database.with_name(self.ws.database.name + ".wal")):
            try:
                st = p.stat()
                out += [st.st_mtime_ns, st.st_size]
            except FileNotFoundError:
                out += [0, 0]
        return tuple(out)

    def version(self) -> str:
        """The data version: a digest of the current imports (read again when the file changed)."""
        sig = self._signature()
        if sig == self._stat.signature and self._stat.version:
            return self._stat.version
        with self.lock:
            if not self.ws.database.exists():
                version = "empty"
            else:
                with self.engine() as eng:
                    alias = db_alias(eng)
                    sql = f"SELECT import_id FROM {alias}.imports WHERE replaced_by IS NULL"
                    rows = eng.raw.execute(sql + " ORDER BY 1").fetchall() if alias else []
                    rows += [(merges_of(eng, alias),)] if alias else []
                ids = ",".join(str(r[0]) for r in rows)
                version = hashlib.sha256(ids.encode()).hexdigest()[:16] if ids else "empty"
            self._stat = _Stat(self._signature(), version)
            return version

    @contextmanager
    def engine(self) -> Iterator[DuckDBEngine]:
        """An in-memory DuckDB engine with the workspace's database attached read-only (when
        there is one), closed after use."""
        from journeykit.engine.duckdb import DuckDBEngine

        eng = DuckDBEngine()
        try:
            if self.ws.database.exists():
                eng.attach_read_only(self.ws.database)
            yield eng
        finally:
            eng.close()

    def _hit(self, key: tuple[Any, ...]) -> tuple[bool, Any]:
        with self.entries:
            if key not in self.cache:
                return False, None
            self.cache.move_to_end(key)
            return True, self.cache[key]

    def cached(self, key: tuple[Any, ...], compute: Callable[[], T]) -> T:
        found, value = self._hit(key)
        if found:
            return value  # type: ignore[no-any-return]
        with self.lock:  # one computation at a time: one DuckDB file, two cores
            found, value = self._hit(key)
            if found:
                return value  # type: ignore[no-any-return]
            value = compute()
            size = footprint(value)
            with self.entries:
                self.cache[key] = value
                self.sizes[key] = size
                while len(self.cache) > 1 and (
                    len(self.cache) > CACHE_SIZE or sum(self.sizes.values()) > CACHE_BYTES
                ):
                    old, _ = self.cache.popitem(last=False)
                    self.sizes.pop(old, None)
            return value

    def _events(self, eng: DuckDBEngine, journey: Journey, f: Filters) -> tuple[ir.Table, Filters]:
        import ibis

        events = eng.events(str(self.ws.root))
        if f.since is not None:
            events = events.filter(events.timestamp >= datetime.combine(f.since, time()))
        if f.until is not None:
            events = events.filter(events.timestamp <= f.now)
        persona = f.persona
        if persona is not None:
            from dataclasses import replace

            from journeykit.analytics.segments import personas_of

            if f.now is None:
                latest = to_arrow(events.timestamp.max()).as_py()
                f = replace(f, as_of=latest)

            index = [p.id for p in journey.personas].index(persona)
            ids = [c for c, i in personas_of(events, journey, now=f.now).items() if i == index]
            members = ibis.memtable({"customer_id": ids}, schema={"customer_id": "string"})
            events = events.semi_join(members, "customer_id")
        return events, f

    def _run(self, journey: Journey, f: Filters, work: Callable[[ir.Table, Filters], T]) -> T:
        with self.engine() as eng:
            return work(*self._events(eng, journey, f))

    def _frame(self, rev: str, journey: Journey, f: Filters) -> MilestoneFrame:
        # Every milestone of every path: one fetch serves all paths (the path is not in the key).
        key = ("frame", rev, self.version(), f.key()[1:])
        return self.cached(key, lambda: self._fetch(journey, f))

    def _fetch(self, journey: Journey, f: Filters) -> MilestoneFrame:
        """The log the workspace keeps up to date at import (``engine.maplog``) when no filter
        narrows the events; else, or when it is not up to date, tagged from the events."""
        with self.engine() as eng:
            events, g = self._events(eng, journey, f)
            alias = db_alias(eng) if not any(f.key()[1:]) else None
            stored = stored_frame(eng, alias, journey) if alias else None
            if stored is not None:
                return stored.with_events(events)
            return fetch_milestones(events, journey, now=g.now)

    def funnel(
        self, rev: str, journey: Journey, f: Filters, ask: FunnelAsk = FunnelAsk()
    ) -> FunnelResult:
        window = f.window_asked()
        frame = self._frame(rev, journey, f)
        key = ("funnel", rev, self.version(), f.key(), window, ask.mode, ask.semantics,
               ask.clickhouse)  # fmt: skip

        def run(log: MilestoneFrame) -> FunnelResult:
            return funnel(
                log, journey, path=f.path, window=window, mode=ask.mode,  # type: ignore[arg-type]
                semantics=ask.semantics, clickhouse=ask.clickhouse,  # type: ignore[arg-type]
            )  # fmt: skip

        if ask.semantics == "journeykit":  # the log alone: no events to open
            return self.cached(key, lambda: run(frame))
        # A peer's strict funnel reads every other event: the events on an open engine.
        return self.cached(
            key, lambda: self._run(journey, f, lambda ev, _: run(frame.with_events(ev)))
        )

    def positions(self, rev: str, journey: Journey, f: Filters) -> PositionsResult:
        frame = self._frame(rev, journey, f)
        key = ("positions", rev, self.version(), f.key())

        def work(ev: ir.Table, g: Filters) -> PositionsResult:
            return positions(frame.with_events(ev), journey, path=f.path, now=g.now)

        return self.cached(key, lambda: self._run(journey, f, work))

    def paths(self, rev: str, journey: Journey, f: Filters, top: int = 20) -> PathsResult:
        frame = self._frame(rev, journey, f)
        key = ("paths", rev, self.version(), f.key(), top)
        return self.cached(key, lambda: paths(frame, journey, top=top))

    def cohorts(self, rev: str, journey: Journey, f: Filters, days: int = 30) -> CohortsResult:
        frame = self._frame(rev, journey, f)
        key = ("cohorts", rev, self.version(), f.key(), days)
        return self.cached(
            key,
            lambda: cohorts(frame, journey, path=f.path, days=days),
        )

    def map_results(self, rev: str, journey: Journey, f: Filters) -> JourneyResults:
        from journeykit.measure import measure

        key = ("map", rev, self.version(), f.key())
        frame = self._frame(rev, journey, f)  # the log the dashboards share, fetched once

        def work(ev: ir.Table | None, g: Filters) -> JourneyResults:
            return measure(frame.with_events(ev), journey, path=f.path, now=g.now, full=False)

        if frame.last_seen is not None and f.now is None:
            # The stored log carries everyone's last event: the map reads nothing else, so the
            # file is not held open (an import waits for it) while the analyses run.
            return self.cached(key, lambda: work(None, f))
        return self.cached(key, lambda: self._run(journey, f, work))

    def customer(self, rev: str, journey: Journey, f: Filters, customer_id: str) -> Customer:
        from journeykit.analytics.results import iso_time

        placed = self.positions(rev, journey, f)
        row = self._index(("placed", rev, f.key()), placed.customer_ids).get(customer_id)
        position = placed.row(row).to_dict() if row is not None else None
        frame = self._frame(rev, journey, f)
        timeline: list[dict[str, Any]] = []
        c = self._index(("frame", rev, f.key()), frame.customer_ids).get(customer_id)
        if c is not None:
            lo, hi = int(frame.offsets[c]), int(frame.offsets[c + 1])
            for i in range(lo, hi):
                m = journey.milestones[int(frame.milestone[i])]
                at = iso_time(int(frame.ts[i]))
                timeline.append({"milestone": m.id, "title": m.title, "at": at})
        if position is None and not timeline:
            from journeykit.web.errors import NotFound

            raise NotFound(f"no customer {customer_id!r} with a milestone in these events")
        return Customer(customer_id, placed.path, position, timeline)

    def _index(self, of: tuple[Any, ...], ids: np.ndarray) -> dict[str, int]:
        """Customer id -> row, built once per result: a look-up must not scan a million ids."""
        key = ("index", *of, self.version())
        return self.cached(key, lambda: {str(c): i for i, c in enumerate(ids.tolist())})

    def listed(
        self,
        rev: str,
        journey: Journey,
        f: Filters,
        placed: PositionsResult,
        status: str,
        top: int | None,
    ) -> StatusList:
        """Customers with ``status``, as ``journeykit stuck`` lists them."""
        key = ("listed", rev, self.version(), f.key(), status, top)
        return self.cached(key, lambda: status_list(placed, journey, status, top))

    def forget(self) -> None:
        with self.lock, self.entries:
            self.cache.clear()
            self.sizes.clear()
            self._stat = _Stat()
