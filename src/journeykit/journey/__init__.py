"""The designed journey: typed models, YAML load/save, JSON Schema, catalogs, templates."""

from journeykit.journey.lint import lint
from journeykit.journey.load import load_journey, parse_journey
from journeykit.journey.schema import (
    Community,
    Condition,
    EventRule,
    Evidence,
    Journey,
    JourneyPath,
    Milestone,
    NorthStar,
    PathStep,
    Persona,
    Stage,
    Touchpoint,
    Transformation,
)

__all__ = [
    "Community",
    "Condition",
    "EventRule",
    "Evidence",
    "Journey",
    "JourneyPath",
    "Milestone",
    "NorthStar",
    "PathStep",
    "Persona",
    "Stage",
    "Touchpoint",
    "Transformation",
    "lint",
    "load_journey",
    "parse_journey",
]
