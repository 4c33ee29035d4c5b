"""BG/NBD fit: journeykit vs lifetimes on simulated customers (not part of the test suite).

lifetimes 0.11.3 needs numpy < 2, pandas < 2.2 and scipy < 1.13, which clash with journeykit's
environment, so it runs in its own virtual environment as a subprocess:

    python3 -m venv bench/.venv-lifetimes
    bench/.venv-lifetimes/bin/pip install "lifetimes==0.11.3" "numpy<2" "pandas<2.2" "scipy<1.13"
    .venv/bin/python bench/clv_bench.py --sizes 100000 1000000 --repeat 3

Both sides fit the same arrays (written to bench/out/ as .npz), are timed after a warm-up fit so
imports are excluded, and report CPU time (time.process_time, all threads) and wall time.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from journeykit.clv import RFM, BetaGeo, BetaGeoParams, rfm_from_transactions, simulate_beta_geo

HERE = Path(__file__).resolve().parent
OUT = HERE / "out"
LIFETIMES_PY = HERE / ".venv-lifetimes" / "bin" / "python"
TRUTH = BetaGeoParams(0.243, 4.414, 0.793, 2.426)  # the CDNOW estimates, weekly time

LIFETIMES_SCRIPT = r"""
import json, sys, time, warnings
import numpy as np
warnings.simplefilter("ignore")
from lifetimes import BetaGeoFitter
data = np.load(sys.argv[1])
f, r, T = data["frequency"], data["recency"], data["T"]
BetaGeoFitter().fit(f[:2000], r[:2000], T[:2000])  # warm-up: imports, autograd tracing
runs = []
for _ in range(int(sys.argv[2])):
    c, w = time.process_time(), time.perf_counter()
    m = BetaGeoFitter().fit(f, r, T)
    runs.append((time.process_time() - c, time.perf_counter() - w))
p = m.params_
print(json.dumps({"runs": runs, "params": [float(p[k]) for k in ("r", "alpha", "a", "b")]}))
"""


def simulate(n: int, seed: int = 2024) -> RFM:
    ages = np.random.default_rng(seed).uniform(26.0, 52.0, n)
    return simulate_beta_geo(n, TRUTH, ages, seed=seed + 1)


def time_ours(rfm: RFM, repeat: int) -> tuple[list[tuple[float, float]], list[float]]:
    BetaGeo().fit(rfm.select(np.arange(2000)))  # warm-up: scipy import
    runs, model = [], BetaGeo()
    for _ in range(repeat):
        c, w = time.process_time(), time.perf_counter()
        model = BetaGeo().fit(rfm)
        runs.append((time.process_time() - c, time.perf_counter() - w))
    assert model.converged_, model.diagnosis_
    return runs, [float(v) for v in model.params_]


def time_lifetimes(rfm: RFM, repeat: int, path: Path) -> dict[str, object] | None:
    if not LIFETIMES_PY.exists():
        print(f"skipping lifetimes: {LIFETIMES_PY} not found (see this file's docstring)")
        return None
    np.savez(path, frequency=rfm.frequency, recency=rfm.recency, T=rfm.T)
    done = subprocess.run(
        [str(LIFETIMES_PY), "-c", LIFETIMES_SCRIPT, str(path), str(repeat)],
        capture_output=True,
        text=True,
        check=True,
    )
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def significant_digits_agreeing(a: list[float], b: list[float]) -> float:
    rel = max(abs(x - y) / abs(y) for x, y in zip(a, b, strict=True))
    return float(-np.log10(rel)) if rel > 0 else 16.0


def time_summary(n: int) -> dict[str, float]:
    """rfm_from_transactions on n random purchases by n/10 customers over a year."""
    import pandas as pd

    rng = np.random.default_rng(7)
    log = pd.DataFrame(
        {
            "customer_id": rng.integers(0, n // 10, n),
            "timestamp": np.datetime64("2024-01-01")
            + rng.integers(0, 365 * 86400, n).astype("timedelta64[s]"),
            "value": rng.gamma(2.0, 10.0, n),
        }
    )
    c, w = time.process_time(), time.perf_counter()
    rfm = rfm_from_transactions(log, monetary_col="value", freq="D")
    return {
        "transactions": n,
        "customers": len(rfm),
        "cpu_s": time.process_time() - c,
        "wall_s": time.perf_counter() - w,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--transactions",
        type=int,
        default=0,
        help="also time rfm_from_transactions on this many purchases",
    )
    args = parser.parse_args()
    if args.transactions:
        print(json.dumps(time_summary(args.transactions)), flush=True)
    OUT.mkdir(exist_ok=True)
    rows = []
    for n in args.sizes:
        rfm = simulate(n)
        ours, ours_params = time_ours(rfm, args.repeat)
        theirs = time_lifetimes(rfm, args.repeat, OUT / f"bgnbd_{n}.npz")
        row = {
            "customers": n,
            "ours_cpu_s": statistics.median(c for c, _ in ours),
            "ours_wall_s": statistics.median(w for _, w in ours),
            "ours_params": ours_params,
        }
        if theirs is not None:
            runs = theirs["runs"]
            assert isinstance(runs, list)
            lt_params = theirs["params"]
            assert isinstance(lt_params, list)
            row |= {
                "lifetimes_cpu_s": statistics.median(c for c, _ in runs),
                "lifetimes_wall_s": statistics.median(w for _, w in runs),
                "lifetimes_params": lt_params,
                "agreeing_digits": significant_digits_agreeing(ours_params, lt_params),
            }
            row["cpu_speedup"] = row["lifetimes_cpu_s"] / row["ours_cpu_s"]
        rows.append(row)
        print(json.dumps(row), flush=True)
    (OUT / "clv_bench.json").write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    sys.exit(main())
