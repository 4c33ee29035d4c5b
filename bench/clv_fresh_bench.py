"""BG/NBD fit, journeykit vs lifetimes, each in a fresh process: start-up and imports count.

What a user pays for `python fit.py`: the interpreter, the imports, reading the arrays, the fit.
Each side runs as its own subprocess per size and repeat, alternating so machine load hits both
alike; CPU is the child's user + system time (getrusage of children, all threads), wall is the
parent's clock around the run. lifetimes runs in its own venv (see bench/clv_bench.py):

    python3 -m venv bench/.venv-lifetimes
    bench/.venv-lifetimes/bin/pip install "lifetimes==0.11.3" "numpy<2" "pandas<2.2" "scipy<1.13"
    .venv/bin/python bench/clv_fresh_bench.py --sizes 10000 100000 1000000 --repeat 3

Same simulated customers as clv_bench.py (CDNOW's BG/NBD parameters, ages 26-52 weeks).
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
from clv_bench import LIFETIMES_PY, OUT, significant_digits_agreeing, simulate

OURS = r"""
import json, sys
import numpy as np
from journeykit.clv import RFM, BetaGeo
d = np.load(sys.argv[1])
m = BetaGeo().fit(RFM(frequency=d["frequency"], recency=d["recency"], T=d["T"]))
print(json.dumps([float(v) for v in m.params_]))
"""

THEIRS = r"""
import json, sys, warnings
import numpy as np
warnings.simplefilter("ignore")
from lifetimes import BetaGeoFitter
d = np.load(sys.argv[1])
m = BetaGeoFitter().fit(d["frequency"], d["recency"], d["T"])
print(json.dumps([float(m.params_[k]) for k in ("r", "alpha", "a", "b")]))
"""


def run(python: str, script: str, data: Path) -> tuple[float, float, list[float]]:
    """(child CPU s, wall s, fitted parameters) of one fresh process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(
        [python, "-c", script, str(data)], capture_output=True, text=True, check=True
    )
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return cpu, wall, json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    OUT.mkdir(exist_ok=True)
    have_lifetimes = LIFETIMES_PY.exists()
    if not have_lifetimes:
        print(f"skipping lifetimes: {LIFETIMES_PY} not found (see the docstring)")
    rows = []
    for n in args.sizes:
        rfm = simulate(n)
        data = OUT / f"bgnbd_{n}.npz"
        np.savez(data, frequency=rfm.frequency, recency=rfm.recency, T=rfm.T)
        ours, theirs = [], []
        for _ in range(args.repeat):
            ours.append(run(sys.executable, OURS, data))
            if have_lifetimes:
                theirs.append(run(str(LIFETIMES_PY), THEIRS, data))
        row: dict[str, object] = {
            "customers": n,
            "ours_cpu_s": statistics.median(r[0] for r in ours),
            "ours_wall_s": statistics.median(r[1] for r in ours),
            "ours_params": ours[-1][2],
        }
        if theirs:
            lt_cpu = statistics.median(r[0] for r in theirs)
            row |= {
                "lifetimes_cpu_s": lt_cpu,
                "lifetimes_wall_s": statistics.median(r[1] for r in theirs),
                "lifetimes_params": theirs[-1][2],
                "agreeing_digits": significant_digits_agreeing(ours[-1][2], theirs[-1][2]),
                "cpu_speedup": lt_cpu / float(row["ours_cpu_s"]),  # type: ignore[arg-type]
            }
        rows.append(row)
        print(json.dumps(row), flush=True)
    (OUT / "clv_fresh_bench.json").write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    sys.exit(main())
