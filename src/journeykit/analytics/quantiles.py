"""``np.percentile``, ``np.median`` and ``np.unique``'s numbers without their import.

In numpy 2, each of them reaches ``np.ma`` (``np.unique`` asks ``np.ma.is_masked``), and
importing the masked arrays costs about 0.03 CPU s: 4-5% of a workspace command that reads the
stored milestone log (issue 22, docs/benchmarks.md). These take the same steps on float64
values, so they give the same floats (tests/analytics/test_quantiles.py holds them to numpy's).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def percentiles(values: np.ndarray, q: Sequence[float]) -> list[float]:
    """``np.percentile(values, q)`` (method "linear") of float64 ``values``, not empty."""
    a = np.asarray(values, dtype=np.float64).ravel()
    n = len(a)
    if n == 0:
        raise ValueError("percentiles of no values")
    virtual = (n - 1) * np.true_divide(np.asarray(q, dtype=np.float64), 100)
    below = np.floor(virtual)
    above = below + 1
    past = virtual >= n - 1  # numpy takes the largest value there
    below[past] = -1
    above[past] = -1
    lo, hi = below.astype(np.intp), above.astype(np.intp)
    part = np.partition(a, sorted({0, n - 1, *(lo % n).tolist(), *(hi % n).tolist()}))
    if np.isnan(part[-1]):  # nan sorts last: numpy's answer is nan
        return [float("nan")] * len(lo)
    gamma = virtual - lo
    return _lerp(part[lo], part[hi], gamma).tolist()  # type: ignore[no-any-return]


def _lerp(a: np.ndarray, b: np.ndarray, t: np.ndarray) -> np.ndarray:
    """numpy's ``_lerp``: from ``a`` below the middle, from ``b`` above it."""
    diff = b - a
    out: np.ndarray = a + diff * t
    np.subtract(b, diff * (1 - t), out=out, where=t >= 0.5)
    return out


def median(values: np.ndarray) -> float:
    """``np.median(values)`` of float64 ``values``, not empty: the middle value, or the mean
    of the middle two."""
    a = np.asarray(values, dtype=np.float64).ravel()
    n = len(a)
    if n == 0:
        raise ValueError("median of no values")
    half = n // 2
    kth = [half] if n % 2 else [half - 1, half]
    part = np.partition(a, [*kth, n - 1])
    if np.isnan(part[-1]):
        return float("nan")
    # As numpy's mean adds them: the first, plus the sum of the rest from 0.0 (so -0.0 gives 0.0).
    if n % 2:
        return float(part[half] + 0.0)
    return float((part[half - 1] + (0.0 + part[half])) / 2)


def distinct(values: np.ndarray) -> np.ndarray:
    """``np.unique(values)``: asking for the counts skips its masked-array check."""
    found: np.ndarray = np.unique(values, return_counts=True)[0]
    return found
