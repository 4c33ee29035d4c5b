"""The catalogs shipped with journeykit: milestone kinds, lifecycle stages, discovery questions,
and the business objectives a community can serve."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any, Literal

from ruamel.yaml import YAML

Phase = Literal["pre", "core", "post"]
Reveals = Literal["goal", "high", "low", "next"]


@dataclass(frozen=True)
class MilestoneKind:
    id: str
    title: str
    phase: Phase | None  # None: fits any phase (custom)
    purchase: bool
    description: str


@dataclass(frozen=True)
class StageTemplate:
    id: str
    title: str
    description: str


@dataclass(frozen=True)
class Question:
    id: str
    reveals: Reveals
    text: dict[str, str]  # language code -> question


@dataclass(frozen=True)
class CommunityObjective:
    id: str
    title: str
    description: str
    suggested_metric: str
    example: str


def _read(name: str) -> list[dict[str, Any]]:
    text = resources.files("journeykit.journey").joinpath("catalog", name).read_text("utf-8")
    data: list[dict[str, Any]] = YAML(typ="safe").load(text)
    return data


@cache
def milestone_kinds() -> dict[str, MilestoneKind]:
    return {row["id"]: MilestoneKind(**row) for row in _read("milestone_kinds.yaml")}


@cache
def default_stages() -> tuple[StageTemplate, ...]:
    return tuple(StageTemplate(**row) for row in _read("stages.yaml"))


@cache
def question_bank() -> tuple[Question, ...]:
    return tuple(Question(**row) for row in _read("questions.yaml"))


@cache
def community_objectives() -> dict[str, CommunityObjective]:
    return {row["id"]: CommunityObjective(**row) for row in _read("community_objectives.yaml")}
