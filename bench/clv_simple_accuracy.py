"""Accuracy of the simple CLV formula on bases simulated with constant churn c a month, purchase
rate lambda a month and mean purchase value m (true lifetime value m * lambda / c), one year
observed, 20,000 customers acquired evenly over it. Not a test: tests/clv/test_simple.py asserts
15% on 8,000 customers.

Run: python bench/clv_simple_accuracy.py
"""

from __future__ import annotations

import time

import numpy as np

from journeykit.clv.rfm import RFM
from journeykit.clv.simple import simple_clv


def simulate(
    n: int, churn: float, rate: float, mean: float, seed: int, at_birth: bool
) -> tuple[RFM, np.ndarray]:
    """``at_birth``: the first purchase opens the customer's life; else life starts earlier and
    only customers who bought at all are seen."""
    rng = np.random.default_rng(seed)
    x, t_x, big_t, revenue = [], [], [], []
    for birth, life in zip(rng.uniform(0, 12, n), rng.exponential(1 / churn, n), strict=True):
        end = min(birth + life, 12.0)
        times = np.sort(rng.uniform(birth, end, rng.poisson(rate * (end - birth))))
        if at_birth:
            first = birth
        elif times.size:
            first, times = times[0], times[1:]
        else:
            continue
        x.append(times.size)
        t_x.append(times[-1] - first if times.size else 0.0)
        big_t.append(12.0 - first)
        revenue.append(rng.gamma(2.0, mean / 2.0, times.size + 1).sum())
    rfm = RFM(frequency=np.array(x), recency=np.array(t_x), T=np.array(big_t), time_unit="M")
    return rfm, np.array(revenue)


def main() -> None:
    cases = [(0.1, 1.0, 50), (0.05, 0.5, 30), (0.2, 2.0, 20), (0.02, 0.3, 100), (0.3, 0.5, 40)]
    print("churn  rate  mean  life-starts     truth  estimate  ratio   fit s")
    for churn, rate, mean in cases:
        for at_birth in (True, False):
            rfm, revenue = simulate(20_000, churn, rate, mean, seed=0, at_birth=at_birth)
            start = time.process_time()
            got = simple_clv(rfm, revenue=revenue)
            seconds = time.process_time() - start
            truth = mean * rate / churn
            where = "at 1st buy" if at_birth else "before"
            estimate = got.clv or float("nan")
            print(
                f"{churn:5.2f} {rate:5.1f} {mean:5.0f}  {where:<12} {truth:8.1f} {estimate:9.1f}"
                f"  {estimate / truth:5.3f}  {seconds:6.2f}"
            )


if __name__ == "__main__":
    main()
