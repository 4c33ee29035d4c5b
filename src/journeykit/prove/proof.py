"""One play's proof from its entries' outcomes: per arm counts, the difference with a fixed-horizon
and a sequential interval, the sample-ratio check, the verdict, time to goal and breakdowns.

The unit is the customer: each customer counts once, by their first entry (a re-entry after the
cool-down is the same customer in the same arm, not a new independent unit). Pending entries
(window still open, goal not reached) are left out of the shares, never counted as failures;
an entry whose customer reached the goal before entering is left out of both arms and counted
as ``already_reached``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from journeykit.prove.outcomes import ALREADY, FAILED, PENDING, REACHED, Outcomes
from journeykit.prove.stats import (
    ALPHA,
    Estimate,
    Moments,
    SampleSize,
    adjusted_moments,
    cuped_theta,
    fixed_horizon,
    km_median,
    km_reached,
    sample_size,
    sequential,
    srm_p_value,
)

TREATMENT, HOLDOUT = "treatment", "holdout"
SRM_THRESHOLD = 0.001  # GrowthBook's and Optimizely's: a mismatch this unlikely is a bug
MIN_PER_ARM = 100  # decided entries in each arm before any verdict
DEFAULT_LIFT = 0.05  # the absolute lift the sample-size guidance is given for
VERDICTS = ("worked", "no effect detected", "harmful", "too early")
_DAY_US = 86_400 * 10**6


@dataclass(frozen=True)
class ArmResult:
    """One arm: ``entered`` counts decided entries (goal reached, or window closed)."""

    entered: int
    reached: int
    pending: int
    already_reached: int
    median_days: float | None  # Kaplan-Meier, open entries censored

    @property
    def share(self) -> float | None:
        return self.reached / self.entered if self.entered else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "entered": self.entered,
            "reached": self.reached,
            "pending": self.pending,
            "already_reached": self.already_reached,
            "share": self.share,
            "median_days_to_goal": self.median_days,
        }


@dataclass(frozen=True)
class Adjusted:
    """The CUPED estimate on a pre-entry covariate, shown beside the plain one."""

    covariate: str
    theta: float
    absolute: Estimate
    narrower: bool  # its interval is narrower than the plain one's

    def to_dict(self) -> dict[str, Any]:
        return {
            "covariate": self.covariate,
            "theta": self.theta,
            **self.absolute.to_dict(),
            "narrower": self.narrower,
        }


@dataclass(frozen=True)
class Breakdown:
    by: str
    group: str
    treatment: ArmResult
    holdout: ArmResult
    absolute: Estimate | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "by": self.by,
            "group": self.group,
            "treatment": self.treatment.to_dict(),
            "holdout": self.holdout.to_dict(),
            "absolute": None if self.absolute is None else self.absolute.to_dict(),
        }


@dataclass(frozen=True)
class ValueAtStake:
    """Extra goals (the difference times the treated entries) x the CLV gap at the goal."""

    extra_goals: Estimate
    clv_gap: float | None  # expected CLV of customers past the goal minus those not
    value: Estimate | None
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "extra_goals": self.extra_goals.to_dict(),
            "clv_gap": self.clv_gap,
            "value": None if self.value is None else self.value.to_dict(),
            "note": self.note,
        }


@dataclass(frozen=True)
class PlayProof:
    """What a play (or an experiment from an assignments file) changed, with honest intervals."""

    id: str
    title: str
    goal: str
    within: str
    holdout_share: float | None  # the designed share; None: unknown (no SRM check possible)
    treatment: ArmResult
    holdout: ArmResult
    absolute: Estimate | None
    relative: Estimate | None
    sequential: Estimate | None
    sequential_relative: Estimate | None
    srm_p_value: float | None
    verdict: str | None
    reason: str
    adjusted: Adjusted | None = None
    value_at_stake: ValueAtStake | None = None
    sample_size: SampleSize | None = None
    curve: tuple[tuple[float, float, float], ...] = ()  # (day, treatment share, holdout share)
    breakdowns: tuple[Breakdown, ...] = field(default=())

    def to_dict(self) -> dict[str, Any]:
        def est(e: Estimate | None) -> dict[str, Any] | None:
            return None if e is None else e.to_dict()

        return {
            "id": self.id,
            "title": self.title,
            "goal": self.goal,
            "within": self.within,
            "holdout_share": self.holdout_share,
            "arms": {TREATMENT: self.treatment.to_dict(), HOLDOUT: self.holdout.to_dict()},
            "absolute": est(self.absolute),
            "relative": est(self.relative),
            "sequential": est(self.sequential),
            "sequential_relative": est(self.sequential_relative),
            "srm_p_value": self.srm_p_value,
            "verdict": self.verdict,
            "reason": self.reason,
            "adjusted": _dict(self.adjusted),
            "value_at_stake": None
            if self.value_at_stake is None
            else self.value_at_stake.to_dict(),
            "sample_size": _dict(self.sample_size),
            "curve": [{"day": d, TREATMENT: t, HOLDOUT: h} for d, t, h in self.curve],
            "breakdowns": [b.to_dict() for b in self.breakdowns],
        }

    def row(self) -> dict[str, Any]:
        a, s = self.absolute, self.sequential
        return {
            "play": self.id,
            "goal": self.goal,
            "treatment_entered": self.treatment.entered,
            "treatment_reached": self.treatment.reached,
            "treatment_pending": self.treatment.pending,
            "holdout_entered": self.holdout.entered,
            "holdout_reached": self.holdout.reached,
            "holdout_pending": self.holdout.pending,
            "difference": None if a is None else a.estimate,
            "ci_low": None if a is None else a.ci_low,
            "ci_high": None if a is None else a.ci_high,
            "p_value": None if a is None else a.p_value,
            "sequential_ci_low": None if s is None else s.ci_low,
            "sequential_ci_high": None if s is None else s.ci_high,
            "srm_p_value": self.srm_p_value,
            "verdict": self.verdict,
        }


def _dict(x: Adjusted | ValueAtStake | SampleSize | None) -> dict[str, Any] | None:
    return None if x is None else x.to_dict()


@dataclass(frozen=True)
class Labels:
    """One label per row as codes into ``names`` (a label may be named twice: one group)."""

    names: np.ndarray  # str
    codes: np.ndarray  # int per row


@dataclass(frozen=True)
class Judged:
    """One play's entries with their outcomes, first entry per customer, and extras per entry."""

    arm: np.ndarray  # str per entry
    out: Outcomes
    pre: np.ndarray  # float: the pre-entry covariate (milestone events before entering)
    groups: Mapping[str, Labels]  # by -> label per entry


