"""Plays in the journey file: who a play is for, its goal, how it reaches them, its holdout.

A play (DESIGN "play") is designed with the journey, so its audience is judged by the same
statuses and thresholds as every other analysis. ``who`` names a status (``stuck``, ``strayed``,
``lapsed`` or ``on_track``) on a path, optionally at a milestone and narrowed further; ``goal``
is the milestone that counts as success and the window to reach it; ``message`` is a template
whose placeholders are checked here, so a typo fails at load time with its line number.
"""

from __future__ import annotations

import string
from collections.abc import Iterator
from datetime import timedelta
from typing import TYPE_CHECKING, Literal, Self

from pydantic import Field, field_validator, model_validator

from journeykit.errors import did_you_mean
from journeykit.journey.rules import RuleField
from journeykit.journey.types import Duration, Loc, Slug, Strict

if TYPE_CHECKING:
    from journeykit.journey.schema import Journey, JourneyPath

PlayStatus = Literal["stuck", "strayed", "lapsed", "on_track"]
StrayKind = Literal["skipped", "out_of_order", "backwards", "off_path"]
DEFAULT_HOLDOUT = 0.1
DEFAULT_COOLDOWN = timedelta(days=30)
DEFAULT_WINDOW = timedelta(days=14)  # a goal with no designed window of its own

# What a message may say about the customer, from their data, their persona and the design.
PLACEHOLDERS = {
    "name": "the customer's name (the play's name_property, else 'there')",
    "customer_id": "the customer's id",
    "milestone": "the title of the milestone they are at",
    "goal": "the title of the goal milestone",
    "days_waiting": "whole days since they reached their milestone",
    "persona": "their persona's name (empty when none applies)",
    "desire": "their persona's first desire (empty when none applies)",
    "play": "the play's title",
    "journey": "the journey's title",
}


def placeholders_of(template: str) -> list[str]:
    """The ``{name}`` fields of a message; raises ValueError on a malformed template."""
    fields = [f for _, f, spec, conv in string.Formatter().parse(template) if f is not None]
    return fields


def check_message(template: str) -> str | None:
    """Why ``template`` cannot be rendered, or None when every placeholder is known."""
    try:
        fields = placeholders_of(template)
    except ValueError as exc:
        return f"malformed message template: {exc} (write {{{{ and }}}} for literal braces)"
    for f in fields:
        if f not in PLACEHOLDERS:
            known = ", ".join("{" + k + "}" for k in PLACEHOLDERS)
            hint = did_you_mean(f, list(PLACEHOLDERS))
            return f"unknown placeholder {{{f}}}{hint}; known: {known}"
    return None


class PlayWho(Strict):
    """The customers a play is for, judged at ``now`` as ``journeykit positions`` judges them."""

    status: PlayStatus
    path: Slug | None = Field(None, description="The path they are judged on; default the first.")
    milestone: Slug | None = Field(
        None, description="Their position (furthest milestone on the path); needed for stuck."
    )
    after: Duration | None = Field(
        None, description="Stuck only: waiting at least this long past the stuck threshold."
    )
    stray: StrayKind | None = Field(None, description="Strayed only: this kind of stray.")
    persona: Slug | None = Field(None, description="Only customers of this persona.")
    when: RuleField | None = Field(
        None, description="Only customers with at least one event matching this rule."
    )

    @model_validator(mode="after")
    def _options_fit_the_status(self) -> Self:
        if self.after is not None and self.status != "stuck":
            raise ValueError(f"'after' is for stuck plays, not {self.status}")
        if self.stray is not None and self.status != "strayed":
            raise ValueError(f"'stray' is for strayed plays, not {self.status}")
        if self.milestone is None and self.status in ("stuck", "on_track"):
            raise ValueError(f"a {self.status} play needs 'milestone': where the customers are")
        return self


class PlayGoal(Strict):
    milestone: Slug | None = Field(
        None, description="Success; default the next step of the path after their position."
    )
    within: Duration | None = Field(
        None, description="How long after entering; default the goal's expected_within."
    )


class TouchpointRef(Strict):
    """The designed touchpoint a play realises, by its two ends."""

    from_: Slug = Field(alias="from")
    to: Slug


