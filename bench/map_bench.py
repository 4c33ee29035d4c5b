"""The living map after an import: how long the web app's first map takes, and every later one.

A workspace keeps each journey's milestone log up to date at import (``engine.maplog``). This
measures, on one workspace and in one run, with ``journeykit serve`` (uvicorn, one process) in a
subprocess on loopback and one signed-in client:

1. ``journeykit import`` of the big file (its CPU includes tagging the new rows);
2. the first living map (``/journeys/journey``) on a fresh server, then five more: without the
   server's head start (``serve --no-warm``: the map is drawn on the first visit); with it,
   asked for as soon as the server answers (the visit waits for the drawing under way); and
   with it, asked for once the server says its maps are ready. Each with the time from the
   server's start;
3. ``journeykit import`` of a second, small file while a warm server runs (an incremental
   batch), then the first map asked for at once after it, and five more;
4. the peer in the same run: the same first map with the stored logs removed, so the app tags
   every event itself, as it did before the logs were kept (``--peer``).

Server CPU is read from /proc for each request. ``--reuse`` runs on a workspace a run without
``--peer`` left (the stored logs kept), skipping the first import.

python bench/map_bench.py --events /tmp/jk-speedmap/sim_10m.parquet --workspace /tmp/jk-map-ws
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import threading
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
    """``journeykit serve`` on the workspace (bench/serving.py) with one signed-in client.

    With ``warm`` the server draws the maps in the background from its start and after each
    import (``web.warm``) and says "map(s) ready" on stderr: the times of those lines are kept.
    """

    def __init__(self, workspace: Path, *, warm: bool) -> None:
        self.started = time.perf_counter()
        self.ready_at: list[float] = []
        self._served = served(workspace, () if warm else ("--no-warm",), subprocess.PIPE)
        self.proc, base = self._served.__enter__()
        self.answering_s = round(time.perf_counter() - self.started, 3)
        threading.Thread(target=self._read, daemon=True).start()
        client = httpx.Client(base_url=base, timeout=600)
        self.client = sign_in(client, "bench", PASSWORD)

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            if b"map(s) ready" in line:
                self.ready_at.append(time.perf_counter())
            sys.stderr.write(line.decode(errors="replace"))

    def wait_ready(self, rounds: int) -> float:
        """Seconds from the server's start until its ``rounds``-th "ready" line."""
        while len(self.ready_at) < rounds:
            if self.proc.poll() is not None:
                raise SystemExit("the server stopped before its maps were ready")
            time.sleep(0.05)
        return round(self.ready_at[rounds - 1] - self.started, 3)

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
        answered = round(time.perf_counter() - self.started, 3)
        later = [self.get(MAP) for _ in range(5)]
        return {"first": first, "later_max_wall_s": max(x["wall_s"] for x in later),
                "server_start_to_first_map_s": answered}  # fmt: skip

    def stop(self) -> None:
        self._served.__exit__(None, None, None)


def fresh(ws: Path, *, warm: bool, after_ready: bool = False) -> dict[str, Any]:
    """The first map on a server just started (at once, or once it says its maps are ready)."""
    server = Server(ws, warm=warm)
    try:
        out: dict[str, Any] = {"server_answering_s": server.answering_s}
        if after_ready:
            out["server_start_to_ready_s"] = server.wait_ready(1)
        out |= server.maps()
        out["server_total_cpu_s"] = round(cpu_seconds(server.proc.pid), 2)
        return out
    finally:
        server.stop()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--events", type=Path, required=True)
    ap.add_argument("--workspace", type=Path, required=True)
    ap.add_argument("--extra-customers", type=int, default=20_000)
    ap.add_argument("--peer", action=argparse.BooleanOptionalAction, default=True)
    ap.add_argument(
        "--reuse",
        action="store_true",
        help="the workspace exists (left by a run without --peer): no first import",
    )
    ap.add_argument(
        "--extra-seed",
        type=int,
        default=7,
        help="the small file's seed: a new one for each run on a reused workspace",
    )
    args = ap.parse_args()
    ws = args.workspace
    out: dict[str, Any] = {}
    if args.reuse:
        if not (ws / "journeykit.duckdb").exists():
            raise SystemExit(f"{ws}: no workspace to reuse")
    else:
        if ws.exists():
            raise SystemExit(f"{ws} exists: the bench imports into a fresh workspace (or --reuse)")
        create_workspace(ws, template="saas-trial")
        Store.of_workspace(ws).add_user("bench", "viewer", PASSWORD)
        out["import"] = run_import(ws, args.events)
    extra = ws.parent / f"{ws.name}-extra-{args.extra_seed}.parquet"
    journey = parse_journey(template_text("saas-trial"))
    options = SimulationOptions(customers=args.extra_customers, seed=args.extra_seed)
    write_table(simulate(journey, options), extra)
    # The map as a server without the head start draws it: on the first visit.
    out["no_warm_after_import"] = fresh(ws, warm=False)
    out["warm_visit_at_once"] = fresh(ws, warm=True)
    out["warm_visit_when_ready"] = fresh(ws, warm=True, after_ready=True)
    server = Server(ws, warm=True)
    try:
        server.wait_ready(1)
        out["incremental_import"] = run_import(ws, extra)
        done = time.perf_counter()
        out["after_incremental_import"] = server.maps()  # at once: waits for the redraw
        out["after_incremental_import"]["import_end_to_ready_s"] = round(
            server.ready_at[-1] - done if len(server.ready_at) > 1 else float("nan"), 3
        )
    finally:
        server.stop()
    if args.peer:
        engine = DuckDBEngine(ws / "journeykit.duckdb")
        try:
            engine.execute("DELETE FROM milestone_logs")  # the app then tags every event
        finally:
            engine.close()
        out["peer_without_stored_log"] = fresh(ws, warm=False)
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
