"""Everyday commands from the shell vs chDB and DuckDB on the same CSV, same run (issue 22).

    python ../shared/bench/gen_events.py --events 2100000 --out /tmp/jk-cli/ev_2m
    python bench/cli_bench.py --csv /tmp/jk-cli/ev_2m.csv --rounds 3

Every measured thing is a fresh process, as a user runs it: CPU is the child's user + system
time (all threads), wall is ``perf_counter`` around it. Each round runs every side once, in turn,
so machine load hits all alike; the table shows medians and ratios to the peers:

- chDB's whole job: ``windowFunnel`` over the CSV read by ``file()`` (no validation), the
  reference for the workspace commands (target <= 1.0x CPU) and ``funnel --events`` (<= 2.0x);
- ``journeykit funnel|paths|positions|stuck|cohorts --workspace`` on the imported CSV (the
  journey is one of the workspace's, so the import stored its milestone log);
- start-up: the same commands on a workspace of one customer (imports, JIT, journey parse; no
  work to speak of), target <= 0.5 s;
- ``journeykit import`` into a fresh workspace vs DuckDB ``CREATE TABLE AS SELECT * FROM
  read_csv(...)`` into a database file with the customer id read as text (target <= 1.3x), in
  three workspaces (``IMPORTS``) that keep a small, a full and no milestone log.

Each journeykit source tree is byte-compiled first (``compileall``), as an installed package
is: under ``PYTHONDONTWRITEBYTECODE`` (set in some shells) every command would otherwise
compile journeykit's own 36 modules again, 0.03-0.04 CPU s that no user pays.

``--src DIR`` (repeatable) runs every journeykit command once per source tree in each round
(``PYTHONPATH=DIR``), e.g. ``--src src --src ../wt-base/src`` for after and before in the same
run; ``--workspace-only`` leaves out ``funnel --events``, the import and DuckDB's CTAS.
"""

from __future__ import annotations

import argparse
import compileall
import importlib.util
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from analytics_bench import GEN_JOURNEY, GEN_STEPS, WINDOW_DAYS

WORKSPACE_COMMANDS = ("funnel", "paths", "positions", "stuck", "cohorts")

CHDB_FUNNEL = """
import sys, chdb
steps = {steps!r}
conds = ", ".join(f"event = '{{m}}'" for m in steps)
counts = ", ".join(f"countIf(l >= {{k + 1}})" for k in range(len(steps)))
names = ", ".join(repr(m) for m in steps)
src = (f"file('{{sys.argv[1]}}', CSVWithNames, "
       f"'{{sys.argv[2]}} String, event String, timestamp DateTime, properties String')")
levels = (f"SELECT windowFunnel({window})(timestamp, {{conds}}) AS l "
          f"FROM {{src}} WHERE event IN ({{names}}) GROUP BY {{sys.argv[2]}}")
print(chdb.query(f"SELECT {{counts}} FROM ({{levels}})", "CSV"))
"""

DUCKDB_CTAS = """
import sys, duckdb
con = duckdb.connect(sys.argv[2])
con.execute("SET enable_progress_bar = false")
con.execute(f"CREATE TABLE t AS SELECT * FROM read_csv('{sys.argv[1]}', "
            f"types = {{'{sys.argv[3]}': 'VARCHAR'}})")
con.close()
"""

# The least a validating reader does (target 2's floor): parse every column of every row and
# check each row's JSON, in one streaming scan that keeps nothing.
DUCKDB_SCAN = """
import sys, duckdb
print(duckdb.sql(f"SELECT count({sys.argv[2]}), count(event), count(timestamp), "
                 f"count(*) FILTER (json_valid(properties)) FROM read_csv('{sys.argv[1]}', "
                 f"types = {{'{sys.argv[2]}': 'VARCHAR'}})").fetchall())
"""

# The same, with journeykit's own checks (``events.clean.typed_sql``, built by the parent and
# passed in): every row typed and judged, the copy hash and the refused row's text, nothing kept.
CHECKS_SCAN = """
import json, sys, duckdb
con = duckdb.connect()
con.execute("SET enable_progress_bar = false")
print(con.execute("SELECT count(*), count(reason), bit_xor(_h), count(raw) FROM (" + sys.argv[1]
                  + ")", json.loads(sys.argv[2])).fetchall())
"""

