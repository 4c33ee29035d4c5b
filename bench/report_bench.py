"""The HTML report for about 10M events: time against the analyses alone, and its size.

Must hold (issue 7): the report takes under 2x the time of the analyses it shows, and the file is
under 10 MB. "Analyses alone" is ``journeykit.measure.measure`` (one scan of the events for
the milestone log, then funnel and positions for every path, paths, the log counts and CLV: what
the report shows, nothing rendered); "report" is the same plus rendering and writing the HTML
(map laid out by Graphviz). Both run in this process, in turn, best of ``--repeat``, with CPU time.
The events are simulated once to Parquet and reused:

python bench/report_bench.py --customers 1150000 --events /tmp/jk-map-bench/sim_10m.parquet
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

from journeykit.engine import connect
from journeykit.events.simulate import SimulationOptions, simulate, write_table
from journeykit.journey import load_journey
from journeykit.measure import measure
from journeykit.report.pages import report_page

REPO = Path(__file__).resolve().parents[1]


def _timed(fn: Any) -> tuple[float, float, Any]:
    wall, cpu = time.perf_counter(), time.process_time()
    out = fn()
    return time.perf_counter() - wall, time.process_time() - cpu, out


def simulated_events(journey: Any, path: Path, customers: int) -> None:
    """The simulated log at ``path``, written once (seed 1) and reused by the benchmarks."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        write_table(simulate(journey, SimulationOptions(customers=customers, seed=1)), path)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--customers", type=int, default=1_150_000)
    ap.add_argument("--events", type=Path, default=Path("/tmp/jk-map-bench/sim_10m.parquet"))
    ap.add_argument("--template", default="saas-trial")
    ap.add_argument("--repeat", type=int, default=1)
    args = ap.parse_args()
    journey = load_journey(REPO / "examples" / f"{args.template}.yaml")
    simulated_events(journey, args.events, args.customers)
    events = connect().events(str(args.events))
    rows = int(events.count().to_pyarrow().as_py())
    out = args.events.with_name("report.html")

    def analyses() -> Any:
        return measure(events, journey)

    def report() -> int:
        html = report_page(measure(events, journey))
        out.write_text(html, encoding="utf-8")
        return len(html.encode())

    # Warm up on a small log: numba compiles its kernels once per process, not in either timing.
    import ibis

    small = simulate(journey, SimulationOptions(customers=2_000, seed=2))
    report_page(measure(ibis.memtable(small), journey))
    a_runs, r_runs = [], []
    for _ in range(args.repeat):
        a_runs.append(_timed(analyses)[:2])
        print("analyses", a_runs[-1], flush=True)
        r_runs.append(_timed(report))
        print("report", r_runs[-1], flush=True)
    a = min(a_runs, key=lambda t: t[0])
    r = min(r_runs, key=lambda t: t[0])
    size = r_runs[-1][2]
    print(json.dumps({
        "events": rows, "analyses_s": round(a[0], 2), "analyses_cpu_s": round(a[1], 2),
        "report_s": round(r[0], 2), "report_cpu_s": round(r[1], 2),
        "ratio_wall": round(r[0] / a[0], 3), "ratio_cpu": round(r[1] / a[1], 3),
        "report_mb": round(size / 1e6, 3),
    }))  # fmt: skip


if __name__ == "__main__":
    main()
