"""``journeykit act --dry-run`` (every template play) vs ``journeykit stuck`` on one workspace.

The workspace holds the saas-trial simulator's events (1,150,000 customers make about 10M
events). Each command runs as a user runs it, in a fresh process, taking turns round by round
so the machine's load falls on both alike. Wall time is measured around the process, CPU time
from the children's resource usage (user + system).

    python bench/act_bench.py --customers 1150000 --dir /tmp/jk-act-bench --rounds 3

Not part of the test suite.
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import time
from pathlib import Path


def _prepare(root: Path, customers: int) -> Path:
    from journeykit.engine.workspace import import_files
    from journeykit.events.simulate import SimulationOptions, simulate_to_file
    from journeykit.journey import load_journey
    from journeykit.workspace import create_workspace, open_workspace

    ws_dir = root / f"ws_{customers}"
    if (ws_dir / "journeykit.duckdb").exists():
        return ws_dir
    ws = create_workspace(ws_dir, template="saas-trial", force=True)
    events = root / f"sim_{customers}.parquet"
    if not events.exists():
        rows = simulate_to_file(
            load_journey(ws.journey_file), SimulationOptions(customers, seed=1), events
        )
        print(f"simulated {rows:,} events for {customers:,} customers", flush=True)
    started = time.perf_counter()
    (report,) = import_files(open_workspace(ws_dir), [events])
    print(f"imported in {time.perf_counter() - started:.1f} s: {report.summary()}", flush=True)
    return ws_dir


def _timed(args: list[str]) -> tuple[float, float]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(args, check=True, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--customers", type=int, default=1_150_000)
    ap.add_argument("--dir", type=Path, required=True)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    args.dir.mkdir(parents=True, exist_ok=True)
    ws = _prepare(args.dir, args.customers)
    journey = str(ws / "journey.yaml")
    jk = [sys.executable, "-m", "journeykit"]
    commands = {
        "stuck": [*jk, "stuck", journey, "--workspace", str(ws), "--format", "csv"],
        "act --dry-run": [*jk, "act", journey, "--workspace", str(ws), "--dry-run",
                          "--format", "csv"],
    }  # fmt: skip
    for r in range(args.rounds):
        for name, cmd in commands.items():
            wall, cpu = _timed(cmd)
            print(f"round {r + 1}: {name}: wall {wall:.2f} s, CPU {cpu:.2f} s", flush=True)


if __name__ == "__main__":
    main()
