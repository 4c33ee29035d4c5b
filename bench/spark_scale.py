"""How time scales with events on a Spark standalone cluster and on DuckDB, in one run.

The cluster is a master and two workers (one core, ``--worker-memory`` each) started on loopback
from the pyspark installation (``engine.spark_cluster``); the driver is this process. For each
size, the events are a Parquet file made from ``--events`` (a simulated log): a sample of its
customers below 1x, copies with customer ids prefixed per copy above it. On each engine the same
public functions run: one milestone log (``fetch_milestones``, built on the engine and fetched),
then funnel, paths and positions on it. The results must be equal on both engines.

CPU is every process's: this one, its driver JVM, and the master, workers and executors (read
from /proc for the process trees), so a cluster's work outside the driver counts.

python bench/spark_scale.py --events /tmp/jk-speedmap/sim_10m.parquet --scales 0.1,1 \
    --dir /tmp/jk-spark-scale
"""

from __future__ import annotations

import argparse
import json
import math
import os
import time
from pathlib import Path
from typing import Any

from journeykit.engine.duckdb import DuckDBEngine
from journeykit.events.schema import EVENT_COLUMNS
from journeykit.journey import parse_journey
from journeykit.journey.templates import template_text


def make_file(base: Path, scale: float, out: Path) -> int:
    """A log of about ``scale`` times ``base``'s events; returns its row count."""
    copies = max(1, math.ceil(scale))
    keep = round(1000 * scale / copies)
    engine = DuckDBEngine()
    try:
        if not out.exists():
            engine.execute(
                f"COPY (SELECT CASE WHEN k = 0 THEN customer_id ELSE k || '-' || customer_id END "
                f"AS customer_id, event, timestamp, value, properties FROM read_parquet('{base}'), "
                f"range({copies}) AS copies(k) WHERE hash(customer_id) % 1000 < {keep}) "
                f"TO '{out}' (FORMAT parquet)"
            )
        return int(engine.fetchone(f"SELECT count(*) FROM read_parquet('{out}')")[0])
    finally:
        engine.close()


def _children(pid: int) -> list[int]:
    out = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(stat[1]) == pid:
                out.append(int(entry))
    return out


def tree_cpu(roots: list[int]) -> float:
    """CPU seconds of the processes under ``roots`` that are alive now (and the roots)."""
    total, todo, seen = 0.0, list(roots), set()
    while todo:
        pid = todo.pop()
        if pid in seen:
            continue
        seen.add(pid)
        try:
            stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(stat[11]) + int(stat[12])) / os.sysconf("SC_CLK_TCK")
        todo += _children(pid)
    return total


def analyses(events: Any, journey: Any) -> dict[str, Any]:
    from journeykit.analytics import fetch_milestones, funnel, paths, positions

    times: dict[str, float] = {}

    def timed(name: str, fn: Any) -> Any:
        t = time.perf_counter()
        result = fn()
        times[name] = round(time.perf_counter() - t, 2)
        return result

    frame = timed("milestone_log", lambda: fetch_milestones(events, journey))
    f = timed("funnel", lambda: funnel(frame, journey))
    p = timed("paths", lambda: paths(frame, journey, top=20))
    pos = timed("positions", lambda: positions(frame, journey))
    answers = {"funnel": f.counts, "variants": [v.to_dict() for v in p.variants][:20],
               "summary": pos.summary}  # fmt: skip
    return {"wall_s": times, "answers": answers}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--events", type=Path, required=True)
    ap.add_argument("--scales", default="0.1,1")
    ap.add_argument("--dir", type=Path, required=True)
    ap.add_argument("--worker-memory", default="3g")
    ap.add_argument("--driver-memory", default="3g", help="the driver fetches the milestone log")
    ap.add_argument("--executor-memory", default="2g")
    ap.add_argument("--shuffle-partitions", default="4", help="more: less memory per task")
    args = ap.parse_args()
    args.dir.mkdir(parents=True, exist_ok=True)
    journey = parse_journey(template_text("saas-trial"))
    files = {}
    for s in (float(x) for x in args.scales.split(",")):
        path = args.dir / f"events_x{s:g}.parquet"
        files[s] = (path, make_file(args.events, s, path))
    results: list[dict[str, Any]] = []
    for s, (path, rows) in files.items():
        engine = DuckDBEngine()
        cpu, t = tree_cpu([os.getpid()]), time.perf_counter()
        ran = analyses(engine.con.read_parquet(str(path)).select(*EVENT_COLUMNS), journey)
        results.append({"engine": "duckdb", "scale": s, "rows": rows, **ran,
                        "total_wall_s": round(time.perf_counter() - t, 2),
                        "cpu_s": round(tree_cpu([os.getpid()]) - cpu, 2)})  # fmt: skip
        engine.close()
        print(json.dumps({k: v for k, v in results[-1].items() if k != "answers"}), flush=True)

    from journeykit.engine.spark import SparkEngine
    from journeykit.engine.spark_cluster import standalone_cluster

    with standalone_cluster(workers=2, cores=1, memory=args.worker_memory) as url:
        import ibis

        from journeykit.engine.spark import session as spark_session

        # The fetched log outgrows Spark's default 1 GB cap on collected results near 100M.
        conf = {"spark.driver.memory": args.driver_memory,
                "spark.executor.memory": args.executor_memory,
                "spark.driver.maxResultSize": args.driver_memory,
                "spark.sql.shuffle.partitions": args.shuffle_partitions}  # fmt: skip
        session = spark_session(url, conf)
        spark = SparkEngine(ibis.pyspark.connect(session))
        for s, (path, rows) in files.items():
            cpu, t = tree_cpu([os.getpid()]), time.perf_counter()
            session.read.parquet(str(path)).createOrReplaceTempView("events_bench")
            events = spark.con.table("events_bench").select(*EVENT_COLUMNS)
            ran = analyses(events, journey)
            results.append({"engine": "spark-standalone-2-workers", "scale": s, "rows": rows,
                            **ran, "total_wall_s": round(time.perf_counter() - t, 2),
                            "cpu_s": round(tree_cpu([os.getpid()]) - cpu, 2)})  # fmt: skip
            duck = next(r for r in results if r["engine"] == "duckdb" and r["scale"] == s)
            results[-1]["same_answers_as_duckdb"] = ran["answers"] == duck["answers"]
            print(json.dumps({k: v for k, v in results[-1].items() if k != "answers"}), flush=True)
        session.stop()


if __name__ == "__main__":
    main()
