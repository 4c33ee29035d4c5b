"""The numbers on a map card, and its health against the design (docs/metrics.md "Map").

A card shows the numbers of its *primary path*: the chosen path when the milestone is on it, else
the first path (in file order) that has it. Everything here is read from results; nothing is
queried.
"""

from __future__ import annotations

from dataclasses import dataclass
from statistics import median

from journeykit.report.measure import JourneyResults

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


def card_numbers(results: JourneyResults) -> dict[str, CardNumbers]:
    """One entry per milestone of the journey."""
    out: dict[str, CardNumbers] = {}
    for pid, result in results.funnels.items():
        reference = _reference_conversion(result.steps)
        stuck_at = _stuck_counts(results, pid)
        for k, step in enumerate(result.steps):
            if step.milestone in out:
                continue
            m = results.journey.milestone(step.milestone)
            expected = m.expected_within.total_seconds() if m.expected_within else None
            timing = step.time_from_previous
            conversion = step.share_of_previous if k else None
            med = timing.median if timing else None
            health, reasons = _health(
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
                health,
                reasons,
            )
    for m in results.journey.milestones:
        if m.id not in out:
            reached = results.counts.reached.get(m.id, 0)
            expected = m.expected_within.total_seconds() if m.expected_within else None
            out[m.id] = CardNumbers(m.id, None, None, reached, None, None, expected, None, "none")
    return out


def _stuck_counts(results: JourneyResults, path_id: str) -> dict[str, int]:
    per = results.positions[path_id].at_step()
    return {step: by_status["stuck"] for step, by_status in per.items() if "stuck" in by_status}


def _reference_conversion(steps: tuple[object, ...]) -> float | None:
    """The median step-to-step conversion along the path: what "weak" is measured against."""
    shares = [s.share_of_previous for k, s in enumerate(steps) if k and s.customers]  # type: ignore[attr-defined]
    return median(shares) if shares else None


def _health(
    k: int,
    reached: int,
    previous: int,
    conversion: float | None,
    median_seconds: float | None,
    expected: float | None,
    reference: float | None,
) -> tuple[str, tuple[str, ...]]:
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
