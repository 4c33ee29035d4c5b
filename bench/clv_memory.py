"""Peak memory of CLV predictions for 10M customers (issue 5: "memory-bounded, chunked").

    python bench/clv_memory.py --customers 10000000

Inputs (frequency, recency, T, monetary: 4 x 80 MB) are made with numpy; predictions run with the
published CDNOW parameters. Prints the input size, the outputs' size and peak RSS.
"""

from __future__ import annotations

import argparse
import resource
import time

import numpy as np

from journeykit.clv.models import BetaGeo, GammaGamma
from journeykit.clv.rfm import RFM
from journeykit.clv.value import discounted_clv


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--customers", type=int, default=10_000_000)
    n = ap.parse_args().customers
    rng = np.random.default_rng(0)
    freq = rng.poisson(1.5, n)
    T = rng.uniform(10, 78, n)
    rec = np.where(freq > 0, T * rng.uniform(0, 1, n), 0.0)
    money = np.where(freq > 0, rng.gamma(6.25, 15.44 / 3.74, n), 0.0)
    rfm = RFM(frequency=freq, recency=rec, T=T, monetary_value=money)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    bg = BetaGeo.from_params((0.243, 4.414, 0.793, 2.426))
    gg = GammaGamma.from_params((6.25, 3.74, 15.44))
    started = time.process_time()
    alive = bg.probability_alive(rfm)
    result = discounted_clv(bg, gg, rfm, horizon=12, time_unit="W")
    cpu = time.process_time() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    inputs = sum(a.nbytes for a in (freq, rec, T, money)) / 2**20
    outputs = (alive.nbytes + result.clv.nbytes * 3) / 2**20
    print(
        f"customers {n:,}: inputs {inputs:.0f} MB, outputs {outputs:.0f} MB, peak RSS before "
        f"predicting {before:.0f} MB, after {peak:.0f} MB; CPU {cpu:.1f} s; "
        f"mean CLV {float(result.clv.mean()):.2f}"
    )


if __name__ == "__main__":
    main()
