"""The whole analysis from the file: journeykit vs pm4py vs Retentioneering, like with like.

Issue 22, target 4: from the events file to the answers (read, milestone log, funnel, paths,
positions) at least 3x faster than pm4py and 10x faster than Retentioneering, CPU and wall.
Each tool runs in its own child process (this script with ``--worker``), with its own
interpreter: pm4py and Retentioneering live in their own venvs (``--pm4py-python``,
``--rete-python``) because they pin other pandas/numpy versions than the project. The parent
measures each child's wall time and its CPU time (user + system, every thread, from
``getrusage(RUSAGE_CHILDREN)``), interpreter start and imports included; the child reports
per-phase times and its peak RSS.

What each side does, in the measured time (every side starts from the same Parquet file):

- **journeykit** (public API, as ``journeykit report --events FILE`` runs it): read the file
  through the validating reader (every row typed, bad rows rejected with a reason, exact
  duplicates left out); one milestone log built by the journey's rules (``fetch_milestones``;
  the simulated log's rules test ``value`` and JSON ``properties``); the ordered funnel along
  the path, no window; paths (top-20 variants of milestone runs and every transition with its
  count and median time); positions (each customer's furthest step on the path, its status:
  completed, lapsed, stuck, strayed, on track).
- **pm4py**: pandas reads the columns the rules need; the journey's rules map each event to its
  milestone in pandas (pm4py has no rule language; the same vectorised code for both peers,
  JSON parsed only for the events a property rule looks at); ``pm4py.format_dataframe`` on every
  event; ``pm4py.filter_event_attribute_values`` keeps the milestone events (the milestone log);
  funnel: ``pm4py.get_variants`` and, per variant, the furthest step reached in order (a
  subsequence match), weighted by the variant's cases; paths: the same variants with repeats
  collapsed, top 20, and ``pm4py.discover_performance_dfg`` (directly-follows counts and
  times); positions: each case's furthest path step (pandas group-by on pm4py's frame) and
  ``pm4py.get_end_activities`` (last milestone per case).
- **Retentioneering**: the same read and rule mapping; ``Eventstream`` on every event, then
  ``filter_events`` keeps the milestone events; funnel: ``funnel_data(steps=path)`` (ordered, no
  window: a path counts at step N if it has that step after all earlier ones); paths:
  ``collapse_events(loops=True)`` and the top-20 sequences by a pandas group-by, and
  ``transition_graph_data`` by count and by median time; positions: each path's furthest step
  and last milestone (pandas group-by on the eventstream's frame; it has no positions tool).

The funnel counts and the per-step positions must agree across the three (checked, printed).
The peers do less than journeykit: no validation of rows, no duplicate removal, no statuses.

    python ../shared/bench/gen_events.py --events 10000000 --out /tmp/jkp/ev_10m
    python bench/simulate_bench.py --customers 1150000 --out /tmp/jkp/sim_10m.parquet
    python3 -m venv /tmp/pm4py-venv && /tmp/pm4py-venv/bin/pip install pm4py pyarrow
    python3 -m venv /tmp/rete-venv && /tmp/rete-venv/bin/pip install retentioneering pyarrow
    python bench/peers_e2e.py --gen /tmp/jkp/ev_10m.parquet --sim /tmp/jkp/sim_10m.parquet \\
        --pm4py-python /tmp/pm4py-venv/bin/python --rete-python /tmp/rete-venv/bin/python

Only the standard library is imported at module level: the peer venvs have no journeykit.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from analytics_bench import GEN_JOURNEY, GEN_STEPS

# The saas-trial template's milestones in journey order, each as (events, value test, property
# test) for the peers' pandas mapping; journeykit reads the same rules from the template.
SIM_RULES: dict[str, tuple[tuple[str, ...], tuple[str, float] | None, tuple[str, str, Any] | None]]
SIM_RULES = {
    "signed_up": (("signed_up",), None, None),
    "webinar_attended": (("webinar_joined",), None, None),
    "first_board": (("board_created",), None, None),
    "invited_team": (("teammate_invited",), ("gte", 1.0), None),
    "trial_ending_stall": (("trial_expired",), None, ("boards", "lte", 1.0)),
    "subscribed": (("subscription_started", "invoice_paid"), None, ("first", "eq", True)),
    "first_review": (("nps_submitted",), None, None),
    "upgraded": (("plan_changed",), None, ("direction", "eq", "up")),
    "renewed": (("subscription_renewed",), None, None),
    "seats_added": (("seats_added",), ("gt", 0.0), None),
    "came_back": (("session_started",), None, ("days_since_last", "gte", 30.0)),
    "referred": (("referral_sent",), None, None),
    "community_post": (("community_post",), None, None),
}
SIM_PATH = ("signed_up", "first_board", "invited_team", "subscribed", "first_review",
            "upgraded", "renewed")  # fmt: skip


def _dataset(data: str) -> dict[str, Any]:
    if data == "gen":
        return {"customer": "user_id", "milestones": list(GEN_STEPS), "path": list(GEN_STEPS)}
    return {"customer": "customer_id", "milestones": list(SIM_RULES), "path": list(SIM_PATH)}


class Phases:
    """Wall and CPU seconds of each phase of one worker, in the worker's process."""

    def __init__(self) -> None:
        self.times: dict[str, dict[str, float]] = {}

    def run(self, name: str, fn: Callable[[], Any]) -> Any:
        w, c = time.perf_counter(), time.process_time()
        out = fn()
        self.times[name] = {
            "wall": round(time.perf_counter() - w, 3),
            "cpu": round(time.process_time() - c, 3),
        }
        return out


