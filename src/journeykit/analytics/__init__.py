"""Analyses over the canonical events table on any engine: the design meets the data."""

from journeykit.analytics.cohorts import CohortsResult, cohorts
from journeykit.analytics.funnel import funnel
from journeykit.analytics.milestones import MilestoneFrame, fetch_milestones, milestone_log
from journeykit.analytics.paths import PathsResult, paths
from journeykit.analytics.position import PositionsResult, positions
from journeykit.analytics.results import FunnelResult, FunnelStep, TimeStats

__all__ = [
    "CohortsResult",
    "FunnelResult",
    "FunnelStep",
    "MilestoneFrame",
    "PathsResult",
    "PositionsResult",
    "TimeStats",
    "cohorts",
    "fetch_milestones",
    "funnel",
    "milestone_log",
    "paths",
    "positions",
]
