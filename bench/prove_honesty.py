"""Is the proof honest under repetition? Full-size simulations of the statistics in prove/stats.

- coverage: experiments with a planted lift; how often the 95% fixed-horizon interval covers it;
- A/A with a daily look: how often an experiment with no effect "wins" on some day, with the
  sequential interval and with the naive fixed-horizon one.

    python bench/prove_honesty.py [--runs 1000] [--days 30]

The tests (tests/prove/test_stats.py) run smaller versions of the same checks.
"""

from __future__ import annotations

import argparse

import numpy as np

from journeykit.prove.proof import MIN_PER_ARM
from journeykit.prove.stats import Moments, fixed_horizon, sequential


def coverage(runs: int, p0: float, lift: float, n0: int, n1: int, seed: int) -> float:
    rng = np.random.default_rng(seed)
    hits = 0
    for _ in range(runs):
        x0, x1 = rng.binomial(n0, p0), rng.binomial(n1, p0 + lift)
        e = fixed_horizon(Moments.proportion(n0, int(x0)), Moments.proportion(n1, int(x1)))
        hits += e is not None and e.ci_low <= lift <= e.ci_high
    return hits / runs


def daily_aa(
    runs: int, days: int, per_day: int, p: float, holdout: float, seed: int
) -> tuple[float, float, float]:
    """Share of A/A experiments declared different on some day: by the sequential interval at
    any size, by the verdict (sequential, once each arm has MIN_PER_ARM), by the naive look."""
    rng = np.random.default_rng(seed)
    seq = gated = naive = 0
    for _ in range(runs):
        arm = rng.random((days, per_day)) >= holdout
        hit = rng.random((days, per_day)) < p
        n1, x1 = np.cumsum(arm.sum(1)), np.cumsum((arm & hit).sum(1))
        n0, x0 = np.cumsum((~arm).sum(1)), np.cumsum((~arm & hit).sum(1))
        s_hit = g_hit = f_hit = False
        for d in range(days):
            a = Moments.proportion(int(n0[d]), int(x0[d]))
            b = Moments.proportion(int(n1[d]), int(x1[d]))
            s, f = sequential(a, b), fixed_horizon(a, b)
            out = s is not None and s.excludes_zero()
            s_hit |= out
            g_hit |= out and min(a.n, b.n) >= MIN_PER_ARM
            f_hit |= f is not None and f.excludes_zero()
        seq += s_hit
        gated += g_hit
        naive += f_hit
    return seq / runs, gated / runs, naive / runs


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=1000)
    ap.add_argument("--days", type=int, default=30)
    args = ap.parse_args()
    for p0, lift, n0, n1 in [
        (0.2, 0.04, 600, 5400),
        (0.05, 0.02, 1000, 9000),
        (0.5, 0.05, 300, 300),
    ]:
        c = coverage(args.runs, p0, lift, n0, n1, seed=2024)
        print(f"coverage  p0={p0} lift={lift} n={n0}/{n1}: {c:.3f}")
    for p, per_day, holdout in [(0.3, 60, 0.5), (0.1, 200, 0.1), (0.05, 400, 0.2)]:
        s, g, f = daily_aa(args.runs, args.days, per_day, p, holdout, seed=7)
        print(
            f"A/A daily p={p} {per_day}/day holdout={holdout}: sequential {s:.3f}, "
            f"verdict {g:.3f}, naive {f:.3f}"
        )


if __name__ == "__main__":
    main()
