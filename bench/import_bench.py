"""Import a 10M-row CSV into a fresh workspace vs DuckDB's own read_csv into a table, same run.

    python bench/import_bench.py --csv /tmp/jk-bench/ev_10m.csv --customer-id user_id

Make the file with the shared generator (outside the repo):
    python ../shared/bench/gen_events.py --events 10000000 --out /tmp/jk-bench/ev_10m
Both sides write to a DuckDB database file on the same disk, alternating for ``--rounds``
rounds so machine load hits both alike. Wall time is ``perf_counter``; CPU time is
``process_time`` (all threads of this process). Peak memory is this process's.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import duckdb

from journeykit.engine.workspace import import_files
from journeykit.events.importer import ImportOptions
from journeykit.events.sources import column_map
from journeykit.workspace import create_workspace


def duckdb_baseline(
    csv: Path, scratch: Path, text_column: str | None = None
) -> tuple[float, float]:
    """DuckDB's ``CREATE TABLE AS read_csv``; with ``text_column``, that column is read as text.

    The sniffer types an all-digits id column BIGINT. journeykit keeps customer ids as text
    (leading zeros, UUIDs, e-mails), so the run with the id as text shows what storing text ids
    costs DuckDB itself: the floor for any importer with text ids, before any checking.
    """
    db = scratch / "baseline.duckdb"
    con = duckdb.connect(str(db))
    con.execute("SET enable_progress_bar = false")
    types = f", types = {{'{text_column}': 'VARCHAR'}}" if text_column else ""
    wall, cpu = time.perf_counter(), time.process_time()
    con.execute(f"CREATE TABLE t AS SELECT * FROM read_csv(?{types})", [str(csv)])
    con.close()
    result = time.perf_counter() - wall, time.process_time() - cpu
    db.unlink()
    return result


def journeykit_import(
    csv: Path, scratch: Path, customer_id: str
) -> tuple[float, float, dict[str, object]]:
    ws = create_workspace(scratch / "ws", template="saas-trial")
    options = ImportOptions(mapping=column_map(customer_id=customer_id))
    wall, cpu = time.perf_counter(), time.process_time()
    (report,) = import_files(ws, [csv], options)
    result = time.perf_counter() - wall, time.process_time() - cpu
    shutil.rmtree(ws.root)
    return *result, report.to_dict()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--csv", type=Path, required=True)
    ap.add_argument("--customer-id", default="user_id")
    ap.add_argument("--rounds", type=int, default=2)
    args = ap.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="jk-import-bench-"))
    rounds = []
    try:
        for _ in range(args.rounds):
            base_wall, base_cpu = duckdb_baseline(args.csv, scratch)
            text_wall, text_cpu = duckdb_baseline(args.csv, scratch, args.customer_id)
            ours_wall, ours_cpu, report = journeykit_import(args.csv, scratch, args.customer_id)
            rounds.append({
                "duckdb_wall_s": round(base_wall, 2), "duckdb_cpu_s": round(base_cpu, 2),
                "duckdb_text_id_wall_s": round(text_wall, 2),
                "duckdb_text_id_cpu_s": round(text_cpu, 2),
                "journeykit_wall_s": round(ours_wall, 2), "journeykit_cpu_s": round(ours_cpu, 2),
                "wall_ratio": round(ours_wall / base_wall, 2),
                "cpu_ratio": round(ours_cpu / base_cpu, 2),
                "text_id_wall_ratio": round(text_wall / base_wall, 2),
                "text_id_cpu_ratio": round(text_cpu / base_cpu, 2),
                "wall_ratio_vs_text_id": round(ours_wall / text_wall, 2),
                "cpu_ratio_vs_text_id": round(ours_cpu / text_cpu, 2),
            })  # fmt: skip
            print(json.dumps(rounds[-1]), flush=True)
    finally:
        shutil.rmtree(scratch)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({
        "median_wall_ratio": statistics.median(r["wall_ratio"] for r in rounds),
        "median_cpu_ratio": statistics.median(r["cpu_ratio"] for r in rounds),
        **{f"median_{k}": statistics.median(r[k] for r in rounds) for k in (
            "text_id_wall_ratio", "text_id_cpu_ratio", "wall_ratio_vs_text_id",
            "cpu_ratio_vs_text_id")},
        "peak_rss_mb": round(peak_mb), "report": report,
    }, indent=2))  # fmt: skip


if __name__ == "__main__":
    main()