# Target 3's floor: the same checks, the rows kept in a database file (DuckDB's CTAS of them).
CHECKS_CTAS = """
import json, sys, duckdb
con = duckdb.connect(sys.argv[3])
con.execute("SET enable_progress_bar = false")
con.execute("CREATE TABLE t AS " + sys.argv[1], json.loads(sys.argv[2]))
con.close()
"""


def checks_sql(csv: Path) -> tuple[str, dict[str, str]]:
    """The importer's typed SELECT over ``csv`` and its parameters (as ``events.reader``)."""
    from journeykit.engine.duckdb import DuckDBEngine
    from journeykit.events.clean import typed_sql
    from journeykit.events.sources import ColumnMap, open_scan, resolve

    engine = DuckDBEngine()
    try:
        scan = open_scan(engine, csv)
        resolved = resolve(ColumnMap(), list(scan.columns), csv)
        return typed_sql(scan, resolved, "UTC"), {k: str(v) for k, v in scan.params.items()}
    finally:
        engine.close()


def run(cmd: list[str], out: Path | None = None, src: str | None = None) -> dict[str, float]:
    """Wall and CPU seconds of one child process (which must succeed); ``src``: the journeykit
    source tree it imports."""
    env = None if src is None else {**os.environ, "PYTHONPATH": src}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    wall = time.perf_counter()
    with open(out or os.devnull, "w") as sink:
        done = subprocess.run(cmd, stdout=sink, stderr=subprocess.PIPE, text=True, env=env)
    wall = time.perf_counter() - wall
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{done.stderr[-2000:]}")
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"wall": wall, "cpu": cpu}


def journeykit(*args: str) -> list[str]:
    return [sys.executable, "-m", "journeykit", *args]


def byte_compile(srcs: list[str | None]) -> None:
    """``.pyc`` files for every journeykit tree measured (``None``: the one this process
    imports), so no command compiles its modules from source."""
    for src in srcs:
        if src is None:
            spec = importlib.util.find_spec("journeykit")
            assert spec is not None and spec.origin is not None
            src = str(Path(spec.origin).parent)
        compileall.compile_dir(src, quiet=1)


def workspace(root: Path, csv: Path, journey: Path) -> Path:
    """The CSV imported into a fresh workspace that has the bench's journey among its own, so
    the import stores its milestone log (as for any journey a workspace keeps)."""
    ws = root / "ws"
    subprocess.run(journeykit("init", str(ws)), check=True, capture_output=True)
    (ws / "journeys").mkdir()
    shutil.copy(journey, ws / "journeys" / "gen.yaml")
    run(journeykit("import", "--workspace", str(ws), str(csv)))
    return ws


# The import into three fresh workspaces: as ``init`` makes it (its example journey matches
# few of the file's events, so its milestone log is small), with the bench's journey added (a
# log of the events the analyses read), and with no journey at all (no log: the import alone).
IMPORTS = ("import", "import_gen_log", "import_no_journey")


def fresh_workspace(ws: Path, kind: str, journey: Path) -> Path:
    subprocess.run(journeykit("init", str(ws)), check=True, capture_output=True)
    if kind == "import_gen_log":
        (ws / "journeys").mkdir()
        shutil.copy(journey, ws / "journeys" / "gen.yaml")
    elif kind == "import_no_journey":
        (ws / "journey.yaml").unlink()
    return ws


def canonical_copy(root: Path, csv: Path, customer_id: str) -> Path:
    """The CSV with its id column named ``customer_id``: ``--events FILE`` reads canonical names."""
    out = root / "events.csv"
    with csv.open("rb") as src, out.open("wb") as dst:
        header = src.readline().decode()
        names = [n.strip('"') for n in header.rstrip("\r\n").split(",")]
        dst.write(
            ",".join("customer_id" if n == customer_id else n for n in names).encode() + b"\n"
        )
        shutil.copyfileobj(src, dst, 16 << 20)
    return out


