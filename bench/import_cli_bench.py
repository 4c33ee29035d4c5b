"""`journeykit import` as a user runs it (a fresh process, start-up included) vs DuckDB's
`CREATE TABLE AS SELECT * FROM read_csv(...)` of the same file into a database file with the
customer id read as text (issue 22, target 3: <= 1.3x CPU), in the same run.

    python ../shared/bench/gen_events.py --events 2100000 --out /tmp/jk-cli/ev_2m
    python bench/import_cli_bench.py --csv /tmp/jk-cli/ev_2m.csv --rounds 3 [--also OTHER/src]

``--also SRC`` runs another checkout's journeykit (its ``src`` folder put first on the path) in
the same rounds, so a change is measured against what it replaced under the same load. Each
round runs every side once, in turn; medians and ratios to DuckDB per round are reported.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from cli_bench import DUCKDB_CTAS, run

HERE = Path(__file__).resolve().parents[1] / "src"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--csv", type=Path, required=True)
    ap.add_argument("--customer-id", default="user_id", help="the file's customer id column")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--also", type=Path, help="another checkout's src folder, same rounds")
    args = ap.parse_args()
    sides = {"journeykit": HERE, **({"also": args.also.resolve()} if args.also else {})}
    runs: dict[str, list[dict[str, float]]] = {"duckdb": [], **{k: [] for k in sides}}
    root = Path(tempfile.mkdtemp(prefix="jk-import-bench-"))
    try:
        for _ in range(args.rounds):
            db = root / "baseline.duckdb"
            ctas = [sys.executable, "-c", DUCKDB_CTAS, str(args.csv), str(db), args.customer_id]
            runs["duckdb"].append(run(ctas))
            db.unlink()
            for side, src in sides.items():
                os.environ["PYTHONPATH"] = str(src)  # the children run this side's code
                ws = root / f"ws-{side}"
                cli = [sys.executable, "-m", "journeykit"]
                subprocess.run([*cli, "init", str(ws)], check=True, capture_output=True)
                cmd = [*cli, "import", "--workspace", str(ws), "--customer-id",
                       args.customer_id, str(args.csv)]  # fmt: skip
                runs[side].append(run(cmd))
                shutil.rmtree(ws)
    finally:
        shutil.rmtree(root)
    print("| what | wall s (rounds) | CPU s (rounds) | median vs DuckDB wall | CPU |")
    print("|---|---|---|---|---|")
    for side, done in runs.items():
        walls = ", ".join(f"{r['wall']:.2f}" for r in done)
        cpus = ", ".join(f"{r['cpu']:.2f}" for r in done)
        ratio = "reference | "
        if side != "duckdb":
            pairs = list(zip(done, runs["duckdb"], strict=True))
            w = statistics.median(r["wall"] / d["wall"] for r, d in pairs)
            c = statistics.median(r["cpu"] / d["cpu"] for r, d in pairs)
            ratio = f"{w:.2f}x | {c:.2f}x"
        print(f"| {side} | {walls} | {cpus} | {ratio} |")
    print(f"\nload average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