# --- the peers' shared pandas steps --------------------------------------------------------------


def _read(path: Path, data: str) -> Any:
    import pandas as pd

    ds = _dataset(data)
    cols = [ds["customer"], "event", "timestamp"] + (
        [] if data == "gen" else ["value", "properties"]
    )
    df = pd.read_parquet(path, columns=cols)
    df = df.rename(columns={ds["customer"]: "user_id"})
    if data == "gen":
        df["user_id"] = df["user_id"].astype(str)  # journeykit's customer ids are text
    return df


def _map_milestones(df: Any, data: str) -> Any:
    """The journey's rules: each event's milestone name (first rule in journey order), else NaN."""
    if data == "gen":
        return df  # every rule is an event name: the milestone is the event itself
    import json as js

    import numpy as np
    import pandas as pd

    ops = {"eq": np.equal, "gte": np.greater_equal, "lte": np.less_equal, "gt": np.greater}
    event = df["event"]
    out = pd.Series(np.full(len(df), None, dtype=object), index=df.index)
    for milestone, (names, value, prop) in reversed(SIM_RULES.items()):  # first rule wins
        hit = event.isin(names).to_numpy().copy()
        if value is not None:
            hit &= np.nan_to_num(ops[value[0]](df["value"].to_numpy(), value[1]), nan=0) > 0
        if prop is not None:
            rows = np.flatnonzero(hit)
            key, op, want = prop
            got = [js.loads(s).get(key) if s else None for s in df["properties"].to_numpy()[rows]]
            keep = [_holds(g, op, want) for g in got]
            hit[:] = False
            hit[rows[np.asarray(keep, dtype=bool)]] = True
        out[hit] = milestone
    df = df[["user_id", "timestamp"]].copy()
    df["event"] = out
    return df


def _holds(got: Any, op: str, want: Any) -> bool:
    """A property test as journeykit reads it: numbers compare as numbers, else equality."""
    if isinstance(want, float):
        number = isinstance(got, (int, float)) and not isinstance(got, bool)
        return number and {"eq": got == want, "gte": got >= want, "lte": got <= want,
                           "gt": got > want}[op]  # fmt: skip
    return type(got) is type(want) and got == want


def _ordered_reach(sequences: dict[tuple[str, ...], int], path: list[str]) -> list[int]:
    """Customers reaching each path step in order (no window), from sequences with counts."""
    counts = [0] * len(path)
    for seq, n in sequences.items():
        k = 0
        for m in seq:
            if k < len(path) and m == path[k]:
                k += 1
        for i in range(k):
            counts[i] += n
    return counts


