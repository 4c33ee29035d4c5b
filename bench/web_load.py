"""Load test of the web app on loopback: 50 concurrent clients on a workspace of ~10M events.

Must hold (issue 8): once warm, dashboards answer in p95 < 200 ms with zero errors. The server is
``journeykit serve`` (uvicorn, one process) in a subprocess; the clients are httpx in this
process, signed in as a viewer. Each URL is requested once first (the cold times are reported:
the analyses run then) and then the clients loop over all of them, bounded by a request count and
a time budget. The same run measures a static file from the same server as the peer baseline:
what the machine and the server stack cost without any journeykit work (same-run ratio).

python bench/web_load.py --events /tmp/jk-map-bench/sim_10m.parquet --workspace /tmp/jk-web-bench
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx2 as httpx  # httpx 2 (the dev extra), same API
from serving import cpu_seconds, served, sign_in

from journeykit.web.store import Store
from journeykit.workspace import create_workspace

PASSWORD = "load test password"


def prepare(workspace: Path, events: Path, template: str) -> None:
    if not (workspace / "journeykit.toml").exists():
        create_workspace(workspace, template=template)
    if not (workspace / "journeykit.duckdb").exists():
        t = time.perf_counter()
        subprocess.run([sys.executable, "-m", "journeykit", "import", str(events),
                        "--workspace", str(workspace)], check=True)  # fmt: skip
        print(f"imported in {time.perf_counter() - t:.1f} s", file=sys.stderr)
    store = Store.of_workspace(workspace)
    if store.user("bench") is None:
        store.add_user("bench", "viewer", PASSWORD)


def urls(c: httpx.Client, lookups: int = 20) -> list[str]:
    j = c.get("/api/journeys/journey").json()["journey"]
    out = []
    for p in [p["id"] for p in j.get("paths", [])] or [""]:
        q = f"?path={p}" if p else ""
        out += [f"/journeys/journey/dashboards/{k}{q}" for k in ("funnel", "positions", "cohorts")]
        out += [f"/journeys/journey/lists/stuck{q}", f"/api/journeys/journey/funnel{q}"]
    out += ["/journeys/journey/dashboards/paths", "/journeys/journey", "/journeys",
            "/api/journeys/journey/positions?limit=100"]  # fmt: skip
    if lookups:
        stuck = c.get(f"/api/journeys/journey/lists/stuck?top={lookups}").json()["customers"]
        out += [f"/journeys/journey/customers?q={s['customer_id']}" for s in stuck[:lookups]]
    return out


async def load(base: str, cookies: Any, targets: list[str], clients: int, total: int,
               budget: float, think: float) -> dict[str, Any]:  # fmt: skip
    lat: dict[str, list[float]] = {"app": [], "static": []}
    errors: list[str] = []
    done = 0
    stop = time.monotonic() + budget
    plan = [*targets, "/static/app.css"]

    async def worker(k: int) -> None:
        nonlocal done
        rng = random.Random(k)
        async with httpx.AsyncClient(base_url=base, cookies=cookies, timeout=30) as c:
            i = k
            while done < total and time.monotonic() < stop:
                if think:  # a person reading the page before the next click
                    await asyncio.sleep(rng.expovariate(1 / think))
                url = plan[i % len(plan)]
                i += 1
                done += 1
                t = time.perf_counter()
                try:
                    r = await c.get(url)
                    ok = r.status_code == 200
                except httpx.HTTPError as exc:
                    ok, r = False, exc  # type: ignore[assignment]
                ms = (time.perf_counter() - t) * 1000
                lat["static" if url.startswith("/static") else "app"].append(ms)
                if not ok:
                    errors.append(f"{url}: {getattr(r, 'status_code', r)}")

    started = time.perf_counter()
    await asyncio.gather(*(worker(k) for k in range(clients)))
    wall = time.perf_counter() - started
    return {"lat": lat, "errors": errors, "wall": wall}


def pct(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1] if values else 0.0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--events", type=Path, default=Path("/tmp/jk-map-bench/sim_10m.parquet"))
    ap.add_argument("--workspace", type=Path, default=Path("/tmp/jk-web-bench"))
    ap.add_argument("--template", default="saas-trial")
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--requests", type=int, default=5000)
    ap.add_argument("--seconds", type=float, default=120.0)
    ap.add_argument(
        "--think", type=float, default=1.0, help="Mean seconds between a client's requests."
    )
    ap.add_argument(
        "--lookups", type=int, default=20, help="Customer look-up pages in the mix (0: none)."
    )
    args = ap.parse_args()
    prepare(args.workspace, args.events, args.template)
    with served(args.workspace) as (server, base):
        c = sign_in(httpx.Client(base_url=base, timeout=600), "bench", PASSWORD)
        cold: dict[str, float] = {}
        t0 = time.perf_counter()
        targets = urls(c, args.lookups)
        for url in targets:
            t = time.perf_counter()
            c.get(url).raise_for_status()
            cold[url] = round(time.perf_counter() - t, 2)
            print(f"cold {cold[url]:8.2f} s  {url}", file=sys.stderr, flush=True)
        warm_s = time.perf_counter() - t0
        cpu0 = cpu_seconds(server.pid)
        out = asyncio.run(load(base, c.cookies, targets, args.clients, args.requests,
                               args.seconds, args.think))  # fmt: skip
        cpu = cpu_seconds(server.pid) - cpu0
        rows = c.get("/api/imports").json()["history"][0]["loaded"]
    app, static = out["lat"]["app"], out["lat"]["static"]
    print(json.dumps({
        "events": rows, "clients": args.clients, "think_s": args.think, "urls": len(targets),
        "warm_up_s": round(warm_s, 1), "slowest_cold": max(cold.items(), key=lambda kv: kv[1]),
        "requests": len(app) + len(static), "app_requests": len(app),
        "static_requests": len(static), "errors": len(out["errors"]),
        "first_errors": out["errors"][:5], "wall_s": round(out["wall"], 1),
        "throughput_rps": round((len(app) + len(static)) / out["wall"], 1),
        "server_cpu_s": round(cpu, 1),
        "app_ms": {"p50": round(pct(app, 50), 1), "p95": round(pct(app, 95), 1),
                   "p99": round(pct(app, 99), 1), "max": round(max(app), 1)},
        "static_ms": {"p50": round(pct(static, 50), 1), "p95": round(pct(static, 95), 1),
                      "p99": round(pct(static, 99), 1)},
        "ratio_p95_app_static": round(pct(app, 95) / max(pct(static, 95), 1e-9), 2),
    }, indent=1))  # fmt: skip


if __name__ == "__main__":
    main()
