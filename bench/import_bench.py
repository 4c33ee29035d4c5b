"""Import a 10M-row CSV into a fresh workspace vs DuckDB's own read_csv into a table, same run.

    python bench/import_bench.py --csv /tmp/jk-bench/ev_10m.csv --customer-id user_id

Make the file with the shared generator (outside the repo):
    python /work/shared/bench/gen_events.py --events 10000000 --out /tmp/jk-bench/ev_10m
Both sides write to a DuckDB database file on the same disk; peak memory is this process's.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import tempfile
import time
from pathlib import Path

import duckdb

from journeykit.events.importer import ImportOptions, import_files
from journeykit.events.sources import column_map
from journeykit.workspace import create_workspace


def duckdb_baseline(csv: Path, scratch: Path) -> float:
    con = duckdb.connect(str(scratch / "baseline.duckdb"))
    started = time.perf_counter()
    con.execute("CREATE TABLE t AS SELECT * FROM read_csv(?)", [str(csv)])
    elapsed = time.perf_counter() - started
    con.close()
    return elapsed


def journeykit_import(
    csv: Path, scratch: Path, customer_id: str
) -> tuple[float, dict[str, object]]:
    ws = create_workspace(scratch / "ws", template="saas-trial")
    options = ImportOptions(mapping=column_map(customer_id=customer_id))
    started = time.perf_counter()
    (report,) = import_files(ws, [csv], options)
    return time.perf_counter() - started, report.to_dict()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--csv", type=Path, required=True)
    ap.add_argument("--customer-id", default="user_id")
    args = ap.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="jk-import-bench-"))
    try:
        base = duckdb_baseline(args.csv, scratch)
        ours, report = journeykit_import(args.csv, scratch, args.customer_id)
    finally:
        shutil.rmtree(scratch)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({
        "duckdb_read_csv_s": round(base, 2), "journeykit_import_s": round(ours, 2),
        "ratio": round(ours / base, 2), "peak_rss_mb": round(peak_mb), "report": report,
    }, indent=2))  # fmt: skip


if __name__ == "__main__":
    main()