def _collapsed_top(sequences: dict[tuple[str, ...], int], top: int = 20) -> list[list[Any]]:
    runs: dict[tuple[str, ...], int] = {}
    for seq, n in sequences.items():
        key = tuple(m for i, m in enumerate(seq) if i == 0 or m != seq[i - 1])
        runs[key] = runs.get(key, 0) + n
    ranked = sorted(runs.items(), key=lambda kv: (-kv[1], kv[0]))[:top]
    return [[list(k), n] for k, n in ranked]


def _furthest_step(df: Any, case: str, activity: str, path: list[str]) -> list[int]:
    """Cases whose furthest path step (highest step reached, any order) is each step."""
    step = df[activity].astype(object).map({m: i for i, m in enumerate(path)})
    best = step.groupby(df[case], observed=True).max().dropna().astype(int)
    counts = best.value_counts()
    return [int(counts.get(i, 0)) for i in range(len(path))]


# --- workers -------------------------------------------------------------------------------------


def worker_journeykit(path: Path, data: str, ph: Phases) -> dict[str, Any]:
    def imports() -> Any:
        from journeykit.analytics import funnel, paths, positions
        from journeykit.analytics.milestones import fetch_milestones
        from journeykit.engine.duckdb import DuckDBEngine
        from journeykit.events.sources import ColumnMap
        from journeykit.journey import parse_journey
        from journeykit.journey.templates import template_text

        return (funnel, paths, positions, fetch_milestones, DuckDBEngine, ColumnMap,
                parse_journey, template_text)  # fmt: skip

    (funnel, paths, positions, fetch_milestones, DuckDBEngine, ColumnMap, parse_journey,
     template_text) = ph.run("import", imports)  # fmt: skip
    ds = _dataset(data)
    journey = parse_journey(GEN_JOURNEY if data == "gen" else template_text("saas-trial"))
    path_id = "main" if data == "gen" else "team"
    mapping = ColumnMap(customer_id=(ds["customer"],))
    events = ph.run("read", lambda: DuckDBEngine().events(path, mapping=mapping))
    log = ph.run("milestone_log", lambda: fetch_milestones(events, journey))
    f = ph.run("funnel", lambda: funnel(log, journey, path=path_id, window=None))
    p = ph.run("paths", lambda: paths(log.with_events(events), journey, top=20))
    pos = ph.run("positions", lambda: positions(log.with_events(events), journey, path=path_id))
    import numpy as np

    return {
        "log_rows": len(log.ts),
        "funnel": [s.customers for s in f.steps],
        "variants": [[list(v.steps), v.customers] for v in p.variants],
        "furthest_step": np.bincount(pos.position, minlength=len(ds["path"])).tolist(),
        "summary": pos.summary,
    }


def worker_pm4py(path: Path, data: str, ph: Phases) -> dict[str, Any]:
    def imports() -> Any:
        import pandas  # noqa: F401
        import pm4py

        return pm4py

    pm4py = ph.run("import", imports)
    ds = _dataset(data)
    df = ph.run("read", lambda: _read(path, data))

    def milestone_log() -> Any:
        frame = pm4py.format_dataframe(
            _map_milestones(df, data),
            case_id="user_id",
            activity_key="event",
            timestamp_key="timestamp",
        )
        return pm4py.filter_event_attribute_values(
            frame, "concept:name", ds["milestones"], level="event", retain=True
        )

    log = ph.run("milestone_log", milestone_log)
    variants: dict[tuple[str, ...], int] = {}

    def funnel() -> list[int]:
        v = pm4py.get_variants(log)
        variants.update({k: n if isinstance(n, int) else len(n) for k, n in v.items()})
        return _ordered_reach(variants, ds["path"])

    f = ph.run("funnel", funnel)

    def paths() -> list[list[Any]]:
        pm4py.discover_performance_dfg(log)
        return _collapsed_top(variants)

    top = ph.run("paths", paths)

    def positions() -> list[int]:
        pm4py.get_end_activities(log)
        return _furthest_step(log, "case:concept:name", "concept:name", ds["path"])

    pos = ph.run("positions", positions)
    return {"log_rows": len(log), "funnel": f, "variants": top, "furthest_step": pos}