def first_per_customer(customer_id: np.ndarray, entered: np.ndarray) -> np.ndarray:
    """Row indices of each customer's first entry (customers as ids, or as numbers: faster)."""
    order = np.lexsort((entered, customer_id))
    ids = customer_id[order]
    keep = np.ones(ids.size, dtype=bool)
    keep[1:] = ids[1:] != ids[:-1]
    return np.sort(order[keep])


def arm_result(out: Outcomes, rows: np.ndarray) -> ArmResult:
    code = out.outcome[rows]
    decided = (code == REACHED) | (code == FAILED)
    live = code != ALREADY
    days = out.duration[rows][live] / _DAY_US
    median = km_median(days, code[live] == REACHED)
    return ArmResult(
        entered=int(decided.sum()),
        reached=int((code == REACHED).sum()),
        pending=int((code == PENDING).sum()),
        already_reached=int((code == ALREADY).sum()),
        median_days=median,
    )


def _moments(a: ArmResult) -> Moments:
    return Moments.proportion(a.entered, a.reached)


def prove_arms(
    ident: str,
    title: str,
    goal: str,
    within: str,
    judged: Judged,
    *,
    holdout_share: float | None,
    min_per_arm: int = MIN_PER_ARM,
    lift: float = DEFAULT_LIFT,
    alpha: float = ALPHA,
) -> PlayProof:
    """The proof of one play from its judged entries (already one per customer)."""
    t_rows = np.flatnonzero(judged.arm == TREATMENT)
    h_rows = np.flatnonzero(judged.arm == HOLDOUT)
    t, h = arm_result(judged.out, t_rows), arm_result(judged.out, h_rows)
    mt, mh = _moments(t), _moments(h)
    absolute = fixed_horizon(mh, mt, alpha=alpha)
    relative = fixed_horizon(mh, mt, relative=True, alpha=alpha)
    seq = sequential(mh, mt, alpha=alpha)
    seq_rel = sequential(mh, mt, relative=True, alpha=alpha)
    srm = None
    if holdout_share is not None and 0 < holdout_share < 1:
        srm = srm_p_value([t_rows.size, h_rows.size], [1 - holdout_share, holdout_share])
    verdict, reason = judge(t, h, seq, absolute, srm, min_per_arm)
    size = None
    if holdout_share and h.share is not None and 0 < h.share < 1 and h.share + lift <= 1:
        size = sample_size(h.share, lift, holdout_share=holdout_share, alpha=alpha)
    return PlayProof(
        id=ident, title=title, goal=goal, within=within, holdout_share=holdout_share,
        treatment=t, holdout=h, absolute=absolute, relative=relative, sequential=seq,
        sequential_relative=seq_rel, srm_p_value=srm, verdict=verdict, reason=reason,
        adjusted=_adjusted(judged, absolute, alpha), sample_size=size,
        curve=curve(judged), breakdowns=_breakdowns(judged, alpha),
    )  # fmt: skip


