"""The living map after an import: how long the web app's first map takes, and every later one.

A workspace keeps each journey's milestone log up to date at import (``engine.maplog``). This
measures, on one workspace and in one run, with ``journeykit serve`` (uvicorn, one process) in a
subprocess on loopback and one signed-in client:

1. ``journeykit import`` of the big file (its CPU includes tagging the new rows);
2. the first living map (``/journeys/journey``) on a fresh server, then five more (warm);
3. ``journeykit import`` of a second, small file while the server runs (an incremental batch),
   then the first map after it and five more;
4. the peer in the same run: the same first map with the stored logs removed, so the app tags
   every event itself, as it did before the logs were kept (``--peer``).

Server CPU is read from /proc for each request.

python bench/map_bench.py --events /tmp/jk-speedmap/sim_10m.parquet --workspace /tmp/jk-map-ws
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx2 as httpx  # httpx 2 (the dev extra), same API
from serving import cpu_seconds, served, sign_in

from journeykit.engine.duckdb import DuckDBEngine
from journeykit.events.simulate import SimulationOptions, simulate, write_table
from journeykit.journey import parse_journey
from journeykit.journey.templates import template_text
from journeykit.web.store import Store
from journeykit.workspace import create_workspace

MAP = "/journeys/journey"
PASSWORD = "map bench password"


def children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def run_import(workspace: Path, events: Path) -> dict[str, float]:
    t, c = time.perf_counter(), children_cpu()
    command = [
        sys.executable,
        "-m",
        "journeykit",
        "import",
        str(events),
        "--workspace",
        str(workspace),
    ]
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    return {"wall_s": round(time.perf_counter() - t, 2), "cpu_s": round(children_cpu() - c, 2)}


class Server:
    """``journeykit serve`` on the workspace (bench/serving.py) with one signed-in client."""

    def __init__(self, workspace: Path) -> None:
        self._served = served(workspace)
        self.proc, base = self._served.__enter__()
        client = httpx.Client(base_url=base, timeout=600)
        self.client = sign_in(client, "bench", PASSWORD)

    def get(self, url: str) -> dict[str, float]:
        t, c = time.perf_counter(), cpu_seconds(self.proc.pid)
        r = self.client.get(url)
        r.raise_for_status()
        if "Numbers as of" not in r.text:
            raise SystemExit(f"{url}: the map has no live numbers")
        return {"wall_s": round(time.perf_counter() - t, 3),
                "server_cpu_s": round(cpu_seconds(self.proc.pid) - c, 3)}  # fmt: skip

    def maps(self) -> dict[str, Any]:
        first = self.get(MAP)
        later = [self.get(MAP) for _ in range(5)]
        return {"first": first, "later_max_wall_s": max(x["wall_s"] for x in later)}

    def stop(self) -> None:
        self._served.__exit__(None, None, None)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--events", type=Path, required=True)
    ap.add_argument("--workspace", type=Path, required=True)
    ap.add_argument("--extra-customers", type=int, default=20_000)
    ap.add_argument("--peer", action=argparse.BooleanOptionalAction, default=True)
    args = ap.parse_args()
    ws = args.workspace
    if ws.exists():
        raise SystemExit(f"{ws} exists: the bench imports into a fresh workspace")
    create_workspace(ws, template="saas-trial")
    Store.of_workspace(ws).add_user("bench", "viewer", PASSWORD)
    extra = ws.parent / (ws.name + "-extra.parquet")
    journey = parse_journey(template_text("saas-trial"))
    write_table(simulate(journey, SimulationOptions(customers=args.extra_customers, seed=7)),
                extra)  # fmt: skip
    out: dict[str, Any] = {"import": run_import(ws, args.events)}
    server = Server(ws)
    try:
        out["after_import"] = server.maps()
        out["incremental_import"] = run_import(ws, extra)
        out["after_incremental_import"] = server.maps()
    finally:
        server.stop()
    if args.peer:
        engine = DuckDBEngine(ws / "journeykit.duckdb")
        try:
            engine.execute("DELETE FROM milestone_logs")  # the app then tags every event
        finally:
            engine.close()
        server = Server(ws)
        try:
            out["peer_without_stored_log"] = server.maps()
        finally:
            server.stop()
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
