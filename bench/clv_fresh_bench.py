"""CLV from a transactions file, journeykit vs lifetimes, each in a fresh process.

What a user pays for `python clv.py`: the interpreter, the imports, reading the file, the RFM
summary from transactions, the BG/NBD fit, the Gamma-Gamma fit on repeat buyers and 12-month
discounted CLV for every customer. Each side runs as its own subprocess per size and repeat,
alternating so machine load hits both alike; CPU is the child's user + system time (getrusage of
children, all threads), wall is the parent's clock around the run. lifetimes runs in its own
venv (it needs numpy < 2):

    python3 -m venv bench/.venv-lifetimes
    bench/.venv-lifetimes/bin/pip install "lifetimes==0.11.3" "numpy<2" "pandas<2.2" "scipy<1.13"
    .venv/bin/python bench/clv_fresh_bench.py --sizes 10000 20000 100000 1000000 --repeat 5
    .venv/bin/python bench/clv_fresh_bench.py --sizes 10000000 --repeat 1

The transactions follow BG/NBD with CDNOW's parameters (weeks) and Gamma-Gamma spend with
lifetimes' CDNOW estimates: first purchases spread over 26 weeks, observed until day 364, so
ages are 26-52 weeks; stored as day numbers in an .npz (customer_id int64, day datetime64[D],
value float64) that both sides read with numpy. ``--what fit`` times the BG/NBD fit alone on a
stored summary (the table "BG/NBD fit in a fresh process" in docs/benchmarks.md).
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from clv_bench import LIFETIMES_PY, OUT, TRUTH, significant_digits_agreeing, simulate

SPEND = (6.25, 3.74, 15.44)  # Gamma-Gamma p, q, v: lifetimes' CDNOW estimates
END_DAY = 364

OURS_CLV = r"""
import json, sys
import numpy as np
from journeykit.clv import BetaGeo, GammaGamma, discounted_clv, rfm_from_transactions
d = np.load(sys.argv[1])
rfm = rfm_from_transactions(
    {"customer_id": d["customer_id"], "timestamp": d["day"], "value": d["value"]},
    monetary_col="value", freq="D", observation_end=d["end"][0],
)
bgf = BetaGeo().fit(rfm)
ggf = GammaGamma().fit(rfm)
clv = discounted_clv(bgf, ggf, rfm, horizon=12, discount_rate=0.01, time_unit="D").clv
print(json.dumps({"params": [*map(float, bgf.params_), *map(float, ggf.params_)],
                  "customers": len(rfm), "total_clv": float(clv.sum())}))
"""

THEIRS_CLV = r"""
import json, sys, warnings
import numpy as np
import pandas as pd
warnings.simplefilter("ignore")
from lifetimes import BetaGeoFitter, GammaGammaFitter
from lifetimes.utils import summary_data_from_transaction_data
d = np.load(sys.argv[1])
tx = pd.DataFrame({"customer_id": d["customer_id"], "timestamp": d["day"], "value": d["value"]})
s = summary_data_from_transaction_data(
    tx, "customer_id", "timestamp", monetary_value_col="value", freq="D",
    observation_period_end=pd.Timestamp(d["end"][0]),
)
bgf = BetaGeoFitter().fit(s["frequency"], s["recency"], s["T"])
rep = s[s["frequency"] > 0]
ggf = GammaGammaFitter().fit(rep["frequency"], rep["monetary_value"])
clv = ggf.customer_lifetime_value(
    bgf, s["frequency"], s["recency"], s["T"], s["monetary_value"],
    time=12, discount_rate=0.01, freq="D",
)
print(json.dumps({"params": [float(bgf.params_[k]) for k in ("r", "alpha", "a", "b")]
                  + [float(ggf.params_[k]) for k in ("p", "q", "v")],
                  "customers": len(s), "total_clv": float(clv.sum())}))