def worker_retentioneering(path: Path, data: str, ph: Phases) -> dict[str, Any]:
    os.environ["RETENTIONEERING_NO_TRACK"] = "1"  # it reports usage to PostHog otherwise

    def imports() -> Any:
        from retentioneering.eventstream import Eventstream

        return Eventstream

    Eventstream = ph.run("import", imports)
    ds = _dataset(data)
    df = ph.run("read", lambda: _read(path, data))

    def milestone_log() -> Any:
        mapped = _map_milestones(df, data)
        mapped["event"] = mapped["event"].fillna("-")  # an event with no milestone
        return Eventstream(mapped).filter_events(keep={"event": ds["milestones"]})

    stream = ph.run("milestone_log", milestone_log)

    def funnel() -> list[int]:
        out = stream.funnel_data(steps=ds["path"])
        return [int(s["unique_paths"]) for s in out["steps"]]

    f = ph.run("funnel", funnel)

    def paths() -> list[list[Any]]:
        stream.transition_graph_data(edge_weight="count")
        stream.transition_graph_data(edge_weight="time_median")
        frame = stream.collapse_events(loops=True).to_dataframe()
        seqs = frame.groupby("user_id", sort=False, observed=True)["event"].agg(tuple)
        return _collapsed_top({k: int(n) for k, n in seqs.value_counts().items()})

    top = ph.run("paths", paths)

    def positions() -> list[int]:
        frame = stream.to_dataframe()
        frame.groupby("user_id", sort=False, observed=True)["event"].last().value_counts()
        return _furthest_step(frame, "user_id", "event", ds["path"])

    pos = ph.run("positions", positions)
    return {"log_rows": len(stream.to_dataframe()), "funnel": f, "variants": top,
            "furthest_step": pos}  # fmt: skip


def worker_floor(path: Path, data: str, ph: Phases) -> dict[str, Any]:
    """The least any tool that checks its input must do, in DuckDB: no journeykit code.

    "read" scans every row once for what journeykit's reader refuses or folds (``properties``
    that is not a JSON object, exact duplicate rows: counted, nothing kept); "milestone_log"
    keeps the events a rule names (names only: no value or property test, so less than the
    rules) and sorts them by customer and time into Arrow."""
    import duckdb

    ds = _dataset(data)
    con = ph.run("import", duckdb.connect)
    src = f"read_parquet('{path}')"

    cols = ", ".join(
        [ds["customer"], "event", "timestamp", "properties"] + ["value"] * (data == "sim")
    )

    def read() -> Any:
        return con.execute(
            "SELECT count(*) FILTER (WHERE properties IS NOT NULL AND "
            "CASE WHEN json_valid(properties) THEN json_type(properties) END IS DISTINCT FROM "
            f"'OBJECT'), count(*) - count(DISTINCT hash({cols}))"
            f" FROM {src}"
        ).fetchone()

    bad = ph.run("read", read)
    names = sorted(
        {n for m in ds["milestones"] for n in (SIM_RULES[m][0] if data == "sim" else (m,))}
    )
    listed = ", ".join(f"'{n}'" for n in names)
    log = ph.run("milestone_log", lambda: con.execute(
        f"SELECT CAST({ds['customer']} AS VARCHAR) AS c, event, timestamp FROM {src} "
        f"WHERE event IN ({listed}) ORDER BY c, timestamp").to_arrow_table())  # fmt: skip
    for name in ("funnel", "paths", "positions"):
        ph.times[name] = {"wall": 0.0, "cpu": 0.0}
    return {"log_rows": log.num_rows, "bad_json": bad[0], "duplicates_upper_bound": bad[1],
            "funnel": [], "furthest_step": []}  # fmt: skip


WORKERS = {
    "floor": worker_floor,
    "journeykit": worker_journeykit,
    "pm4py": worker_pm4py,
    "retentioneering": worker_retentioneering,
}


def worker(tool: str, path: Path, data: str) -> None:
    ph = Phases()
    results = WORKERS[tool](path, data, ph)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"phases": ph.times, "results": results, "peak_rss_mb": round(peak)}))


# --- parent --------------------------------------------------------------------------------------


