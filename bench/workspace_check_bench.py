"""What refusing a damaged workspace costs an import: the full read (``read_in_full``) that
``import_files`` runs first, against the same import without it, in the same run.

    python bench/workspace_check_bench.py --customers 200000 --rounds 5

Builds a workspace of about 10 events per customer (2M events at 200,000), then, round by
round on fresh copies of it, imports a day's file (``--day`` customers) with and without the
check, and times the check alone on a freshly opened file (``journeykit doctor`` does this).
Wall time is ``perf_counter``; CPU time is ``process_time`` (all threads of this process).
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from journeykit.engine.duckdb import DuckDBEngine, read_in_full
from journeykit.engine.workspace import import_files
from journeykit.events.importer import import_into
from journeykit.events.simulate import SimulationOptions, simulate_to_file
from journeykit.journey import load_journey
from journeykit.workspace import Workspace, create_workspace, open_workspace


def with_check(ws: Workspace, day: Path) -> None:
    import_files(ws, [day])


def without_check(ws: Workspace, day: Path) -> None:
    import_into(DuckDBEngine(ws.database), ws, [day])


def check_alone(ws: Workspace, day: Path) -> None:
    engine = DuckDBEngine(ws.database, read_only=True)
    try:
        assert not [t for t in read_in_full(engine) if t.problem]
    finally:
        engine.close()


WORK: dict[str, Callable[[Workspace, Path], None]] = {
    "with": with_check, "without": without_check, "check": check_alone,
}  # fmt: skip


def timed(work: Callable[[Workspace, Path], None], ws: Workspace, day: Path) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    work(ws, day)
    return time.perf_counter() - wall, time.process_time() - cpu


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=200_000)
    parser.add_argument("--day", type=int, default=2_000, help="customers in the day's file")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="jk-check-"))
    try:
        base = create_workspace(scratch / "base", template="coding-course")
        journey = load_journey(base.journey_file)
        history, day = scratch / "history.parquet", scratch / "day.parquet"
        simulate_to_file(journey, SimulationOptions(customers=args.customers, seed=3), history)
        simulate_to_file(journey, SimulationOptions(customers=args.day, seed=9), day)
        (report,) = import_files(base, [history])
        print(f"workspace: {report.loaded:,} events; day file: {args.day:,} customers")
        runs: dict[str, list[tuple[float, float]]] = {name: [] for name in WORK}
        for _ in range(args.rounds):
            for name in runs:
                shutil.rmtree(scratch / "ws", ignore_errors=True)
                shutil.copytree(base.root, scratch / "ws")
                runs[name].append(timed(WORK[name], open_workspace(scratch / "ws"), day))
        for name, got in runs.items():
            wall = statistics.median(w for w, _ in got)
            cpu = statistics.median(c for _, c in got)
            print(f"{name:>8}: wall {wall:.3f} s, CPU {cpu:.3f} s (median of {args.rounds})")
        ratio = [w / o for (w, _), (o, _) in zip(runs["with"], runs["without"], strict=True)]
        cpu_ratio = [w / o for (_, w), (_, o) in zip(runs["with"], runs["without"], strict=True)]
        print(f"import with / without the check: wall {statistics.median(ratio):.2f}x, "
              f"CPU {statistics.median(cpu_ratio):.2f}x")  # fmt: skip
    finally:
        shutil.rmtree(scratch)


if __name__ == "__main__":
    main()