"""

OURS_FIT = r"""
import json, sys
import numpy as np
from journeykit.clv import RFM, BetaGeo
d = np.load(sys.argv[1])
m = BetaGeo().fit(RFM(frequency=d["frequency"], recency=d["recency"], T=d["T"]))
print(json.dumps({"params": [float(v) for v in m.params_]}))
"""

THEIRS_FIT = r"""
import json, sys, warnings
import numpy as np
warnings.simplefilter("ignore")
from lifetimes import BetaGeoFitter
d = np.load(sys.argv[1])
m = BetaGeoFitter().fit(d["frequency"], d["recency"], d["T"])
print(json.dumps({"params": [float(m.params_[k]) for k in ("r", "alpha", "a", "b")]}))
"""


def simulate_transactions(n: int, seed: int = 2024) -> dict[str, np.ndarray]:
    """BG/NBD purchases (weekly CDNOW parameters) with Gamma-Gamma values, as day stamps."""
    rng = np.random.default_rng(seed)
    r, alpha, a, b = TRUTH
    first = rng.uniform(0.0, 182.0, n)  # day of the first purchase
    age = (END_DAY + 1 - first) / 7.0  # weeks until the end of day 364
    lam = rng.gamma(r, 1.0 / alpha, n)
    arrivals = rng.poisson(lam * age)
    repeats = np.minimum(arrivals, rng.geometric(rng.beta(a, b, n)))
    # the first `repeats` of `arrivals` uniform times on (0, age]
    owner = np.repeat(np.arange(n), arrivals)
    times = rng.uniform(0.0, 1.0, owner.size) * age[owner]
    order = np.lexsort((times, owner))
    owner, times = owner[order], times[order]
    rank = np.arange(owner.size) - np.repeat(np.cumsum(arrivals) - arrivals, arrivals)
    keep = rank < repeats[owner]
    owner, times = owner[keep], times[keep]
    p, q, v = SPEND
    nu = rng.gamma(q, 1.0 / v, n)
    who = np.concatenate([np.arange(n), owner])
    day = np.floor(np.concatenate([first, first[owner] + 7.0 * times])).astype(np.int64)
    day = np.minimum(day, END_DAY)
    value = rng.gamma(p, 1.0 / nu[who])
    start = np.datetime64("2024-01-01", "D")
    ids = rng.permutation(n).astype(np.int64) + 10_000_000  # ids unrelated to the row order
    return {
        "customer_id": ids[who],
        "day": start + day.astype("timedelta64[D]"),
        "value": np.round(value, 2),
        "end": np.array([start + np.timedelta64(END_DAY, "D")]),
    }


def run(python: str, script: str, data: Path) -> tuple[float, float, dict[str, object]]:
    """(child CPU s, wall s, what the script printed) of one fresh process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(
        [python, "-c", script, str(data)], capture_output=True, text=True, check=True
    )
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return cpu, wall, json.loads(done.stdout.strip().splitlines()[-1])


def write_data(n: int, what: str) -> Path:
    if what == "fit":
        rfm = simulate(n)
        data = OUT / f"bgnbd_{n}.npz"
        np.savez(data, frequency=rfm.frequency, recency=rfm.recency, T=rfm.T)
        return data
    data = OUT / f"clv_transactions_{n}.npz"
    if not data.exists():
        np.savez(data, **simulate_transactions(n))
    return data


def compare(ours: list[tuple[float, float, dict[str, object]]],
            theirs: list[tuple[float, float, dict[str, object]]]) -> dict[str, object]:  # fmt: skip
    mine, peer = ours[-1][2], theirs[-1][2]
    row: dict[str, object] = {
        "lifetimes_cpu_s": statistics.median(r[0] for r in theirs),
        "lifetimes_wall_s": statistics.median(r[1] for r in theirs),
        "lifetimes": peer,
        "agreeing_digits": significant_digits_agreeing(mine["params"], peer["params"]),  # type: ignore[arg-type]
    }
    if "total_clv" in mine:
        row["total_clv_agreeing_digits"] = significant_digits_agreeing(
            [mine["total_clv"]],
            [peer["total_clv"]],  # type: ignore[list-item]
        )
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--sizes", type=int, nargs="+", default=[10_000, 20_000, 100_000, 1_000_000]
    )
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--what", choices=["clv", "fit"], default="clv")
    parser.add_argument("--no-lifetimes", action="store_true", help="time journeykit only")
    args = parser.parse_args()
    OUT.mkdir(exist_ok=True)
    have_lifetimes = LIFETIMES_PY.exists() and not args.no_lifetimes
    if not LIFETIMES_PY.exists():
        print(f"skipping lifetimes: {LIFETIMES_PY} not found (see the docstring)")
    mine, peer = (OURS_CLV, THEIRS_CLV) if args.what == "clv" else (OURS_FIT, THEIRS_FIT)
    rows = []
    for n in args.sizes:
        data = write_data(n, args.what)
        ours, theirs = [], []
        for _ in range(args.repeat):
            ours.append(run(sys.executable, mine, data))
            if have_lifetimes:
                theirs.append(run(str(LIFETIMES_PY), peer, data))
        row: dict[str, object] = {
            "customers": n,
            "ours_cpu_s": statistics.median(r[0] for r in ours),
            "ours_wall_s": statistics.median(r[1] for r in ours),
            "ours": ours[-1][2],
        }
        if theirs:
            row |= compare(ours, theirs)
            row["cpu_speedup"] = float(row["lifetimes_cpu_s"]) / float(row["ours_cpu_s"])  # type: ignore[arg-type]
            row["wall_speedup"] = float(row["lifetimes_wall_s"]) / float(row["ours_wall_s"])  # type: ignore[arg-type]
        rows.append(row)
        print(json.dumps(row), flush=True)
    (OUT / f"clv_fresh_bench_{args.what}.json").write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    sys.exit(main())
