"""Funnel kernels: compiled per-customer passes over the milestone log of one path.

The rule they compute (DESIGN "Funnel" is the contract; docs/metrics.md settles the open cases):

- An *attempt* starts at an event of step 1 at t1 and passes later steps in path order, with
  events at t1 <= t2 <= ...; one event serves one step, and events at one time are taken in the
  order of their steps on the path.
- The funnel window bounds tk - t1 (inclusive). A step's own window (``within``) bounds the wait
  from the step the attempt used before it. An optional step may be skipped.
- An exclusion (an excluded milestone's event) at or between the times of two consecutive steps
  stops an attempt from going from the one to the other.
- Strict: no event of another step of the path between two consecutive steps.
- Any order: step j is reached when one event of each non-optional step before it and one of
  step j, distinct events, fall in a span of at most the window; no per-step windows.
- A customer's *level* is the furthest step any attempt reaches. The *chosen* attempt, whose step
  times are reported, is the earliest start that gets there. The customer is still *open* when
  some attempt that reached their level can go on at ``now`` (``common.still_open``).

Modules, by algorithm: ``common`` (the arguments kernels take, tie order, the events behind
rows), ``ordered`` (ordered and strict: a latest-end scan per start), ``any_order`` (a backward
sweep of time groups), and, for customers with an event that reaches several steps,
``exact_ordered`` (a dynamic programme over the events used) and ``exact_any`` (a matching of
steps to events).

The bundles (``bundles``) import without numba; the kernels load it on first use (PEP 562), so
a caller that settles a funnel without them (``analytics.funnel``'s numpy path) never pays for it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from journeykit._lazy import lazy_exports
from journeykit.analytics.kernels.bundles import (
    EXCLUDED,
    MAX_SHARED,
    NONE,
    Reached,
    StepArrays,
    Steps,
)

if TYPE_CHECKING:
    from journeykit.analytics.kernels.any_order import any_order_funnel
    from journeykit.analytics.kernels.ordered import ordered_funnel

__all__ = [
    "EXCLUDED",
    "MAX_SHARED",
    "NONE",
    "Reached",
    "StepArrays",
    "Steps",
    "any_order_funnel",
    "ordered_funnel",
]

__getattr__ = lazy_exports(__name__, {"any_order_funnel": "any_order", "ordered_funnel": "ordered"})
