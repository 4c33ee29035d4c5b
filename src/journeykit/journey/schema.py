"""The journey as typed, strict, frozen models.

Closed models (unknown keys are errors), literal vocabularies, and cross-references checked once
when a journey is built, so every later step (analytics, reports, the web app) can trust it.
Shorthands that people write by hand (``when: purchase``, ``steps: [opt_in, purchase]``,
``plan: pro`` as a property condition) are normalised on the way in and written back the same way.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Annotated, Any, Literal, Self, get_args

from pydantic import (
    BeforeValidator,
    Field,
    GetJsonSchemaHandler,
    PrivateAttr,
    SerializerFunctionWrapHandler,
    model_serializer,
    model_validator,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema

from journeykit.errors import did_you_mean
from journeykit.journey.catalog import default_stages, milestone_kinds
from journeykit.journey.plays import Play, check_plays
from journeykit.journey.rules import Condition, EventRule, RuleField
from journeykit.journey.types import (
    PHASE_ORDER,
    Duration,
    KindId,
    Loc,
    Moment,
    Phase,
    Scalar,
    Slug,
    Strict,
)

__all__ = [
    "PHASE_ORDER", "Condition", "Duration", "EventRule", "KindId", "Loc", "Moment", "Phase",
    "RuleField", "Scalar", "Slug", "Strict",
]  # fmt: skip


class Transformation(Strict):
    """FROM point A TO point B, in the member's own words."""

    from_: str = Field(alias="from", min_length=1)
    to: str = Field(min_length=1)


class Persona(Strict):
    """Who travels: what they fear, what frustrates them, what they want, what they must do."""

    id: Slug
    name: str = Field(min_length=1)
    description: str = ""
    fears: tuple[str, ...] = ()
    frustrations: tuple[str, ...] = ()
    desires: tuple[str, ...] = ()
    jobs: tuple[str, ...] = ()
    segment: RuleField | None = None


class Stage(Strict):
    id: Slug
    title: str = Field(min_length=1)
    description: str = ""


def _default_stages() -> tuple[Stage, ...]:
    return tuple(Stage(id=s.id, title=s.title, description=s.description) for s in default_stages())


class Evidence(Strict):
    """A member's words behind a milestone, such as a quote ``discover draft`` found in a theme."""

    quote: str = Field(min_length=1)
    respondent: str | None = Field(None, description="Who said it (an id, not a name).")
    theme: str | None = Field(None, description="The discovery theme the quote belongs to.")


class Milestone(Strict):
    """A juncture worth measuring; ``when`` is how we recognise it in an event log.

    ``status: proposed`` marks a milestone suggested from members' answers (``discover draft``)
    that a person has not accepted yet; ``evidence`` keeps the quotes it rests on.
    """

    id: Slug
    title: str = Field(min_length=1)
    phase: Phase
    moment: Moment = "neutral"
    kind: KindId = "custom"
    stage: Slug | None = None
    description: str = ""
    when: RuleField | None = None
    expected_within: Duration | None = None
    purchase: bool | None = Field(
        None, description="Counts as a purchase for CLV; defaults to the kind's (purchase, ...)."
    )
    status: Literal["accepted", "proposed"] = Field(
        "accepted",
        description="'proposed': suggested from members' answers, waiting for a person to accept.",
    )
    evidence: tuple[Evidence, ...] = Field((), description="Quotes from members behind it.")

    @property
    def is_purchase(self) -> bool:
        if self.purchase is not None:
            return self.purchase
        return self.phase == "core" or milestone_kinds()[self.kind].purchase


