"""Card health: the numbers on a milestone's card and how they stand against the design
(docs/metrics.md "Map and report").

A card shows the numbers of its *primary path*: the chosen path when the milestone is on it, else
the first path (in the order given) that has it. Everything here is read from funnel and position
results; nothing is queried. The map, the report and the web app all draw these.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from statistics import median
from typing import Any

from journeykit.analytics.position import PositionsResult
from journeykit.analytics.results import FunnelResult, FunnelStep
from journeykit.journey.schema import Journey

HEALTH_LABELS = {
    "ok": "on design",
    "slow": "slower than designed",
    "off": "off design",
    "entry": "entry point",
    "none": "no data",
}


@dataclass(frozen=True)
class CardNumbers:
    milestone: str
    path: str | None  # None: the milestone is on no measured path
    step: int | None
    reached: int
    conversion: float | None  # from the previous step of the path
    median_seconds: float | None  # time from the previous step (funnel timing)
    expected_seconds: float | None
    stuck: int | None
    health: str
    reasons: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "reasons": list(self.reasons), "label": HEALTH_LABELS[self.health]}


def card_numbers(
    journey: Journey,
    funnels: dict[str, FunnelResult],
    positions: dict[str, PositionsResult],
    reached: dict[str, int],
) -> dict[str, CardNumbers]:
    """One entry per milestone of the journey.

    ``funnels`` and ``positions`` per path id, the primary path first; ``reached`` counts the
    customers who ever reached each milestone (for cards on no measured path).
    """
    out: dict[str, CardNumbers] = {}
    for pid, result in funnels.items():
        reference = reference_conversion(result.steps)
        stuck_at = _stuck_counts(positions[pid])
        for k, step in enumerate(result.steps):
            if step.milestone in out:
                continue
            m = journey.milestone(step.milestone)
            expected = m.expected_within.total_seconds() if m.expected_within else None
            timing = step.time_from_previous
            conversion = step.share_of_previous if k else None
            med = timing.median if timing else None
            level, reasons = card_health(
                k,
                step.customers,
                result.steps[k - 1].customers if k else 0,
                conversion,
                med,
                expected,
                reference,
            )
            out[step.milestone] = CardNumbers(
                step.milestone,
                pid,
                k,
                step.customers,
                conversion,
                med,
                expected,
                stuck_at.get(step.milestone, 0),
                level,
                reasons,
            )
    for m in journey.milestones:
        if m.id not in out:
            count = reached.get(m.id, 0)
            expected = m.expected_within.total_seconds() if m.expected_within else None
            out[m.id] = CardNumbers(m.id, None, None, count, None, None, expected, None, "none")
    return out


def _stuck_counts(placed: PositionsResult) -> dict[str, int]:
    per = placed.at_step()
    return {step: by_status["stuck"] for step, by_status in per.items() if "stuck" in by_status}


def reference_conversion(steps: tuple[FunnelStep, ...]) -> float | None:
    """The median step-to-step conversion along the path: what "weak" is measured against."""
    shares = [s.share_of_previous for k, s in enumerate(steps) if k and s.customers]
    return median(shares) if shares else None


def card_health(
    k: int,
    reached: int,
    previous: int,
    conversion: float | None,
    median_seconds: float | None,
    expected: float | None,
    reference: float | None,
) -> tuple[str, tuple[str, ...]]:
    """Step ``k``'s health and why: ``entry`` (first step), ``none`` (no data), ``off`` (median time
    over twice the design, or conversion under half the path's median step), ``slow`` (median
    time over the design), else ``ok``."""
    if k == 0:
        return ("entry", ()) if reached else ("none", ())
    if not previous:
        return "none", ()
    reasons: list[str] = []
    level = "ok"
    if expected is not None and median_seconds is not None and median_seconds > expected:
        over = median_seconds > 2 * expected
        level = "off" if over else "slow"
        reasons.append("median time over twice the design" if over else "median time over design")
    if conversion is not None and reference is not None and conversion < 0.5 * reference:
        level = "off"
        reasons.append("conversion under half the path's typical step")
    return level, tuple(reasons)
