"""Did the default ordered funnel get slower? CPU seconds of the funnel on one fetched milestone
log, for two source trees run one after the other (alternate them: the machine is shared).

    python bench/funnel_regression.py --gen /tmp/jkb/ev_2m.parquet --src src --src /tmp/base/src

Each tree runs in its own process (``PYTHONPATH=<tree>``): load the gen_events file, fetch the
milestone log once, then time 15 funnels (14-day window) and print the min and median CPU.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent


def worker(gen: str) -> None:
    import ibis

    sys.path.insert(0, str(HERE))
    import analytics_bench

    from journeykit.analytics import funnel
    from journeykit.analytics.milestones import fetch_milestones
    from journeykit.journey import parse_journey

    journey = parse_journey(analytics_bench.GEN_JOURNEY)
    t = ibis.duckdb.connect().read_parquet(gen)
    t = t.select(
        customer_id=t.user_id.cast("string"),
        event=t.event,
        timestamp=t.timestamp,
        value=ibis.null("float64"),
        properties=ibis.null("string"),
    )
    frame = fetch_milestones(t, journey)
    funnel(frame, journey, window=timedelta(days=14))  # compile / load the kernels first
    cpu = []
    for _ in range(15):
        start = time.process_time()
        result = funnel(frame, journey, window=timedelta(days=14))
        cpu.append(time.process_time() - start)
    print(f"min {min(cpu):.4f} s  median {statistics.median(cpu):.4f} s  counts {result.counts}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--gen", required=True, help="gen_events.py Parquet file")
    ap.add_argument("--src", action="append", required=True, help="a source tree (repeat)")
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        worker(args.gen)
        return
    for _ in range(args.rounds):
        for src in args.src:
            env = {**os.environ, "PYTHONPATH": str(Path(src).resolve())}
            cmd = [sys.executable, __file__, "--worker", "--gen", args.gen, "--src", src]
            out = subprocess.run(cmd, env=env, check=True, capture_output=True, text=True)
            print(f"{src}: {out.stdout.strip()}")


if __name__ == "__main__":
    main()
