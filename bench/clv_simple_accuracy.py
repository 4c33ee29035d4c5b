"""Accuracy of the simple CLV formula on bases simulated with constant churn c a month, purchase
rate lambda a month and mean purchase value m (true lifetime value m * lambda / c), one year
observed, 20,000 customers acquired evenly over it. Not a test: tests/clv/test_simple.py asserts
15% on 8,000 customers.

Run: python bench/clv_simple_accuracy.py
"""

from __future__ import annotations

import time

from journeykit.clv import simple_clv, simulate_constant_churn


def main() -> None:
    cases = [(0.1, 1.0, 50), (0.05, 0.5, 30), (0.2, 2.0, 20), (0.02, 0.3, 100), (0.3, 0.5, 40)]
    print("churn  rate  mean  life-starts     truth  estimate  ratio   fit s")
    for churn, rate, mean in cases:
        for at_birth in (True, False):
            rfm, revenue = simulate_constant_churn(
                20_000, churn=churn, rate=rate, mean_value=mean,
                life_starts_at_first_purchase=at_birth, seed=0,
            )  # fmt: skip
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