class Play(Strict):
    """A designed action for customers in a state, with a holdout to prove it by."""

    id: Slug
    title: str = Field(min_length=1)
    description: str = ""
    who: PlayWho
    goal: PlayGoal = Field(default_factory=PlayGoal)
    channel: str = Field(min_length=1)
    owner: str = ""
    message: str = Field(
        "", description="Template; placeholders: " + ", ".join("{" + k + "}" for k in PLACEHOLDERS)
    )
    name_property: str = Field("name", description="The event property holding the name.")
    touchpoint: TouchpointRef | None = None
    holdout: float = Field(
        DEFAULT_HOLDOUT, ge=0, lt=1, description="Share kept as a control (no message)."
    )
    cooldown: Duration = Field(
        DEFAULT_COOLDOWN, description="Least time before the same customer may enter again."
    )

    @field_validator("message")
    @classmethod
    def _message_renders(cls, message: str) -> str:
        problem = check_message(message)
        if problem:
            raise ValueError(problem)
        return message


def step_window(journey: Journey, milestone: str, path: JourneyPath | None = None) -> timedelta:
    """How long reaching ``milestone`` may take as designed: its step's ``within`` on ``path``
    (None: on any path that gives one), else its ``expected_within``, else 14 days."""
    for p in journey.paths if path is None else (path,):
        for s in p.steps:
            if s.milestone == milestone and s.within is not None:
                return s.within
    return journey.milestone(milestone).expected_within or DEFAULT_WINDOW


def _unknown(kind: str, name: str, known: set[str]) -> str:
    return f"unknown {kind} {name!r}{did_you_mean(name, known)}"


def check_plays(j: Journey) -> Iterator[tuple[Loc, str]]:
    """Cross-references of the plays: paths, milestones, personas and touchpoints exist."""
    seen: set[str] = set()
    milestones = {m.id for m in j.milestones}
    paths = {p.id for p in j.paths} or {"main"}
    for i, play in enumerate(j.plays):
        at: Loc = ("plays", i)
        if play.id in seen:
            yield (*at, "id"), f"id {play.id!r} is used twice in plays"
        seen.add(play.id)
        who = play.who
        if who.path is not None and who.path not in paths:
            yield (*at, "who", "path"), _unknown("path", who.path, paths)
            continue
        steps = j.path(who.path).milestone_ids
        if not set(steps) <= milestones:
            continue  # the path itself is broken: that error is enough
        if who.milestone is not None:
            if who.milestone not in milestones:
                yield (*at, "who", "milestone"), _unknown("milestone", who.milestone, milestones)
            elif who.milestone not in steps:
                yield (*at, "who", "milestone"), f"{who.milestone!r} is not a step of the path"
            elif who.milestone == steps[-1]:
                yield (
                    (*at, "who", "milestone"),
                    f"{who.milestone!r} is the last step: customers there are completed",
                )
        personas = {p.id for p in j.personas}
        if who.persona is not None and who.persona not in personas:
            yield (*at, "who", "persona"), _unknown("persona", who.persona, personas)
        goal = play.goal.milestone
        if goal is not None and goal not in milestones:
            yield (*at, "goal", "milestone"), _unknown("milestone", goal, milestones)
        ref = play.touchpoint
        if ref is not None and not any(
            t.from_ == ref.from_ and t.to == ref.to for t in j.touchpoints
        ):
            yield (
                (*at, "touchpoint"),
                f"no designed touchpoint from {ref.from_!r} to {ref.to!r}",
            )


def play_path(journey: Journey, play: Play) -> str:
    """The path a play judges its customers on: its own, else the first."""
    return play.who.path or journey.path(None).id


def plays_aimed_at(
    journey: Journey,
    path: str,
    *,
    milestone: str | None = None,
    stray: str | None = None,
    lapsed_only: bool = False,
) -> tuple[Play, ...]:
    """The plays designed for the customers of one leak on ``path``.

    A leak at ``milestone`` (customers who reached it and not the next step): the plays for
    customers at that milestone (stuck, or on track and ready to move on) and the lapsed plays
    for it or for the whole path, as long as the milestone comes before their goal;
    ``lapsed_only`` keeps only the lapsed ones. A stray leak: the strayed plays of that kind (or of
    any kind).
    """
    steps = journey.path(path).milestone_ids
    out = []
    for play in journey.plays:
        who = play.who
        if play_path(journey, play) != path:
            continue
        if stray is not None:
            if who.status == "strayed" and who.stray in (None, stray):
                out.append(play)
            continue
        if milestone is None:
            continue
        if who.status == "lapsed":
            goal = play.goal.milestone
            before_goal = goal not in steps or steps.index(milestone) < steps.index(goal)
            if who.milestone in (None, milestone) and before_goal:
                out.append(play)
        elif not lapsed_only and who.milestone == milestone and who.status != "strayed":
            out.append(play)
    return tuple(out)
