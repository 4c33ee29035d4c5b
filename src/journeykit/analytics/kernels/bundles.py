"""What the funnel kernels take and give, without numba: a caller builds these (and a numpy
kernel reads them) without paying for the JIT's import (``kernels/common`` holds the compiled
helpers).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from journeykit.analytics.results import NONE as NONE  # re-exported for the kernels

EXCLUDED = -1  # the step code of a row of an excluded milestone
AMBIGUOUS = 1  # the customer has an event that reaches several steps
TOO_MANY = -1  # ... more such events at one time than an exact search can number
MAX_SHARED = 62  # events with several rows at one time, each one bit of an int64 mask


class StepArrays(NamedTuple):
    """The milestone log of one path, sorted by customer then time, as columns for a kernel."""

    offsets: np.ndarray  # customer c's rows are offsets[c]:offsets[c + 1]
    step: np.ndarray  # step index on the path, EXCLUDED for an excluded milestone
    time_us: np.ndarray  # event time, microseconds
    key: np.ndarray  # the event's key: the rows of one event share it
    shared: bool  # some key repeats, so an event may reach several steps


class Steps(NamedTuple):
    """The path's steps and the funnel's settings. Times in microseconds; -1 means none."""

    optional: np.ndarray  # per step: an attempt may skip it
    within: np.ndarray  # per step, the longest wait after the step used before it; then one -1
    window: int  # the longest span from step 1
    strict: bool  # no event of another step of the path between two consecutive steps
    now: int  # the time the analysis is as of
    months: int = 0  # > 0: the window is that many calendar months instead (``window_from``)


class Reached(NamedTuple):
    """Per customer: furthest step (-1: never started), still open at ``now``, step times."""

    level: np.ndarray
    is_open: np.ndarray
    first: np.ndarray  # customers x steps: when the chosen attempt first passed each step
    too_many: int  # customers with more than MAX_SHARED multi-step events at one time
