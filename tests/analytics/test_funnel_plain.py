"""The numpy funnel for the default question equals the compiled ordered kernel (issue 22).

``kernels.plain`` answers ordered funnels with every step required, no step window, exclusion,
strict order or calendar months, so that a command asking only that never loads numba. Its
contract is ``kernels.ordered.ordered_funnel``'s output, field by field, on logs where ties,
repeated first steps, exact window edges and attempts still open at ``now`` are common.
"""

from __future__ import annotations

import ibis
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from journeykit.analytics import fetch_milestones, funnel
from journeykit.analytics.kernels import ordered_funnel, plain
from journeykit.analytics.kernels.bundles import StepArrays, Steps
from tests.analytics.strategies import make_journey
from tests.builders import Event, to_arrow, to_datetime

HOUR = 3_600_000_000


def random_case(seed: int) -> tuple[StepArrays, Steps]:
    """Customers with 0-12 rows on a coarse time grid (ties everywhere), sorted by customer and
    time but not by step within a time, and a window of 0-6 grid points or none."""
    rng = np.random.default_rng(seed)
    k_steps = int(rng.integers(1, 6))
    customers = int(rng.integers(1, 40))
    counts = rng.integers(0, 13, customers)
    cust = np.repeat(np.arange(customers), counts)
    ts = rng.integers(0, 10, len(cust)).astype(np.int64) * HOUR
    step = rng.integers(0, k_steps, len(cust)).astype(np.int8)
    order = np.lexsort((rng.random(len(cust)), ts, cust))  # time order; ties in any order
    offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    rows = StepArrays(
        offsets=offsets,
        step=step[order],
        time_us=ts[order],
        key=np.arange(len(cust), dtype=np.int64),
        shared=False,
    )
    window = int(rng.integers(-1, 7)) * HOUR if rng.random() < 0.8 else -1
    steps = Steps(
        optional=np.zeros(k_steps, dtype=np.bool_),
        within=np.full(k_steps + 1, -1, dtype=np.int64),
        window=max(window, -1),
        strict=False,
        now=int(rng.integers(0, 14)) * HOUR,
    )
    return rows, steps


@settings(max_examples=400, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_plain_equals_the_compiled_kernel(seed: int) -> None:
    rows, steps = random_case(seed)
    assert plain.fits(rows, steps)
    want = ordered_funnel(rows, steps)
    got = plain.ordered_plain(rows, steps)
    np.testing.assert_array_equal(got.level, want.level)
    np.testing.assert_array_equal(got.is_open, want.is_open)
    np.testing.assert_array_equal(got.first, want.first)
    assert got.too_many == want.too_many == 0


def test_only_the_plain_question_fits() -> None:
    rows, steps = random_case(7)
    assert plain.fits(rows, steps)
    k = len(steps.optional)
    optional = np.zeros(k, dtype=np.bool_)
    optional[-1] = True
    within = np.full(k + 1, -1, dtype=np.int64)
    within[-2] = HOUR
    assert not plain.fits(rows, steps._replace(strict=True))
    assert not plain.fits(rows, steps._replace(months=1))
    assert not plain.fits(rows, steps._replace(optional=optional))
    assert not plain.fits(rows, steps._replace(within=within))
    assert not plain.fits(rows._replace(shared=True), steps)
    excluded = rows.step.copy()
    if len(excluded):
        excluded[0] = -1
        assert not plain.fits(rows._replace(step=excluded), steps)


def test_the_default_funnel_takes_the_numpy_path(monkeypatch: pytest.MonkeyPatch) -> None:
    journey = make_journey({"a": "a", "b": "b", "c": "c"}, {"p": ["a", "b", "c"]})
    rows = [("u1", "a", "2024-01-01"), ("u1", "b", "2024-01-02"), ("u2", "a", "2024-01-01"),
            ("u2", "c", "2024-01-03")]  # fmt: skip
    table = ibis.memtable(to_arrow(Event(c, e, to_datetime(t)) for c, e, t in rows))
    frame = fetch_milestones(table, journey)
    want = funnel(frame, journey, window=None)

    def refuse(*_: object) -> None:
        raise AssertionError("the compiled kernel was called for the default funnel")

    import journeykit.analytics.kernels as kernels

    monkeypatch.setattr(kernels, "ordered_funnel", refuse)
    got = funnel(frame, journey, window=None)
    assert [s.customers for s in got.steps] == [s.customers for s in want.steps] == [2, 1, 0]