class PathStep(Strict):
    milestone: Slug
    optional: bool = False
    within: Duration | None = Field(
        None, description="Per-step window: at most this long after the previous step."
    )
    first_time: bool = Field(
        False,
        description="Only the customer's first event of this milestone can serve the step "
        "(first time for this customer).",
    )

    @model_serializer(mode="wrap")
    def _shorthand(self, handler: SerializerFunctionWrapHandler) -> Any:
        data = handler(self)
        if not isinstance(data, dict):
            return data
        flags = ("optional", "first_time")
        data = {k: v for k, v in data.items() if v is not None and not (k in flags and not v)}
        return data["milestone"] if list(data) == ["milestone"] else data

    @classmethod
    def __get_pydantic_json_schema__(
        cls, core_schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        return {"anyOf": [{"type": "string"}, handler(core_schema)]}


def _step_shorthand(value: Any) -> Any:
    return {"milestone": value} if isinstance(value, str) else value


StepField = Annotated[PathStep, BeforeValidator(_step_shorthand)]


class JourneyPath(Strict):
    """A designed route through milestones; several paths make branches."""

    id: Slug
    title: str = ""
    description: str = ""
    steps: tuple[StepField, ...] = Field(min_length=1)

    @property
    def milestone_ids(self) -> tuple[str, ...]:
        return tuple(s.milestone for s in self.steps)


class Touchpoint(Strict):
    """A channel and action that moves a member from one milestone to the next."""

    from_: Slug = Field(alias="from")
    to: Slug
    channel: str = Field(min_length=1)
    action: str = Field(min_length=1)
    owner: str = ""
    description: str = ""
    when: RuleField | None = Field(
        None,
        description="Events that show a customer got this touchpoint (an email opened, a call "
        "held): then `journeykit prove` compares those who got it with those who did not, as "
        "an association, not proof.",
    )


ObjectiveId = Literal[
    "support", "product_feedback", "acquisition", "contribution", "engagement", "success"
]  # fmt: skip
Metric = Literal["share_reaching", "repeat_rate", "per_customer", "median_days_to"]


class NorthStar(Strict):
    """The metric that measures a community role for the business, defined on the event data.

    ``share_reaching``: share of customers who reach ``milestone``; ``repeat_rate``: share who
    reach it at least twice (repeat purchase rate); ``per_customer``: events of ``milestone`` per
    customer (referrals per member); ``median_days_to``: median days from entry to ``milestone``
    (time to activation). Customers enter at ``among`` (default: the first step of the first
    path); ``within`` counts only what happens that long after entry.
    """

    title: str = ""
    metric: Metric = "share_reaching"
    milestone: Slug
    among: Slug | None = Field(
        None, description="Count only customers who reached this milestone; entry is its time."
    )
    within: Duration | None = Field(
        None, description="Count the outcome only this long after entry."
    )
    target: float
    direction: Literal["up", "down"] = "up"

    @model_validator(mode="after")
    def _target_fits_the_metric(self) -> Self:
        if self.metric in ("share_reaching", "repeat_rate") and not 0 <= self.target <= 1:
            raise ValueError(f"a {self.metric} target is a share from 0 to 1, got {self.target}")
        if self.target < 0:
            raise ValueError(f"expected a target of 0 or more, got {self.target}")
        return self


class Role(Strict):
    """What the community does for the business: an objective from the catalog, in words, with
    the north star that measures it. (``objective`` is None only for the one-line ``role`` form.)
    """

    objective: ObjectiveId | None = None
    description: str = ""
    north_star: NorthStar | None = None


class Levels(Strict):
    """How engagement levels are drawn (docs/metrics.md, "Engagement levels").

    ``percentile`` (default): among active members, the top 10% by love are advocates, the next
    25% contributors, the rest participants. ``threshold``: love of at least ``advocates`` or
    ``contributors``. Either way a member with no activity for ``inactive_after`` is inactive.
    """

    by: Literal["percentile", "threshold"] = "percentile"
    advocates: float | None = Field(None, gt=0, description="Threshold mode: least love.")
    contributors: float | None = Field(None, gt=0, description="Threshold mode: least love.")
    inactive_after: Duration = Field(timedelta(days=90))
    period: Literal["week", "month"] = "month"

    @model_validator(mode="after")
    def _thresholds_match_the_mode(self) -> Self:
        given = self.advocates is not None or self.contributors is not None
        if self.by == "percentile" and given:
            raise ValueError("advocates and contributors thresholds need 'by: threshold'")
        if self.by == "threshold":
            if self.advocates is None or self.contributors is None:
                raise ValueError(
                    "'by: threshold' needs both advocates and contributors (least love)"
                )
            if self.advocates <= self.contributors:
                raise ValueError(
                    "expected advocates > contributors, "
                    f"got {self.advocates} <= {self.contributors}"
                )
        return self


class Community(Strict):
    """Purpose: why members belong, in their words. Role: what the community does for the
    business, measured by a north star. Kept apart on purpose: teams mix them up.

    ``roles`` is the full form; ``role`` (one line of text) with ``north_star`` is the short
    form of one role, kept as written. ``activity`` weighs each community milestone for the
    engagement levels.
    """

    purpose: str = Field(min_length=1)
    role: str | None = Field(None, min_length=1, description="Short form: one role in words.")
    north_star: NorthStar | None = Field(None, description="Short form: the role's north star.")
    roles: tuple[Role, ...] = ()
    milestones: tuple[Slug, ...] = Field(
        (), description="Milestones that mark a member as participating (joined, first post)."
    )
    activity: dict[Slug, Annotated[float, Field(gt=0)]] = Field(
        default_factory=dict,
        description="Weight of each community milestone's events for engagement levels (love).",
    )
    levels: Levels | None = None

    @model_validator(mode="after")
    def _one_form_of_roles(self) -> Self:
        if self.roles and (self.role is not None or self.north_star is not None):
            raise ValueError(
                "give either 'roles' (a list) or the short form 'role' with 'north_star', not both"
            )
        if not self.roles and self.role is None:
            raise ValueError(
                "expected 'roles' (each with an objective and a north star) or 'role' "
                "(the role in words)"
            )
        return self

    @property
    def all_roles(self) -> tuple[Role, ...]:
        """Every role in the full form; the short form is one role without an objective."""
        if self.roles:
            return self.roles
        return (Role(description=self.role or "", north_star=self.north_star),)

    @property
    def north_stars(self) -> tuple[NorthStar, ...]:
        return tuple(r.north_star for r in self.all_roles if r.north_star is not None)

    @property
    def activity_milestones(self) -> tuple[str, ...]:
        """Milestones that count as community activity: the weighted ones, else the markers."""
        return tuple(self.activity) or self.milestones


class ReferenceProblems(ValueError):
    """Cross-reference problems, each at its own place in the file."""

    def __init__(self, problems: list[tuple[Loc, str]]) -> None:
        self.problems = problems
        super().__init__("; ".join(f"{_dotted(loc)}: {msg}" for loc, msg in problems))


def _dotted(loc: Loc) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out


class Journey(Strict):
    """One designed transformation for one audience."""

    id: Slug
    title: str = Field(min_length=1)
    description: str = ""
    transformation: Transformation
    personas: tuple[Persona, ...] = ()
    stages: tuple[Stage, ...] = Field(default_factory=_default_stages)
    milestones: tuple[Milestone, ...] = Field(min_length=1)
    paths: tuple[JourneyPath, ...] = ()
    touchpoints: tuple[Touchpoint, ...] = ()
    community: Community | None = None
    lapsed_after: Duration | None = Field(
        None,
        description=(
            "No event of any kind for this long: lapsed. Default: twice the longest designed "
            "window up to the core offer, from 14 to 90 days (90 when none is designed)."
        ),
    )
    plays: tuple[Play, ...] = ()

    # Where the journey came from, so saving keeps the file's comments and key order.
    _source: Any = PrivateAttr(default=None)
    _source_path: Any = PrivateAttr(default=None)
    # The file's text, when the journey came from the parse cache (journey.load.source_of).
    _source_text: str | None = PrivateAttr(default=None)

    @model_validator(mode="after")
    def _references_hold(self) -> Self:
        problems = list(_check_references(self))
        if problems:
            raise ReferenceProblems(problems)
        return self

    def __eq__(self, other: object) -> bool:
        # Two journeys are equal when they say the same; where they were loaded from is not part
        # of what they say.
        return type(other) is type(self) and self.__dict__ == other.__dict__

    __hash__ = None  # type: ignore[assignment]

    def milestone(self, milestone_id: str) -> Milestone:
        for m in self.milestones:
            if m.id == milestone_id:
                return m
        known = [m.id for m in self.milestones]
        raise KeyError(f"no milestone {milestone_id!r}{did_you_mean(milestone_id, known)}")

    def path(self, path_id: str | None = None) -> JourneyPath:
        """A path by id; with no id, the first designed path (or all milestones in file order)."""
        if not self.paths:
            main = JourneyPath(id="main", title=self.title, steps=tuple(
                PathStep(milestone=m.id) for m in self.milestones))  # fmt: skip
            if path_id in (None, "main"):
                return main
            raise KeyError(f"no path {path_id!r}: this journey designs no paths (use 'main')")
        if path_id is None:
            return self.paths[0]
        for p in self.paths:
            if p.id == path_id:
                return p
        known = [p.id for p in self.paths]
        raise KeyError(f"no path {path_id!r}{did_you_mean(path_id, known)}")

    @property
    def lapse_horizon(self) -> timedelta:
        """How long without any event makes a customer lapsed (DESIGN "Status").

        The designed ``lapsed_after``; else twice the longest designed window (a milestone's
        ``expected_within`` or a step's ``within``) of the steps up to and including the first
        core milestone of any path, kept between 14 and 90 days: a 14-day trial's drop-outs are
        gone after a month, not after a quarter. 90 days when no such window is designed.
        """
        if self.lapsed_after is not None:
            return self.lapsed_after
        windows = [w for w in _windows_to_core(self) if w is not None]
        if not windows:
            return LAPSE_MAX
        return min(max(2 * max(windows), LAPSE_MIN), LAPSE_MAX)

    def designed_length(self) -> timedelta | None:
        """The longest path's designed windows added up (None if a step has none designed)."""
        longest = None
        for p in self.paths or (self.path(None),):
            spans = [s.within or self.milestone(s.milestone).expected_within for s in p.steps[1:]]
            if spans and all(x is not None for x in spans):
                total = sum((x for x in spans if x is not None), timedelta())
                longest = total if longest is None else max(longest, total)
        return longest

    def milestones_by_phase(self) -> dict[str, tuple[Milestone, ...]]:
        return {ph: tuple(m for m in self.milestones if m.phase == ph) for ph in PHASE_ORDER}

    def to_yaml(self) -> str:
        """The journey as YAML; a journey loaded from a file keeps its comments and key order."""
        from journeykit.journey.load import dump_yaml

        return dump_yaml(self)


LAPSE_MIN = timedelta(days=14)
LAPSE_MAX = timedelta(days=90)


def _windows_to_core(j: Journey) -> Iterator[timedelta | None]:
    for p in j.paths or (j.path(None),):
        for s in p.steps[1:]:
            m = j.milestone(s.milestone)
            yield s.within or m.expected_within
            if m.phase == "core":
                break


def _duplicates(items: tuple[Any, ...], section: str) -> Iterator[tuple[Loc, str]]:
    seen: set[str] = set()
    for i, item in enumerate(items):
        if item.id in seen:
            yield (section, i, "id"), f"id {item.id!r} is used twice in {section}"
        seen.add(item.id)


def _unknown(kind: str, name: str, known: set[str]) -> str:
    return f"unknown {kind} {name!r}{did_you_mean(name, known)}"


def _check_references(j: Journey) -> Iterator[tuple[Loc, str]]:
    for section in ("personas", "stages", "milestones", "paths"):
        yield from _duplicates(getattr(j, section), section)
    milestones = {m.id for m in j.milestones}
    stages = {s.id for s in j.stages}
    for i, m in enumerate(j.milestones):
        if m.stage is not None and m.stage not in stages:
            yield ("milestones", i, "stage"), _unknown("stage", m.stage, stages)
    if not any(m.phase == "core" for m in j.milestones):
        yield ("milestones",), "expected at least one milestone with phase 'core' (the core offer)"
    yield from _check_paths(j, milestones)
    for i, t in enumerate(j.touchpoints):
        for key, end in (("from", t.from_), ("to", t.to)):
            if end not in milestones:
                yield ("touchpoints", i, key), _unknown("milestone", end, milestones)
    if j.community is not None:
        yield from _check_community(j.community, milestones)
    yield from check_plays(j)


def _check_community(c: Community, milestones: set[str]) -> Iterator[tuple[Loc, str]]:
    for i, mid in enumerate(c.milestones):
        if mid not in milestones:
            yield ("community", "milestones", i), _unknown("milestone", mid, milestones)
    for mid in c.activity:
        if mid not in milestones:
            yield ("community", "activity", mid), _unknown("milestone", mid, milestones)
    stars: list[tuple[Loc, NorthStar | None]] = [(("community", "north_star"), c.north_star)]
    stars += [
        (("community", "roles", i, "north_star"), r.north_star) for i, r in enumerate(c.roles)
    ]
    for i, r in enumerate(c.roles):
        if r.objective is None:
            yield (
                ("community", "roles", i, "objective"),
                (f"required, but missing (one of: {', '.join(get_args(ObjectiveId))})"),
            )
    for loc, ns in stars:
        for key in ("milestone", "among"):
            named: str | None = getattr(ns, key, None)
            if named is not None and named not in milestones:
                yield (*loc, key), _unknown("milestone", named, milestones)
        if ns is not None and ns.milestone in c.milestones:
            yield (
                (*loc, "milestone"),
                (
                    f"{ns.milestone!r} marks community participation; the north star measures "
                    "what the community does for the business, so it needs another milestone"
                ),
            )


def _check_paths(j: Journey, milestones: set[str]) -> Iterator[tuple[Loc, str]]:
    for i, p in enumerate(j.paths):
        seen: set[str] = set()
        for k, step in enumerate(p.steps):
            where: Loc = ("paths", i, "steps", k)
            if step.milestone not in milestones:
                yield where, _unknown("milestone", step.milestone, milestones)
            elif step.milestone in seen:
                yield where, f"milestone {step.milestone!r} is listed twice in path {p.id!r}"
            seen.add(step.milestone)
        if p.steps[0].optional:
            yield ("paths", i, "steps", 0), "the first step of a path cannot be optional"