def one_customer(root: Path, csv: Path) -> Path:
    """The first customer's rows: commands on them are start-up and almost no work."""
    with csv.open(encoding="utf-8") as f:
        header, first = f.readline(), f.readline()
        who = first.split(",", 1)[0] + ","
        rows = [line for line in f if line.startswith(who)]
    tiny = root / "one_customer.csv"
    tiny.write_text(header + first + "".join(rows), encoding="utf-8")
    return tiny


def round_(
    root: Path, csv: Path, journey: Path, ws: Path, tiny_ws: Path, srcs: list[str | None],
    workspace_only: bool,
) -> dict:  # fmt: skip
    out: dict[str, dict[str, float]] = {}
    window = ["--window", f"{WINDOW_DAYS}d"]
    chdb = CHDB_FUNNEL.format(steps=list(GEN_STEPS), window=WINDOW_DAYS * 86400)
    out["chdb_funnel_csv"] = run(
        [sys.executable, "-c", chdb, str(csv), "customer_id"], root / "chdb.txt"
    )
    for i, src in enumerate(srcs):
        tag = f"@{i}" if len(srcs) > 1 else ""
        for cmd in WORKSPACE_COMMANDS:
            extra = window if cmd == "funnel" else []
            args = (cmd, str(journey), "--workspace", str(ws), "--format", "json", *extra)
            out[cmd + tag] = run(journeykit(*args), root / f"{cmd}{tag}.json", src)
            tiny = (cmd, str(journey), "--workspace", str(tiny_ws), "--format", "json", *extra)
            out[f"startup_{cmd}{tag}"] = run(journeykit(*tiny), src=src)
        out["help" + tag] = run(journeykit("--help"), src=src)
        if workspace_only:
            continue
        funnel_csv = ("funnel", str(journey), "--events", str(csv), "--format", "json", *window)
        out["funnel_csv" + tag] = run(journeykit(*funnel_csv), root / f"funnel_csv{tag}.json", src)
        for kind in IMPORTS:
            fresh = fresh_workspace(root / "fresh", kind, journey)
            out[kind + tag] = run(
                journeykit("import", "--workspace", str(fresh), str(csv)), src=src
            )
            shutil.rmtree(fresh)
    if not workspace_only:
        scan = [sys.executable, "-c", DUCKDB_SCAN, str(csv), "customer_id"]
        out["duckdb_checked_scan"] = run(scan)
        checks, params = checks_sql(csv)
        out["journeykit_checks_scan"] = run(
            [sys.executable, "-c", CHECKS_SCAN, checks, json.dumps(params)]
        )
        out["python_duckdb_import"] = run([sys.executable, "-c", "import duckdb"])
        db = root / "baseline.duckdb"
        out["duckdb_ctas_checks"] = run(
            [sys.executable, "-c", CHECKS_CTAS, checks, json.dumps(params), str(db)]
        )
        db.unlink()
        out["duckdb_ctas_text_id"] = run(
            [sys.executable, "-c", DUCKDB_CTAS, str(csv), str(db), "customer_id"]
        )
        db.unlink()
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--csv", type=Path, required=True)
    ap.add_argument("--customer-id", default="user_id", help="the file's customer id column")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--src", action="append", help="a journeykit source tree (repeatable)")
    ap.add_argument("--workspace-only", action="store_true")
    args = ap.parse_args()
    srcs: list[str | None] = [str(Path(x).resolve()) for x in args.src] if args.src else [None]
    byte_compile(srcs)
    root = Path(tempfile.mkdtemp(prefix="jk-cli-bench-"))
    try:
        journey = root / "gen.yaml"
        journey.write_text(GEN_JOURNEY, encoding="utf-8")
        csv = canonical_copy(root, args.csv, args.customer_id)
        ws = workspace(root, csv, journey)
        tiny_ws = workspace(root / "tiny", one_customer(root, csv), journey)
        rounds = []
        for _ in range(args.rounds):
            rounds.append(round_(root, csv, journey, ws, tiny_ws, srcs, args.workspace_only))
            print(json.dumps(rounds[-1]), file=sys.stderr, flush=True)
        for i, src in enumerate(srcs):
            if len(srcs) > 1:
                print(f"\n### {src}\n")
            report(rounds, root, f"@{i}" if len(srcs) > 1 else "")
    finally:
        shutil.rmtree(root)


