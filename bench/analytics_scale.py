"""Milestone analytics at 100M events: time and peak memory of one journeykit process.

The 100M-row log is ``--copies`` copies of a gen_events.py file, each copy with its customer ids
shifted (so customers never merge): the same shape at ten times the customers. It is loaded
into a DuckDB database file, as a workspace holds its events, and the four benchmark tasks run
on one shared milestone log, as ``journeykit report`` runs them. Peak memory is the process's
maximum resident set (DuckDB, Arrow and NumPy all count), read from ``getrusage``.

    python ../shared/bench/gen_events.py --events 10000000 --out /tmp/jkb/ev_10m
    python bench/analytics_scale.py --gen /tmp/jkb/ev_10m.parquet --copies 10 --dir /tmp/jkb

Not part of the test suite.
"""

from __future__ import annotations

import argparse
import json
import resource
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from analytics_bench import GEN_JOURNEY, WINDOW_DAYS


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--gen", type=Path, required=True, help="gen_events.py Parquet file")
    ap.add_argument("--copies", type=int, default=10)
    ap.add_argument("--dir", type=Path, required=True, help="where the database file goes")
    args = ap.parse_args()

    from journeykit.analytics import fetch_milestones, funnel, paths, positions
    from journeykit.engine.duckdb import DuckDBEngine
    from journeykit.journey import parse_journey

    db = args.dir / f"events_x{args.copies}.duckdb"
    out: dict[str, Any] = {"copies": args.copies}
    fresh = not db.exists()
    engine = DuckDBEngine(db)
    started = time.perf_counter()
    if fresh:
        # Customer ids of copy k are shifted past every id of the copies before it.
        engine.execute(
            "CREATE TABLE events AS SELECT CAST(user_id + k * 1000000000 AS VARCHAR) AS "
            "customer_id, event, CAST(timestamp AS TIMESTAMP) AS timestamp, "
            "CAST(NULL AS DOUBLE) AS value, properties "
            f"FROM read_parquet('{args.gen}'), range({args.copies}) AS copies(k)"
        )
    out["load_s"] = round(time.perf_counter() - started, 1)
    out["rows"] = engine.fetchone("SELECT count(*) FROM events")[0]
    out["peak_mb_after_load"] = round(_peak_mb())
    events = engine.con.table("events")
    journey = parse_journey(GEN_JOURNEY)

    def timed(name: str, fn: Any) -> Any:
        w, c = time.perf_counter(), time.process_time()
        result = fn()
        wall, cpu = time.perf_counter() - w, time.process_time() - c
        out[name] = {"wall": round(wall, 2), "cpu": round(cpu, 2)}
        return result

    frame = timed("milestone_log", lambda: fetch_milestones(events, journey))
    out["log_rows"], out["customers"] = len(frame.ts), frame.customers
    window = timedelta(days=WINDOW_DAYS)
    f = timed("funnel", lambda: funnel(frame, journey, path="main", window=window))
    timed("paths", lambda: paths(frame, journey, top=20))
    pos = timed("positions", lambda: positions(frame, journey, path="main"))
    out["funnel_counts"] = [s.customers for s in f.steps]
    out["summary"] = pos.summary
    out["peak_mb"] = round(_peak_mb())
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
