"""Events from PostgreSQL: `import --from` vs the plain routes into DuckDB, and a sync with
nothing new on a large table, in the same run.

    python bench/source_bench.py --rows 1000000 --rounds 3 --sync-rows 10000000

A PostgreSQL server is started for the run (Debian's binaries, as the tests do). The table is
journeykit's canonical events (text ids, text names, a timestamp, a double, JSON text) with a
``bigint`` primary key. Plain routes, each ending in a DuckDB table in a database file:
- ``copy-csv``: psycopg's ``COPY (SELECT ...) TO STDOUT (FORMAT csv)`` streamed to a file, then
  DuckDB's ``read_csv`` (the route the issue names);
- ``adbc``: ADBC's binary COPY into Arrow, then ``CREATE TABLE AS`` from the Arrow stream.
journeykit: ``import_source`` into a fresh workspace (cleaning, rejects, history, registry, one
transaction). A warm-up round of every route is run first and not counted (a route's first run
in the process imports its modules). Rounds alternate so load hits each alike; ratios are
journeykit over the fastest plain route of the same round, the median over rounds reported.
Wall is ``perf_counter``, CPU is this process's ``process_time`` (the server's own CPU is the
same work on every route).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.sources.pgserver import postgres_bindir, postgres_server

from journeykit.engine.workspace import import_source, sync_sources
from journeykit.events.dbsource import DatabaseSource
from journeykit.workspace import create_workspace, journey_files

NAMES = ["page_view", "signed_up", "trial_started", "subscribed", "invited", "logout"]


def synthetic(rows: int, seed: int = 1) -> pa.Table:
    rng = np.random.default_rng(seed)
    customers = rng.integers(0, max(rows // 10, 1), rows)
    start = np.datetime64("2024-01-01T00:00:00", "us")
    offsets = rng.integers(0, 180 * 86_400_000_000, rows).astype("timedelta64[us]")
    value = np.where(rng.random(rows) < 0.1, np.round(rng.random(rows) * 100, 2), np.nan)
    plan = rng.choice(["free", "pro", "team"], rows)
    return pa.table({
        "id": pa.array(np.arange(1, rows + 1)),
        "customer_id": pa.array([f"c{c}" for c in customers]),
        "event": pa.array(rng.choice(NAMES, rows)),
        "timestamp": pa.array(start + offsets),
        "value": pa.array(value, from_pandas=True),
        "properties": pa.array([f'{{"plan":"{p}"}}' for p in plan]),
    })  # fmt: skip


def create(url: str, name: str, table: pa.Table) -> None:
    import adbc_driver_postgresql.dbapi as adbc

    with adbc.connect(url) as con, con.cursor() as cur:
        cur.adbc_ingest(name, table, mode="create")
        cur.execute(f"ALTER TABLE {name} ADD PRIMARY KEY (id)")
        cur.execute(f"ANALYZE {name}")
        con.commit()


SELECT = 'SELECT id, customer_id, event, "timestamp", value, properties FROM {}'


def copy_csv(url: str, name: str, scratch: Path) -> None:
    import psycopg

    csv = scratch / "copy.csv"
    with psycopg.connect(url) as con, con.cursor() as cur, csv.open("wb") as out:
        query = f"COPY ({SELECT.format(name)}) TO STDOUT (FORMAT csv, HEADER)"
        with cur.copy(query) as copy:
            for block in copy:
                out.write(block)
    _into_duckdb(scratch, "SELECT * FROM read_csv(?)", [str(csv)])
    csv.unlink()


def adbc_route(url: str, name: str, scratch: Path) -> None:
    import adbc_driver_postgresql.dbapi as adbc

    with adbc.connect(url) as con, con.cursor() as cur:
        cur.execute(SELECT.format(name))
        reader = cur.fetch_record_batch()
        _into_duckdb(scratch, "SELECT * FROM reader", None, reader=reader)


def _into_duckdb(
    scratch: Path, select: str, params: list[str] | None, reader: object = None
) -> None:
    db = scratch / "plain.duckdb"
    con = duckdb.connect(str(db))
    if reader is not None:
        con.register("reader", reader)
    con.execute(f"CREATE TABLE t AS {select}", params)
    con.close()
    db.unlink()


def journeykit_route(url: str, name: str, scratch: Path, journey: bool = True) -> None:
    ws = create_workspace(scratch / "ws", template="saas-trial")
    if not journey:  # no journey, no stored milestone log: the import's own cost
        for path in journey_files(ws).values():
            path.unlink()
    report = import_source(ws, DatabaseSource(name, url, table=name))
    assert report.loaded == report.read, report
    shutil.rmtree(ws.root)


def timed(fn: Callable[[], None]) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - wall, time.process_time() - cpu


def no_log_route(url: str, name: str, scratch: Path) -> None:
    journeykit_route(url, name, scratch, journey=False)


def import_rounds(
    url: str, rows: int, rounds: int, scratch: Path, floor: bool = False, warmup: int = 1
) -> dict[str, object]:
    create(url, "events", synthetic(rows))
    routes = {"copy-csv": copy_csv, "adbc": adbc_route, "journeykit": journeykit_route}
    if floor:
        routes["journeykit-no-log"] = no_log_route
    runs: dict[str, list[tuple[float, float]]] = {k: [] for k in routes}
    for _ in range(warmup):  # modules imported, caches filled: what every later import meets
        for route in routes.values():
            route(url, "events", scratch)
    for _ in range(rounds):
        for label, route in routes.items():
            runs[label].append(timed(lambda route=route: route(url, "events", scratch)))
    result: dict[str, object] = {
        "rows": rows,
        "warmup_rounds": warmup,
        "runs": {k: [[round(w, 2), round(c, 2)] for w, c in v] for k, v in runs.items()},
    }
    for label in [k for k in routes if k.startswith("journeykit")]:
        walls, cpus = [], []
        for i in range(rounds):
            best = min(("copy-csv", "adbc"), key=lambda k: runs[k][i][0])
            walls.append(runs[label][i][0] / runs[best][i][0])
            cpus.append(runs[label][i][1] / runs[best][i][1])
        suffix = label.removeprefix("journeykit")
        result[f"wall_ratio_vs_fastest{suffix}"] = round(statistics.median(walls), 2)
        result[f"cpu_ratio_vs_fastest{suffix}"] = round(statistics.median(cpus), 2)
    return result


def sync_round(url: str, rows: int, scratch: Path) -> dict[str, object]:
    """``sync`` with nothing new on a table of ``rows`` with an index on the cursor: in the
    process, and as the ``journeykit sync`` command (a fresh process, its start included)
    beside the same command with the peek turned off (the full sync: ibis, ADBC, staging) and
    ``journeykit --help`` (the CLI's start alone); wall and the child's CPU."""
    create(url, "big", synthetic(rows, seed=2))
    ws = create_workspace(scratch / "ws-big", template="saas-trial")
    load_wall, _ = timed(lambda: import_source(ws, DatabaseSource("big", url, table="big")))
    times, cli, full, bare = [], [], [], []
    load = [round(x, 2) for x in os.getloadavg()]
    for _ in range(3):
        wall, cpu = timed(lambda: sync_sources(ws))
        times.append([round(wall, 3), round(cpu, 3)])
        cli.append(command("-m", "journeykit", "sync", "--workspace", str(ws.root)))
        full.append(command("-c", FULL_SYNC, "sync", "--workspace", str(ws.root)))
        bare.append(command("-m", "journeykit", "--help"))
    load.extend(round(x, 2) for x in os.getloadavg())
    return {"rows": rows, "first_import_wall_s": round(load_wall, 1), "noop_sync": times,
            "cli_noop_sync": cli, "cli_noop_full_sync": full, "cli_help": bare,
            "load_average_1_5_15_before_after": load}  # fmt: skip


# `journeykit ARGS` with the peek (engine.peek) turned off: the sync as it was before it.
FULL_SYNC = """
import sys
import journeykit.engine.peek as peek
from journeykit.cli import cli
peek.nothing_new = lambda *args: None
cli(sys.argv[1:], prog_name="journeykit")
"""


def command(*args: str) -> list[float]:
    """One run of ``python ARGS`` in a child process: [wall, CPU] seconds."""
    before, wall = os.times(), time.perf_counter()
    subprocess.run([sys.executable, *args], check=True, capture_output=True)
    after = os.times()
    cpu = after.children_user + after.children_system - before.children_user
    return [round(time.perf_counter() - wall, 2), round(cpu - before.children_system, 2)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--sync-rows", type=int, default=10_000_000)
    parser.add_argument(
        "--warmup", type=int, default=1,
        help="rounds run first and not counted (each route's first run imports its modules)",
    )  # fmt: skip
    parser.add_argument(
        "--floor", action="store_true",
        help="also import into a workspace with no journey (so no stored milestone log)",
    )  # fmt: skip
    args = parser.parse_args()
    bindir = postgres_bindir()
    if bindir is None:
        raise SystemExit("PostgreSQL's server binaries are needed (apt-get install postgresql)")
    with tempfile.TemporaryDirectory() as folder, postgres_server(bindir) as url:
        scratch = Path(folder)
        imported = import_rounds(url, args.rows, args.rounds, scratch, args.floor, args.warmup)
        result = {"import": imported}
        print(json.dumps(result), flush=True)
        if args.sync_rows:
            result["sync"] = sync_round(url, args.sync_rows, scratch)
        print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
