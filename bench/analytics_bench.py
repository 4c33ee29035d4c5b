"""Milestone analytics at 10M events: journeykit vs chDB, Retentioneering and pm4py, same run.

One process per tool (this script re-runs itself with ``--worker``), so memory and time are
isolated; peers run in their own venv (``--peers-python``) because their pins conflict with ours.
Tasks: ordered funnel with a 14-day window, transitions (directly-follows counts and median
time), top-20 path variants, positions (status per customer). Each worker prints JSON: seconds to
load, per task the median of ``--repeat`` runs (wall and CPU), and the results the tools must
agree on.

    python ../shared/bench/gen_events.py --events 10000000 --out /tmp/jkb/ev_10m
    .venv/bin/python bench/analytics_bench.py --gen /tmp/jkb/ev_10m.parquet \\
        --sim /tmp/jkb/sim_10m.parquet --peers-python bench/.venv-peers/bin/python

The simulator file is written (saas-trial, 1.15M customers, seed 1) when it does not exist.
Only the standard library is imported at module level: the peer venv has no journeykit.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
DAY_US = 86_400 * 1_000_000
WINDOW_DAYS = 14

GEN_STEPS = ("opt_in", "trial_start", "onboarding_done", "purchase", "survey_completed",
             "repeat_purchase", "subscription_renewal", "referral")  # fmt: skip
GEN_JOURNEY = "\n".join(
    [
        "id: gen-events",
        "title: The journey behind ../shared/bench/gen_events.py",
        "transformation: {from: a prospect, to: a customer who refers others}",
        "milestones:",
        *[
            f"  - {{id: {m}, title: {m}, phase: {'pre' if i < 3 else 'core' if i == 3 else 'post'}"
            f", when: {m}}}"
            for i, m in enumerate(GEN_STEPS)
        ],
        "paths:",
        f"  - {{id: main, title: Main, steps: [{', '.join(GEN_STEPS)}]}}",
    ]
)

# ClickHouse conditions for every measurable milestone of examples/saas-trial.yaml, in journey
# order (the same translation tests/analytics/test_chdb.py checks against journeykit).
SIM_CONDITIONS = {
    "signed_up": "event = 'signed_up'",
    "webinar_attended": "event = 'webinar_joined'",
    "first_board": "event = 'board_created'",
    "invited_team": "event = 'teammate_invited' AND ifNull(value >= 1, 0)",
    "trial_ending_stall": "event = 'trial_expired' "
    "AND ifNull(JSONExtract(properties, 'boards', 'Nullable(Float64)') <= 1, 0)",
    "subscribed": "event IN ('subscription_started', 'invoice_paid') "
    "AND JSONExtractBool(properties, 'first') = 1",
    "first_review": "event = 'nps_submitted'",
    "upgraded": "event = 'plan_changed' AND JSONExtractString(properties, 'direction') = 'up'",
    "renewed": "event = 'subscription_renewed'",
    "seats_added": "event = 'seats_added' AND ifNull(value > 0, 0)",
    "came_back": "event = 'session_started' "
    "AND ifNull(JSONExtract(properties, 'days_since_last', 'Nullable(Float64)') >= 30, 0)",
    "referred": "event = 'referral_sent'",
}
SIM_PATH = ("signed_up", "first_board", "invited_team", "subscribed", "first_review",
            "upgraded", "renewed")  # fmt: skip
SIM_EXPECTED = {"first_board": 2 * 86400, "invited_team": 5 * 86400, "subscribed": 14 * 86400,
                "first_review": 30 * 86400, "upgraded": 90 * 86400,
                "renewed": 365 * 86400}  # fmt: skip
SIM_OTHER_PATHS = ("webinar_attended", "referred")  # milestones of the other path only


def _dataset(name: str) -> dict[str, Any]:
    if name == "gen":
        return {
            "customer": "CAST(user_id AS VARCHAR)",
            "milestones": list(GEN_STEPS),
            "conditions": {m: f"event = '{m}'" for m in GEN_STEPS},
            "path": list(GEN_STEPS),
            "expected": {},
            "off_path": [],
        }
    return {
        "customer": "customer_id",
        "milestones": list(SIM_CONDITIONS),
        "conditions": SIM_CONDITIONS,
        "path": list(SIM_PATH),
        "expected": SIM_EXPECTED,
        "off_path": list(SIM_OTHER_PATHS),
    }


class Clock:
    """Median wall and CPU seconds of repeated runs of each task."""

    def __init__(self, repeat: int) -> None:
        self.repeat = repeat
        self.tasks: dict[str, dict[str, float]] = {}
        self.results: dict[str, Any] = {}

    def run(self, name: str, fn: Callable[[], Any]) -> Any:
        walls, cpus, out = [], [], None
        for _ in range(self.repeat):
            w, c = time.perf_counter(), time.process_time()
            out = fn()
            walls.append(time.perf_counter() - w)
            cpus.append(time.process_time() - c)
        self.tasks[name] = {"wall": statistics.median(walls), "cpu": statistics.median(cpus)}
        return out


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# --- journeykit -------------------------------------------------------------------------------


def worker_journeykit(path: Path, data: str, clock: Clock) -> dict[str, Any]:
    from datetime import timedelta

    from journeykit.analytics import funnel, paths, positions
    from journeykit.analytics.milestones import fetch_milestones
    from journeykit.engine.duckdb import DuckDBEngine
    from journeykit.journey import parse_journey
    from journeykit.journey.templates import template_text

    ds = _dataset(data)
    started, started_cpu = time.perf_counter(), time.process_time()
    engine = DuckDBEngine()
    value = "CAST(NULL AS DOUBLE)" if data == "gen" else "value"
    engine.execute(
        f"CREATE TABLE events AS SELECT {ds['customer']} AS customer_id, event, "
        f"CAST(timestamp AS TIMESTAMP) AS timestamp, {value} AS value, properties "
        f"FROM read_parquet('{path}')"
    )
    events = engine.con.table("events")
    journey = parse_journey(GEN_JOURNEY if data == "gen" else template_text("saas-trial"))
    path_id = "main" if data == "gen" else "team"
    load = time.perf_counter() - started
    clock.tasks["load"] = {"wall": load, "cpu": time.process_time() - started_cpu}
    window = timedelta(days=WINDOW_DAYS)

    f = clock.run("funnel", lambda: funnel(events, journey, path=path_id, window=window))
    p = clock.run("paths", lambda: paths(events, journey, top=20))
    pos = clock.run("positions", lambda: positions(events, journey, path=path_id))
    # Where the time goes: the shared milestone log, then each analysis on the fetched frame.
    frame = clock.run("log_fetch", lambda: fetch_milestones(events, journey))
    clock.run("funnel_on_frame", lambda: funnel(frame, journey, path=path_id, window=window))
    clock.run("paths_on_frame", lambda: paths(frame, journey, top=20))
    clock.run("positions_on_frame", lambda: positions(frame, journey, path=path_id))

    def end_to_end() -> None:
        """From the Parquet file to every result, as `journeykit report --events FILE` runs:
        the file read through the public reader (types checked, bad rows rejected, exact
        duplicates dropped), one milestone log, then the four analyses on it."""
        from journeykit.events.sources import ColumnMap

        column = "user_id" if data == "gen" else "customer_id"
        fresh = DuckDBEngine().events(path, mapping=ColumnMap(customer_id=(column,)))
        log = fetch_milestones(fresh, journey)
        funnel(log, journey, path=path_id, window=window)
        paths(log.with_events(fresh), journey, top=20)
        positions(log.with_events(fresh), journey, path=path_id)

    clock.run("end_to_end", end_to_end)
    return {
        "load": load,
        "funnel": [s.customers for s in f.steps],
        "variants": [[list(v.steps), v.customers] for v in p.variants],
        "transitions": sorted(
            [t.from_, t.to, t.count, round(t.median_seconds, 1)] for t in p.transitions
        ),
        "summary": pos.summary,
    }


# --- chDB -------------------------------------------------------------------------------------


def _chdb_sql(data: str) -> dict[str, str]:
    ds = _dataset(data)
    ms, conds, steps = ds["milestones"], ds["conditions"], ds["path"]
    idx = {m: i for i, m in enumerate(ms)}
    w = WINDOW_DAYS * DAY_US
    funnel_conds = ", ".join(f"toUInt8({conds[m]})" for m in steps)
    step_events = " OR ".join(f"({conds[m]})" for m in steps)
    counts = ", ".join(f"countIf(l >= {k + 1})" for k in range(len(steps)))
    tag = "multiIf(" + ", ".join(f"{conds[m]}, {i}" for i, m in enumerate(ms)) + ", -1)"
    any_milestone = " OR ".join(f"({conds[m]})" for m in ms)
    tagged = f"SELECT c, ts, toInt8({tag}) AS m FROM events WHERE {any_milestone}"
    # Per customer: runs of the same milestone (time order, ties in journey order).
    runs = f"""
        SELECT c, arraySort(groupArray((ts, m))) AS a,
               arrayMap(x -> x.2, a) AS ms, arrayMap(x -> x.1, a) AS tss,
               arrayFilter(i -> i = 1 OR ms[i] != ms[i - 1], arrayEnumerate(ms)) AS st,
               arrayMap(i -> ms[i], st) AS rm,
               arrayMap(i -> tss[i], st) AS rf,
               arrayMap(k -> tss[if(k < length(st), st[k + 1] - 1, length(tss))],
                        arrayEnumerate(st)) AS rl
        FROM ({tagged}) GROUP BY c"""
    transitions = f"""
        SELECT rm[k] AS a, rm[k + 1] AS b, count() AS n,
               quantileExactInclusive(0.5)((rf[k + 1] - rl[k]) / 1e6) AS med
        FROM ({runs}) ARRAY JOIN arrayEnumerate(arrayPopBack(rm)) AS k
        GROUP BY a, b ORDER BY a, b"""
    variants = f"""
        SELECT rm, count() AS n FROM ({runs}) GROUP BY rm ORDER BY n DESC, rm LIMIT 20"""
    k = len(steps)
    code = [-1] * len(ms)
    for i, m in enumerate(steps):
        code[idx[m]] = i
    off = [idx[m] for m in ds["off_path"]]
    expected = [ds["expected"].get(steps[i + 1]) for i in range(k - 1)]
    first = ", ".join(f"minIf(ts, m = {idx[m]}) AS f{i}" for i, m in enumerate(steps))
    has = ", ".join(f"countIf(m = {idx[m]}) > 0 AS h{i}" for i, m in enumerate(steps))
    pos_expr = "multiIf(" + ", ".join(f"h{i}, {i}" for i in reversed(range(k))) + ", -1)"
    at_expr = "multiIf(" + ", ".join(f"h{i}, f{i}" for i in reversed(range(k))) + ", 0)"
    step_of = f"arrayElement([{', '.join(str(x) for x in code)}], m + 1)"
    off_any = " OR ".join(f"countIf(m = {o}) > 0" for o in off) or "0"
    skipped = " OR ".join(f"(pos > {i} AND NOT h{i})" for i in range(k)) or "0"
    ooo = " OR ".join(f"(h{i} AND h{j} AND f{i} > f{j})" for i in range(k) for j in range(i + 1, k))
    gaps = ", ".join(
        f"quantileExactInclusiveIf(0.9)((f{i + 1} - f{i}) / 1e6, h{i} AND h{i + 1} "
        f"AND f{i + 1} >= f{i}) AS p{i}"
        for i in range(k - 1)
    )
    limit = "multiIf(" + ", ".join(
        f"pos = {i}, {float(expected[i]) if expected[i] is not None else f'p{i}'}"
        for i in range(k - 1)
    ) + ", nan)"  # fmt: skip
    per_customer = f"""
        SELECT c, {first}, {has},
               argMaxIf({step_of}, (ts, {step_of}), {step_of} >= 0) AS latest_raw,
               {off_any} AS off
        FROM ({tagged}) GROUP BY c"""
    positions = f"""
        WITH pc AS (SELECT * FROM ({per_customer})),
             seen AS (SELECT c, max(ts) AS last FROM events GROUP BY c),
             now_ AS (SELECT max(ts) AS now FROM events),
             th AS (SELECT {gaps} FROM pc)
        SELECT c, pos, at, status FROM (
          SELECT pc.c AS c, {pos_expr} AS pos, {at_expr} AS at,
                 (SELECT now FROM now_) AS now, seen.last AS last, {limit} AS lim,
                 multiIf(pos = {k - 1}, 'completed',
                         now - last >= {90 * DAY_US}, 'lapsed',
                         NOT isNaN(lim) AND (now - at) / 1e6 > lim, 'stuck',
                         ({skipped}) OR ({ooo}) OR off
                           OR (latest_raw >= 0 AND latest_raw < pos), 'strayed',
                         'on_track') AS status
          FROM pc CROSS JOIN th LEFT JOIN seen ON seen.c = pc.c
          WHERE pos >= 0)"""
    return {
        "funnel": f"""
            SELECT {counts} FROM (
              SELECT windowFunnel({w})(ts, {funnel_conds}) AS l
              FROM events WHERE {step_events} GROUP BY c)""",
        "transitions": transitions,
        "variants": variants,
        "positions": positions,
    }


def worker_chdb(path: Path, data: str, clock: Clock) -> dict[str, Any]:
    from chdb import session

    ds = _dataset(data)
    started = time.perf_counter()
    sess = session.Session()
    value = "CAST(NULL AS Nullable(Float64))" if data == "gen" else "value"
    sess.query(
        "CREATE TABLE events ENGINE = MergeTree ORDER BY (c, ts) AS "
        f"SELECT toString(assumeNotNull({'user_id' if data == 'gen' else 'customer_id'})) AS c, "
        "ifNull(event, '') AS event, "
        "toUInt64(toUnixTimestamp64Micro(toDateTime64(assumeNotNull(timestamp), 6))) AS ts, "
        f"{value} AS value, ifNull(properties, '') AS properties FROM file('{path}', Parquet)"
    )
    load = time.perf_counter() - started
    sql = _chdb_sql(data)
    ms = ds["milestones"]

    def rows(q: str) -> list[list[Any]]:
        text = sess.query(q, "JSONCompact").data()
        return list(json.loads(text)["data"])

    f = clock.run("funnel", lambda: rows(sql["funnel"]))
    tr = clock.run("transitions", lambda: rows(sql["transitions"]))
    va = clock.run("variants", lambda: rows(sql["variants"]))
    pos = clock.run("positions", lambda: sess.query(sql["positions"], "ArrowTable"))
    status = pos.column("status").to_pylist()
    summary = {s: status.count(s) for s in ("completed", "lapsed", "stuck", "strayed", "on_track")}
    return {
        "load": load,
        "funnel": [int(x) for x in f[0]],
        "variants": [[[ms[m] for m in r[0]], int(r[1])] for r in va],
        "transitions": sorted([ms[a], ms[b], int(n), round(float(med), 1)] for a, b, n, med in tr),
        "summary": summary,
    }


# --- Retentioneering and pm4py (end to end from the Parquet file) ------------------------------


def _peer_frame(path: Path, data: str) -> Any:
    import pandas as pd

    ds = _dataset(data)
    df = pd.read_parquet(path, columns=["user_id" if data == "gen" else "customer_id",
                                        "event", "timestamp"])  # fmt: skip
    df.columns = ["user_id", "event", "timestamp"]
    if data != "gen":  # name rules only: the peers have no property/value conditions
        names = {"signed_up": "signed_up", "webinar_joined": "webinar_attended",
                 "board_created": "first_board", "teammate_invited": "invited_team",
                 "subscription_started": "subscribed", "invoice_paid": "subscribed",
                 "nps_submitted": "first_review", "plan_changed": "upgraded",
                 "subscription_renewed": "renewed", "referral_sent": "referred"}  # fmt: skip
        df["event"] = df["event"].map(names)
    df = df[df["event"].isin(ds["milestones"])].copy()
    df["timestamp"] = pd.to_datetime(df["timestamp"])
    return df


def worker_retentioneering(path: Path, data: str, clock: Clock) -> dict[str, Any]:
    os.environ["RETENTIONEERING_NO_TRACK"] = "1"  # it reports usage to PostHog otherwise
    from retentioneering.eventstream import Eventstream

    ds = _dataset(data)
    stream = clock.run("load", lambda: Eventstream(_peer_frame(path, data)))
    # No conversion window: a closed funnel over whole paths.
    f = clock.run("funnel", lambda: stream.funnel_data(steps=ds["path"]))

    def transitions() -> Any:
        return (
            stream.transition_graph_data(edge_weight="count"),
            stream.transition_graph_data(edge_weight="time_median"),
        )

    clock.run("transitions", transitions)

    def variants() -> Any:  # no top-variants call: collapse repeats, then count with pandas
        df = stream.collapse_events(loops=True).to_dataframe()
        return df.groupby("user_id", sort=False)["event"].agg(">".join).value_counts().head(20)

    v = clock.run("variants", variants)
    return {
        "funnel_raw": str(f)[:1500],
        "variants_top": [[k.split(">"), int(n)] for k, n in v[:3].items()],
    }


def worker_pm4py(path: Path, data: str, clock: Clock) -> dict[str, Any]:
    import pm4py

    out: dict[str, Any] = {}

    def load() -> Any:
        df = _peer_frame(path, data)
        return pm4py.format_dataframe(
            df, case_id="user_id", activity_key="event", timestamp_key="timestamp"
        )

    log = clock.run("load", load)
    clock.run("transitions", lambda: pm4py.discover_performance_dfg(log))
    v = clock.run("variants", lambda: pm4py.get_variants(log))
    top = sorted(v.items(), key=lambda kv: -(kv[1] if isinstance(kv[1], int) else len(kv[1])))
    out["variants_top"] = [[list(k), n if isinstance(n, int) else len(n)] for k, n in top[:3]]
    return out


WORKERS = {
    "journeykit": worker_journeykit,
    "chdb": worker_chdb,
    "retentioneering": worker_retentioneering,
    "pm4py": worker_pm4py,
}


def worker(tool: str, path: Path, data: str, repeat: int) -> None:
    clock = Clock(repeat)
    started = time.perf_counter()
    results = WORKERS[tool](path, data, clock)
    print(json.dumps({
        "tool": tool, "data": data, "tasks": clock.tasks, "results": results,
        "total_s": time.perf_counter() - started, "peak_rss_mb": round(_peak_mb()),
    }))  # fmt: skip


def _simulate(out: Path) -> None:
    from journeykit.events.simulate import SimulationOptions, simulate, write_table
    from journeykit.journey import parse_journey
    from journeykit.journey.templates import template_text

    journey = parse_journey(template_text("saas-trial"))
    write_table(simulate(journey, SimulationOptions(customers=1_150_000, seed=1)), out)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--gen", type=Path, help="gen_events.py Parquet file")
    ap.add_argument("--sim", type=Path, help="simulator Parquet file (written when missing)")
    ap.add_argument("--tools", default="journeykit,chdb,retentioneering,pm4py")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--peers-python", default=str(HERE / ".venv-peers" / "bin" / "python"))
    ap.add_argument("--out", type=Path, help="write all worker JSON lines here")
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    ap.add_argument("--data", help=argparse.SUPPRESS)
    ap.add_argument("--file", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        worker(args.worker, args.file, args.data, args.repeat)
        return
    if args.sim is not None and not args.sim.exists():
        _simulate(args.sim)
    runs = []
    for data, path in (("gen", args.gen), ("sim", args.sim)):
        if path is None:
            continue
        for tool in args.tools.split(","):
            python = args.peers_python if tool in ("retentioneering", "pm4py") else sys.executable
            cmd = [python, __file__, "--worker", tool, "--data", data, "--file", str(path),
                   "--repeat", str(args.repeat)]  # fmt: skip
            print(f"# {data} {tool}", file=sys.stderr, flush=True)
            done = subprocess.run(cmd, capture_output=True, text=True, env=os.environ.copy())
            if done.returncode != 0:
                runs.append({"tool": tool, "data": data, "error": done.stderr[-3000:]})
            else:
                runs.append(json.loads(done.stdout.strip().splitlines()[-1]))
            print(json.dumps(runs[-1])[:3000], file=sys.stderr, flush=True)
    if args.out is not None:
        args.out.write_text("\n".join(json.dumps(r) for r in runs) + "\n")
    _report(runs)


def _report(runs: list[dict[str, Any]]) -> None:
    tasks = ("funnel", "transitions", "variants", "paths", "positions")
    for data in ("gen", "sim"):
        mine = [r for r in runs if r["data"] == data and "tasks" in r]
        if not mine:
            continue
        print(f"\n## {data}\n")
        print(
            "| tool | load s | "
            + " | ".join(f"{t} s (cpu)" for t in tasks)
            + " | total s | peak MB |"
        )
        print("|---" * (len(tasks) + 4) + "|")
        for r in mine:
            cells = [
                f"{r['tasks'][t]['wall']:.2f} ({r['tasks'][t]['cpu']:.2f})"
                if t in r["tasks"]
                else "-"
                for t in tasks
            ]
            load = r["results"].get("load", r["tasks"].get("load", {}).get("wall", float("nan")))
            print(f"| {r['tool']} | {load:.2f} | " + " | ".join(cells)
                  + f" | {r['total_s']:.1f} | {r['peak_rss_mb']} |")  # fmt: skip
        jk = next((r for r in mine if r["tool"] == "journeykit"), None)
        ch = next((r for r in mine if r["tool"] == "chdb"), None)
        if jk and ch:
            jr, cr = jk["results"], ch["results"]
            print(f"\nfunnel journeykit {jr['funnel']}\nfunnel chdb       {cr['funnel']}")
            print(f"funnel equal: {jr['funnel'] == cr['funnel']}; "
                  f"variants equal: {jr['variants'] == cr['variants']}; "
                  f"transitions equal: {jr['transitions'] == cr['transitions']}; "
                  f"summary equal: {jr['summary'] == cr['summary']}")  # fmt: skip
            print(f"summary journeykit {jr['summary']}\nsummary chdb       {cr['summary']}")
            jk_total = sum(jk["tasks"][t]["wall"] for t in ("funnel", "paths", "positions"))
            ch_total = sum(ch["tasks"][t]["wall"] for t in ("funnel", "transitions", "variants",
                                                            "positions"))  # fmt: skip
            print(
                f"total compute journeykit {jk_total:.2f} s, chdb {ch_total:.2f} s, "
                f"ratio {jk_total / ch_total:.2f}x"
            )
        if jk and "end_to_end" in jk["tasks"]:
            _end_to_end(jk, mine)


def _end_to_end(jk: dict[str, Any], runs: list[dict[str, Any]]) -> None:
    """Peers' load plus tasks against journeykit's, two ways: through journeykit's validating
    reader (what `--events FILE` does), and with a plain load like the peers' own."""
    t = jk["tasks"]
    plain = [t[k] for k in ("load", "log_fetch", "funnel_on_frame", "paths_on_frame",
                            "positions_on_frame") if k in t]  # fmt: skip
    ours = {
        "validated read": t["end_to_end"],
        "plain load": {k: sum(x[k] for x in plain) for k in ("wall", "cpu")},
    }
    for peer in ("retentioneering", "pm4py"):
        r = next((x for x in runs if x["tool"] == peer and "tasks" in x), None)
        if r is None:
            continue
        wall = sum(v["wall"] for v in r["tasks"].values())
        cpu = sum(v["cpu"] for v in r["tasks"].values())
        for how, mine in ours.items():
            print(
                f"end to end, {how}: {peer} {wall:.1f} s ({cpu:.1f} cpu) vs journeykit "
                f"{mine['wall']:.1f} s ({mine['cpu']:.1f} cpu): journeykit "
                f"{wall / mine['wall']:.1f}x faster on wall, {cpu / mine['cpu']:.1f}x on CPU"
            )


if __name__ == "__main__":
    main()
