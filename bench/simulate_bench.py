"""Time the simulator for about 10M events (saas-trial template), writing Parquet.

python bench/simulate_bench.py --customers 1150000 --out /tmp/jk-bench/sim_10m.parquet
"""

from __future__ import annotations

import argparse
import json
import resource
import time
from pathlib import Path

from journeykit.events.simulate import SimulationOptions, simulate, write_table
from journeykit.journey import parse_journey
from journeykit.journey.templates import template_text


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--customers", type=int, default=1_150_000)
    ap.add_argument("--template", default="saas-trial")
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args()
    journey = parse_journey(template_text(args.template))
    started = time.perf_counter()
    table = simulate(journey, SimulationOptions(customers=args.customers, seed=1))
    generated = time.perf_counter() - started
    write_table(table, args.out)
    total = time.perf_counter() - started
    print(json.dumps({
        "events": table.num_rows, "customers": args.customers, "generate_s": round(generated, 2),
        "generate_and_write_s": round(total, 2),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }, indent=2))  # fmt: skip


if __name__ == "__main__":
    main()
