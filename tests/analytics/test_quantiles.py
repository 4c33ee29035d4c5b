"""``analytics.quantiles`` gives numpy's own floats (it exists only to avoid importing np.ma)."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from journeykit.analytics.quantiles import distinct, median, percentiles

values = st.lists(
    # Seconds and days, as the analyses give them (numpy overflows alike near the float limit).
    st.floats(min_value=-1e15, max_value=1e15) | st.sampled_from([0.0, -0.0, 1.5, -2.0, 5e-324]),
    min_size=1,
    max_size=40,
)
QS = [0, 1, 10, 25, 33.3, 50, 75, 90, 99, 100]


def same(a: list[float], b: list[float]) -> bool:
    return [x.hex() for x in a] == [float(x).hex() for x in b]


@settings(max_examples=500, deadline=None)
@given(values, st.lists(st.sampled_from(QS), min_size=1, max_size=4))
def test_percentiles_are_numpys(xs: list[float], q: list[float]) -> None:
    a = np.array(xs)
    assert same(percentiles(a, q), np.percentile(a, q).tolist())
    assert same(percentiles(a, [q[0]]), [np.percentile(a, q[0])])
    assert np.array_equal(a, np.array(xs))  # the caller's values are left as they were


@settings(max_examples=500, deadline=None)
@given(values)
def test_median_is_numpys(xs: list[float]) -> None:
    assert same([median(np.array(xs))], [np.median(np.array(xs))])


def test_on_larger_samples_as_the_analyses_give_them() -> None:
    rng = np.random.default_rng(5)
    for n in (1, 2, 3, 10, 999, 1000, 100_001):
        a = rng.exponential(86400.0 * 3, n).round(rng.integers(0, 7))
        assert same(percentiles(a, [50, 25, 75, 90]), np.percentile(a, [50, 25, 75, 90]).tolist())
        assert same([median(a)], [np.median(a)])


def test_nan_gives_nan_as_numpy_does() -> None:
    a = np.array([1.0, np.nan, 3.0])
    assert np.isnan(percentiles(a, [50, 90])).all() and np.isnan(median(a))


def test_distinct_is_unique() -> None:
    a = np.array([5, 3, 5, -1, 3, 9], dtype=np.int64)
    assert distinct(a).tolist() == np.unique(a).tolist() == [-1, 3, 5, 9]


def test_none_imports_numpys_masked_arrays() -> None:
    code = (
        "import sys, numpy as np\n"
        "from journeykit.analytics.quantiles import distinct, median, percentiles\n"
        "a = np.arange(10.0)\n"
        "percentiles(a, [50, 90]); median(a); distinct(a)\n"
        "print('numpy.ma' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
