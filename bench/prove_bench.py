"""``journeykit prove`` (every play) vs ``journeykit funnel`` on one workspace.

The workspace holds the saas-trial simulator's events (``act_bench``'s generator: about 10.3
events per customer) and a ledger of ``--entries`` synthetic entries spread over the template's
plays, written straight into ``play_entries`` (``act`` over simulated days would take hours at
this size). The entries are valid rows: customers from the log, arms by the keyed hash,
``entered_at`` inside the log, goal and window as ``act`` would set them for a position on the
play's path. Each command runs as a user runs it, in a fresh process, taking turns round by
round; wall time around the process, CPU from the children's resource usage.

    python bench/prove_bench.py --customers 970000 --entries 1000000 --dir /tmp/jk-prove-bench

Not part of the test suite.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from act_bench import _prepare, _timed


def _fill_ledger(ws_dir: Path, entries: int, seed: int = 7) -> int:
    """Replace the ledger's entries with ``entries`` synthetic ones; the count written."""
    import duckdb
    import numpy as np
    import pyarrow as pa

    from journeykit.act.arms import arms
    from journeykit.act.audience import goal_of, window_of
    from journeykit.act.ledger import COLUMNS, entry_ids, open_ledger, revision
    from journeykit.journey import load_journey
    from journeykit.workspace import open_workspace

    ws = open_workspace(ws_dir)
    journey = load_journey(ws.journey_file)
    open_ledger(ws).close()  # creates the ledger's tables
    con = duckdb.connect(str(ws.database))
    try:
        customers = np.array(
            [r[0] for r in con.execute("SELECT DISTINCT customer_id FROM events").fetchall()],
            dtype=object,
        )
        start, end = con.execute("SELECT min(timestamp), max(timestamp) FROM events").fetchone()
        rng = np.random.default_rng(seed)
        plays = journey.plays
        per = np.full(len(plays), entries // len(plays))
        per[: entries % len(plays)] += 1
        span_us = int((end - start).total_seconds() * 1e6)
        start_us = int(np.datetime64(start, "us").astype(np.int64))  # naive UTC
        rev = revision(journey)
        parts = []
        for play, n in zip(plays, per.tolist(), strict=True):
            cids = rng.choice(customers, size=n, replace=n > customers.size).astype(str)
            seq = np.zeros(n, dtype=np.int32)
            if n > customers.size:  # a customer entering twice gets the next seq
                order = np.argsort(cids, kind="stable")
                first = np.r_[True, cids[order][1:] != cids[order][:-1]]
                run = np.cumsum(first) - 1
                seq[order] = np.arange(n) - np.flatnonzero(first)[run]
            steps = tuple(s.milestone for s in journey.path(play.who.path).steps)
            if play.who.milestone is not None:
                pos = np.full(n, steps.index(play.who.milestone))
            else:
                pos = rng.integers(0, len(steps), size=n)
            goal_at = [goal_of(journey, play, steps, k) for k in range(len(steps))]
            window_at = [window_of(journey, play, g).total_seconds() for g in goal_at]
            entered = start_us + rng.integers(0, span_us, size=n)
            parts.append(
                pa.table(
                    {
                        "entry_id": entry_ids(journey.id, play.id, cids.tolist(), seq.tolist()),
                        "journey_id": [journey.id] * n,
                        "play_id": [play.id] * n,
                        "customer_id": cids,
                        "seq": seq,
                        "arm": arms(journey.id, play.id, cids.tolist(), play.holdout),
                        "entered_at": pa.array(entered, pa.timestamp("us")),
                        "recorded_at": pa.array(entered, pa.timestamp("us")),
                        "path": [play.who.path or journey.paths[0].id] * n,
                        "milestone": np.array(steps, dtype=object)[pos],
                        "status": [play.who.status] * n,
                        "days_waiting": rng.uniform(0, 30, size=n),
                        "goal": np.array(goal_at, dtype=object)[pos],
                        "window_seconds": np.array(window_at)[pos],
                        "cooldown_seconds": np.full(n, play.cooldown.total_seconds()),
                        "journey_revision": [rev] * n,
                    }
                )
            )
        table = pa.concat_tables(parts).select(list(COLUMNS))
        con.execute("BEGIN")
        con.execute("DELETE FROM play_entries")
        con.register("new_entries", table)
        con.execute(f"INSERT INTO play_entries SELECT {', '.join(COLUMNS)} FROM new_entries")
        con.execute("COMMIT")
        con.execute("CHECKPOINT")  # else the first command pays for it
        return table.num_rows
    finally:
        con.close()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--customers", type=int, default=970_000)
    ap.add_argument("--entries", type=int, default=1_000_000)
    ap.add_argument("--dir", type=Path, required=True)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    args.dir.mkdir(parents=True, exist_ok=True)
    ws = _prepare(args.dir, args.customers)
    started = time.perf_counter()
    written = _fill_ledger(ws, args.entries)
    print(f"ledger: {written:,} entries in {time.perf_counter() - started:.1f} s", flush=True)
    journey = str(ws / "journey.yaml")
    jk = [sys.executable, "-m", "journeykit"]
    commands = {
        "funnel": [*jk, "funnel", journey, "--workspace", str(ws)],
        "prove": [*jk, "prove", journey, "--workspace", str(ws), "--format", "json"],
    }
    ratios: dict[str, list[float]] = {"wall": [], "cpu": []}
    for r in range(args.rounds):
        got = {}
        for name, cmd in commands.items():
            got[name] = _timed(cmd)
            wall, cpu = got[name]
            print(f"round {r + 1}: {name}: wall {wall:.2f} s, CPU {cpu:.2f} s", flush=True)
        ratios["wall"].append(got["prove"][0] / got["funnel"][0])
        ratios["cpu"].append(got["prove"][1] / got["funnel"][1])
        print(
            f"round {r + 1}: prove / funnel: wall {ratios['wall'][-1]:.2f}x, "
            f"CPU {ratios['cpu'][-1]:.2f}x",
            flush=True,
        )
    print(
        f"median prove / funnel over {args.rounds} rounds: "
        f"wall {statistics.median(ratios['wall']):.2f}x, "
        f"CPU {statistics.median(ratios['cpu']):.2f}x"
    )


if __name__ == "__main__":
    main()
