"""Every visual-builder interaction against a real server on a workspace of ~10M events.

Must hold (issue 20): each builder interaction, the rule builder's match counts included,
answers within 200 ms at p95. One person, one click after another (the builder is edited by a
person, not by 50 at once), over HTTP to ``journeykit serve`` (uvicorn) in a subprocess:

- ``page``: the builder page (every rule's counts, the event picker, the map preview);
- ``button``: a button that changes the draft (add a milestone, move a card, preview);
- ``rule``: the rule builder's live count for a rule not counted before (random event names,
  a property test, a value test: a fresh query each time, never a cached answer);
- ``save``: Save (validate, write through the model keeping comments, a revision).

The first request of each kind is reported apart (``cold``): the event catalogue is built
once per import (the app builds it when an import ends). Peer in the same run: a static file
from the same server (what the stack costs with no journeykit work).

python bench/gen_events.py ... (the shared generator) then
python bench/builder_bench.py --events /tmp/jk-builder-bench/ev_10m.parquet \
    --workspace /tmp/jk-builder-bench/ws
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
import urllib.parse
from pathlib import Path
from typing import Any

import httpx2 as httpx
from serving import served, sign_in

PASSWORD = "builder bench password"
MILESTONES = ["opt_in", "trial_start", "onboarding_done", "purchase", "survey_completed",
              "repeat_purchase", "subscription_renewal", "referral"]  # fmt: skip
NOISE = ["page_view", "email_open", "login", "search", "view_product", "add_to_cart", "app_open"]
CHANNELS = ["email", "web", "app", "partner", "social"]
JOURNEY = """\
# The shared benchmark's journey (gen_events.py): eight milestones, one path.
id: bench
title: Benchmark journey
transformation:
  from: A visitor  # point A
  to: A customer who refers others
milestones:
{milestones}
paths:
  - id: main
    steps: [{steps}]
"""


def prepare(workspace: Path, events: Path) -> None:
    from journeykit.engine.workspace import import_files
    from journeykit.events.importer import ImportOptions
    from journeykit.events.sources import column_map
    from journeykit.web.store import Store
    from journeykit.workspace import create_workspace

    if not (workspace / "journeykit.toml").exists():
        ws = create_workspace(workspace, template="saas-trial")
        phases = ["pre"] * 3 + ["core"] + ["post"] * 4
        lines = [f"  - {{id: {m}, title: {m.replace('_', ' ').title()}, phase: {p}, when: {m}}}"
                 for m, p in zip(MILESTONES, phases, strict=True)]  # fmt: skip
        text = JOURNEY.format(milestones="\n".join(lines), steps=", ".join(MILESTONES))
        ws.journey_file.write_text(text, "utf-8")
        t = time.perf_counter()
        import_files(ws, [events], ImportOptions(column_map(customer_id="user_id")))
        print(f"imported in {time.perf_counter() - t:.1f} s", file=sys.stderr)
    store = Store.of_workspace(workspace)
    if store.user("bench") is None:
        store.add_user("bench", "editor", PASSWORD)


def form_of(html: str) -> list[tuple[str, str]]:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from tests.web.forms import form_fields

    return form_fields(html, "builder")


def random_rule(rng: random.Random) -> dict[str, str]:
    names = rng.sample(MILESTONES + NOISE, rng.randint(1, 3))
    rule = {"events": "\n".join(names)}
    if rng.random() < 0.6:
        rule |= {"c.0.key": "channel", "c.0.op": rng.choice(["eq", "in", "ne"]),
                 "c.0.value": "\n".join(rng.sample(CHANNELS, rng.randint(1, 2))),
                 "c.0.type": "text"}  # fmt: skip
        if rule["c.0.op"] != "in":
            rule["c.0.value"] = rule["c.0.value"].split("\n")[0]
    if rng.random() < 0.3:
        rule |= {"c.1.subject": "value", "c.1.op": "gt", "c.1.value": str(rng.randint(1, 90)),
                 "c.1.type": "number"}  # fmt: skip
    return rule


def timed(call: Any) -> tuple[float, Any]:
    t = time.perf_counter()
    r = call()
    return (time.perf_counter() - t) * 1000, r


def run(c: httpx.Client, rounds: int, seed: int) -> dict[str, list[float]]:
    rng = random.Random(seed)
    lat: dict[str, list[float]] = {k: [] for k in ("page", "button", "rule", "save", "static")}
    seen: set[str] = set()
    form = "application/x-www-form-urlencoded"

    def post(pairs: list[tuple[str, str]]) -> httpx.Response:
        return c.post("/journeys/journey/builder", content=urllib.parse.urlencode(pairs),
                      headers={"content-type": form})  # fmt: skip

    for k in range(rounds):
        ms, r = timed(lambda: c.get("/journeys/journey/builder"))
        assert r.status_code == 200, r.text[:300]
        lat["page"].append(ms)
        token = r.text.split('data-csrf="', 1)[1].split('"', 1)[0]
        pairs = [p for p in form_of(r.text) if p[0] != "csrf_token"] + [("csrf_token", token)]
        action = rng.choice(
            ["add:milestones:post", "preview", "up:milestones.3", "down:milestones.1"]
        )
        ms, r = timed(lambda: post([*pairs, ("action", action)]))  # noqa: B023
        assert r.status_code == 200, r.text[:300]
        lat["button"].append(ms)
        for _ in range(3):
            rule = random_rule(rng)
            while json.dumps(rule, sort_keys=True) in seen:
                rule = random_rule(rng)
            seen.add(json.dumps(rule, sort_keys=True))
            body, head = {"rule": rule}, {"x-csrf-token": token}
            ms, r = timed(
                lambda: c.post("/api/journeys/journey/rule-counts", json=body, headers=head)  # noqa: B023
            )
            assert r.status_code == 200 and "events" in r.json(), r.text[:300]
            lat["rule"].append(ms)
        title = f"Benchmark journey {k}"
        saved = [(n, title if n == "title" else v) for n, v in pairs]
        ms, r = timed(lambda: post([*saved, ("action", "save")]))  # noqa: B023
        assert r.status_code == 303, r.text[:500]
        lat["save"].append(ms)
        ms, _ = timed(lambda: c.get("/static/app.css"))
        lat["static"].append(ms)
    return lat


def pct(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--events", type=Path, required=True)
    ap.add_argument("--workspace", type=Path, required=True)
    ap.add_argument("--rounds", type=int, default=40)
    args = ap.parse_args()
    prepare(args.workspace, args.events)
    with served(args.workspace) as (_, base):
        c = sign_in(httpx.Client(base_url=base, timeout=600), "bench", PASSWORD)
        cold, r = timed(lambda: c.get("/journeys/journey/builder"))
        assert r.status_code == 200
        lat = run(c, args.rounds, seed=7)
    print(f"cold builder page (event catalogue and every rule's counts): {cold:.0f} ms")
    print(f"{'interaction':<10} {'n':>4} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}")
    for kind, values in lat.items():
        print(f"{kind:<10} {len(values):>4} {statistics.median(values):>8.1f} "
              f"{pct(values, 95):>8.1f} {max(values):>8.1f}")  # fmt: skip
    worst = max(pct(v, 95) for k, v in lat.items() if k != "static")
    print(f"worst p95 {worst:.0f} ms: {'holds' if worst <= 200 else 'FAILS'} (<= 200 ms)")


if __name__ == "__main__":
    main()
