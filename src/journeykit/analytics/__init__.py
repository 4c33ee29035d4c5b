"""Analyses over the canonical events table on any engine: the design meets the data."""

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