def judge(
    t: ArmResult,
    h: ArmResult,
    seq: Estimate | None,
    fixed: Estimate | None,
    srm: float | None,
    min_per_arm: int,
) -> tuple[str | None, str]:
    """The plain-language verdict, from the sequential interval (valid at every look)."""
    if srm is not None and srm < SRM_THRESHOLD:
        return None, (
            f"no verdict: the arms' sizes do not match the designed split (sample-ratio "
            f"mismatch, p = {srm:.2g}); find why before trusting any number here"
        )
    if min(t.entered, h.entered) < min_per_arm:
        return "too early", (
            f"too early: {h.entered:,} decided in the holdout and {t.entered:,} in the treatment; "
            f"a verdict needs {min_per_arm:,} in each"
        )
    if seq is None:
        return "no effect detected", "no effect detected: both arms reached the goal equally"
    pts = f"{seq.ci_low * 100:+.1f} to {seq.ci_high * 100:+.1f} points"
    if seq.ci_low > 0:
        return "worked", f"worked: the goal rate rose by {pts} (sequential 95% interval)"
    if seq.ci_high < 0:
        return "harmful", f"harmful: the goal rate fell by {pts} (sequential 95% interval)"
    hint = ""
    if fixed is not None and fixed.excludes_zero():
        hint = (
            "; the fixed-horizon interval excludes 0, but it is valid only for one look at a "
            "sample size set in advance"
        )
    return "no effect detected", f"no effect detected: the difference is {pts}{hint}"


def _adjusted(judged: Judged, plain: Estimate | None, alpha: float) -> Adjusted | None:
    """CUPED on the count of the customer's milestone events before entering."""
    out = judged.out.outcome
    decided = (out == REACHED) | (out == FAILED)
    post = (out == REACHED).astype(np.float64)
    t = decided & (judged.arm == TREATMENT)
    h = decided & (judged.arm == HOLDOUT)
    if plain is None or t.sum() < 2 or h.sum() < 2:
        return None
    theta = cuped_theta(post[decided], judged.pre[decided])
    if theta == 0:
        return None
    mh = adjusted_moments(post[h], judged.pre[h], theta)
    mt = adjusted_moments(post[t], judged.pre[t], theta)
    est = fixed_horizon(mh, mt, alpha=alpha)
    if est is None:
        return None
    return Adjusted("milestone events before entering", theta, est, est.width < plain.width)


def curve(judged: Judged, days: int | None = None) -> tuple[tuple[float, float, float], ...]:
    """Share reaching the goal by day since entry, per arm (1 - Kaplan-Meier survival, so open
    entries count as censored)."""
    live = judged.out.outcome != ALREADY
    dur = judged.out.duration / _DAY_US
    top = float(dur[live].max()) if live.any() else 0.0
    grid = np.arange(0, int(np.ceil(top)) + 1 if days is None else days + 1, dtype=np.float64)
    shares = []
    for arm in (TREATMENT, HOLDOUT):
        rows = live & (judged.arm == arm)
        shares.append(km_reached(dur[rows], judged.out.outcome[rows] == REACHED, grid))
    return tuple((float(d), float(a), float(b)) for d, a, b in zip(grid, *shares, strict=True))


def _breakdowns(judged: Judged, alpha: float) -> tuple[Breakdown, ...]:
    out: list[Breakdown] = []
    for by, labels in judged.groups.items():
        present = np.unique(labels.codes)
        named = labels.names[present].astype(str)
        for g in sorted(set(named.tolist())):
            rows = np.isin(labels.codes, present[named == g])
            t = arm_result(judged.out, np.flatnonzero(rows & (judged.arm == TREATMENT)))
            h = arm_result(judged.out, np.flatnonzero(rows & (judged.arm == HOLDOUT)))
            est = fixed_horizon(_moments(h), _moments(t), alpha=alpha)
            out.append(Breakdown(by, str(g), t, h, est))
    return tuple(out)