def _child_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def run_child(python: str, tool: str, data: str, path: Path, timeout: float) -> dict[str, Any]:
    cmd = [python, str(Path(__file__).resolve()), "--worker", tool, "--data", data,
           "--file", str(path)]  # fmt: skip
    load = os.getloadavg()[0]
    cpu, wall = _child_cpu(), time.perf_counter()
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"tool": tool, "data": data, "error": f"timed out after {timeout:.0f} s"}
    out: dict[str, Any] = {
        "tool": tool, "data": data, "file": str(path),
        "wall": round(time.perf_counter() - wall, 2), "cpu": round(_child_cpu() - cpu, 2),
        "load_before": load, "load_after": os.getloadavg()[0],
    }  # fmt: skip
    if done.returncode != 0:
        out["error"] = done.stderr[-3000:]
    else:
        out.update(json.loads(done.stdout.strip().splitlines()[-1]))
    return out


def report(runs: list[dict[str, Any]]) -> None:
    for data in ("gen", "sim"):
        mine = [r for r in runs if r["data"] == data]
        if not mine:
            continue
        print(f"\n## {data}\n")
        names = ("import", "read", "milestone_log", "funnel", "paths", "positions")
        print("| tool | whole process wall s (CPU s) | " + " | ".join(names) + " | peak RSS MB |")
        print("|---" * (len(names) + 3) + "|")
        for r in mine:
            if "error" in r:
                print(f"| {r['tool']} | {r['error'][:200]} |")
                continue
            cells = [f"{r['phases'][n]['wall']:.2f} ({r['phases'][n]['cpu']:.2f})" for n in names]
            print(f"| {r['tool']} | {r['wall']:.1f} ({r['cpu']:.1f}) | " + " | ".join(cells)
                  + f" | {r['peak_rss_mb']} |")  # fmt: skip
        jk = next((r for r in mine if r["tool"] == "journeykit" and "error" not in r), None)
        for r in mine:
            if "error" in r:
                continue
            res = r["results"]
            print(f"{r['tool']:>16}: log rows {res['log_rows']}, funnel {res['funnel']}, "
                  f"furthest step {res['furthest_step']}")  # fmt: skip
            if jk is None or r is jk or r["tool"] == "floor":
                continue
            same = {k: r["results"][k] == jk["results"][k]
                    for k in ("funnel", "furthest_step", "variants")}  # fmt: skip
            print(
                f"{'':>16}  same as journeykit: {same}; journeykit faster by "
                f"{r['wall'] / jk['wall']:.2f}x wall, {r['cpu'] / jk['cpu']:.2f}x CPU"
            )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--gen", type=Path, help="gen_events.py Parquet file")
    ap.add_argument("--sim", type=Path, help="journeykit simulate Parquet file (saas-trial)")
    ap.add_argument("--tools", default="journeykit,pm4py,retentioneering")
    ap.add_argument("--python", default=sys.executable, help="journeykit's interpreter")
    ap.add_argument("--pm4py-python", default=sys.executable)
    ap.add_argument("--rete-python", default=sys.executable)
    ap.add_argument("--timeout", type=float, default=1200.0, help="seconds per child")
    ap.add_argument("--out", type=Path, help="append every run as a JSON line here")
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    ap.add_argument("--data", help=argparse.SUPPRESS)
    ap.add_argument("--file", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        worker(args.worker, args.file, args.data)
        return
    pythons = {"journeykit": args.python, "floor": args.python, "pm4py": args.pm4py_python,
               "retentioneering": args.rete_python}  # fmt: skip
    runs = []
    for data, path in (("gen", args.gen), ("sim", args.sim)):
        if path is None:
            continue
        for tool in args.tools.split(","):
            print(f"# {data} {tool}", file=sys.stderr, flush=True)
            runs.append(run_child(pythons[tool], tool, data, path, args.timeout))
            print(json.dumps(runs[-1])[:2000], file=sys.stderr, flush=True)
            if args.out is not None:
                with args.out.open("a") as fh:
                    fh.write(json.dumps(runs[-1]) + "\n")
    report(runs)


if __name__ == "__main__":
    main()