def report(rounds: list[dict], root: Path, tag: str = "") -> None:
    """Medians (and ranges) per measured thing; ``tag`` picks one source tree's commands."""
    keys = [k for k in rounds[0] if "@" not in k or k.endswith(tag)]
    med = {k.removesuffix(tag) if tag else k: {
        m: (statistics.median(r[k][m] for r in rounds), min(r[k][m] for r in rounds),
            max(r[k][m] for r in rounds)) for m in ("wall", "cpu")} for k in keys}  # fmt: skip
    ch, ctas = med["chdb_funnel_csv"], med.get("duckdb_ctas_text_id")
    print("| what | CPU s (range) | wall s (range) | vs peer CPU | vs peer wall | target |")
    print("|---|---|---|---|---|---|")

    def row(name: str, key: str, peer: dict | None, target: str) -> None:
        if key not in med:
            return
        m = med[key]
        ratio = (f"{m['cpu'][0] / peer['cpu'][0]:.2f}x | {m['wall'][0] / peer['wall'][0]:.2f}x"
                 if peer else "- | -")  # fmt: skip
        cpu, wall = m["cpu"], m["wall"]
        print(f"| {name} | {cpu[0]:.2f} ({cpu[1]:.2f}-{cpu[2]:.2f}) | "
              f"{wall[0]:.2f} ({wall[1]:.2f}-{wall[2]:.2f}) | {ratio} | {target} |")  # fmt: skip

    row("chDB funnel from the CSV", "chdb_funnel_csv", None, "reference")
    for cmd in WORKSPACE_COMMANDS:
        row(f"`journeykit {cmd} --workspace`", cmd, ch, "<= 1.0x CPU")
    for cmd in WORKSPACE_COMMANDS:
        row(f"start-up: `{cmd}` on a one-customer workspace", f"startup_{cmd}", None, "<= 0.5 s")
    row("`journeykit --help`", "help", None, "")
    row("`journeykit funnel --events file.csv`", "funnel_csv", ch, "<= 2.0x CPU")
    floors = {
        "duckdb_checked_scan": "floor of `--events`: start-up + DuckDB's checked scan of "
        "every column",
        "journeykit_checks_scan": "floor of `--events` with its checks: start-up + the checks "
        "as one streaming query",
    }
    for scan, name in floors.items():
        if scan not in med or "startup_funnel" not in med:
            continue
        # Start-up, then the scan less the Python and duckdb start it counts too: one value
        # (a sum of medians), shown as its own range.
        for m in ("wall", "cpu"):
            v = (med["startup_funnel"][m][0] + med[scan][m][0]
                 - med["python_duckdb_import"][m][0])  # fmt: skip
            med.setdefault("floor_" + scan, {})[m] = (v, v, v)
        row(name, "floor_" + scan, ch, "")
    row("DuckDB CTAS read_csv, id as text", "duckdb_ctas_text_id", None, "reference")
    row("`journeykit import`", "import", ctas, "<= 1.3x CPU")
    row("`journeykit import`, the bench's journey added (its log)", "import_gen_log", ctas, "")
    row("`journeykit import`, no journey (no milestone log)", "import_no_journey", ctas, "")
    row(
        "floor of the import: DuckDB's CTAS of the rows with journeykit's checks",
        "duckdb_ctas_checks",
        ctas,
        "",
    )
    chdb_counts = (root / "chdb.txt").read_text().strip()
    ours = json.loads((root / f"funnel{tag}.json").read_text())
    print(f"\nfunnel chDB (no validation) {chdb_counts}")
    print(f"funnel workspace            {[s['customers'] for s in ours['steps']]}")
    if (root / f"funnel_csv{tag}.json").exists():
        from_csv = json.loads((root / f"funnel_csv{tag}.json").read_text())
        print(f"funnel --events             {[s['customers'] for s in from_csv['steps']]}")


if __name__ == "__main__":
    main()
