"""Analyses over the canonical events table on any engine: the design meets the data.

The names below are imported on first use (PEP 562), so a command that needs one analysis, or
only a constant of this package, does not load numba, Ibis and pandas for all of them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from journeykit._lazy import lazy_exports

if TYPE_CHECKING:
    from journeykit.analytics.cohorts import CohortsResult, cohorts
    from journeykit.analytics.community import NorthStarResult, north_star
    from journeykit.analytics.funnel import funnel
    from journeykit.analytics.impact import ImpactResult, impact
    from journeykit.analytics.levels import LevelsResult, engagement_levels
    from journeykit.analytics.milestones import MilestoneFrame, fetch_milestones, milestone_log
    from journeykit.analytics.opportunities import (
        OpportunitiesResult,
        PlayProofLike,
        PlayVerdict,
        opportunities,
    )
    from journeykit.analytics.paths import PathsResult, event_paths, paths
    from journeykit.analytics.position import PositionsResult, positions
    from journeykit.analytics.results import FunnelResult, FunnelStep, TimeStats

# Public name -> the submodule that defines it.
_EXPORTS = {
    "CohortsResult": "cohorts", "cohorts": "cohorts",
    "NorthStarResult": "community", "north_star": "community",
    "funnel": "funnel",
    "ImpactResult": "impact", "impact": "impact",
    "LevelsResult": "levels", "engagement_levels": "levels",
    "MilestoneFrame": "milestones", "fetch_milestones": "milestones",
    "milestone_log": "milestones",
    "OpportunitiesResult": "opportunities", "PlayProofLike": "opportunities",
    "PlayVerdict": "opportunities", "opportunities": "opportunities",
    "PathsResult": "paths", "event_paths": "paths", "paths": "paths",
    "PositionsResult": "position", "positions": "position",
    "FunnelResult": "results", "FunnelStep": "results", "TimeStats": "results",
}  # fmt: skip

__all__ = [
    "CohortsResult",
    "FunnelResult",
    "FunnelStep",
    "ImpactResult",
    "LevelsResult",
    "MilestoneFrame",
    "NorthStarResult",
    "OpportunitiesResult",
    "PathsResult",
    "PlayProofLike",
    "PlayVerdict",
    "PositionsResult",
    "TimeStats",
    "cohorts",
    "engagement_levels",
    "event_paths",
    "fetch_milestones",
    "funnel",
    "impact",
    "milestone_log",
    "north_star",
    "opportunities",
    "paths",
    "positions",
]


__getattr__ = lazy_exports(__name__, _EXPORTS)
