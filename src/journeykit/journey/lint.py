"""Lints: a journey that loads but that a journey designer would want to look at again.

These are warnings, never errors: a team may choose any of them on purpose.
"""

from __future__ import annotations

from collections.abc import Iterator

from journeykit.errors import Problem
from journeykit.journey.catalog import milestone_kinds
from journeykit.journey.durations import format_duration
from journeykit.journey.load import line_of, source_of
from journeykit.journey.schema import PHASE_ORDER, Journey, Loc, _dotted
from journeykit.journey.wins import core_step, early_win_milestone


def lint(journey: Journey) -> list[Problem]:
    """Warnings about the design, each pointing at its line when the journey came from a file."""
    source = source_of(journey)
    return [
        Problem(_dotted(loc) or "(journey)", msg, line_of(source, loc) if source else None)
        for loc, msg in _lints(journey)
    ]


def _lints(j: Journey) -> Iterator[tuple[Loc, str]]:
    if not any(m.phase == "post" for m in j.milestones):
        yield (
            ("milestones",),
            (
                "no post-purchase milestone: the purchase is the fulcrum, not the end "
                "(add a survey, repeat purchase, testimonial, referral, upsell or renewal)"
            ),
        )
    used = {m.stage for m in j.milestones}
    if "stages" not in j.model_fields_set and used == {None}:
        # One warning, not nine, for a journey that does not use stages at all yet.
        yield ("milestones",), "no milestone names a lifecycle stage, so no stage is covered"
    else:
        for i, s in enumerate(j.stages):
            if s.id not in used:
                yield ("stages", i), f"lifecycle stage {s.id!r} has no milestone"
    kinds = milestone_kinds()
    for i, m in enumerate(j.milestones):
        if m.status == "proposed":
            yield (
                ("milestones", i, "status"),
                (
                    f"milestone {m.id!r} is proposed (from members' answers): accept it "
                    "(status: accepted) or delete it"
                ),
            )
        if m.when is None:
            yield (
                ("milestones", i),
                f"milestone {m.id!r} has no 'when' rule, so it cannot be measured",
            )
        usual = kinds[m.kind].phase
        if usual is not None and usual != m.phase:
            yield (
                ("milestones", i, "kind"),
                (f"kind {m.kind!r} is usually a {usual} milestone, but {m.id!r} is {m.phase}"),
            )
    yield from _phase_order(j)
    yield from _early_wins(j)
    yield from _plays(j)


def _early_wins(j: Journey) -> Iterator[tuple[Loc, str]]:
    for i, p in enumerate(j.paths):
        core = core_step(j, p)
        if core is not None and early_win_milestone(j, p) is None:
            yield (
                ("paths", i),
                (
                    f"path {p.id!r} has no early win: no celebrate milestone between its first "
                    f"step and the core offer {core!r}, so nothing shows a new customer it is "
                    "working before they are asked to buy"
                ),
            )


def _plays(j: Journey) -> Iterator[tuple[Loc, str]]:
    length = j.designed_length()
    if length is not None and j.lapse_horizon > length:
        where: Loc = ("lapsed_after",) if j.lapsed_after is not None else ("milestones",)
        yield (
            where,
            (
                f"the lapse horizon ({format_duration(j.lapse_horizon)}) is longer than the "
                f"whole designed path ({format_duration(length)}): customers would finish it "
                "before anyone is called lapsed"
            ),
        )
    for i, play in enumerate(j.plays):
        if play.holdout == 0:
            yield (
                ("plays", i, "holdout"),
                (
                    f"play {play.id!r} keeps no holdout, so what it changes can never be "
                    "proved (the default is 0.1)"
                ),
            )
        if not play.message:
            yield (("plays", i), f"play {play.id!r} has no message to send")


def _phase_order(j: Journey) -> Iterator[tuple[Loc, str]]:
    phases = {m.id: m.phase for m in j.milestones}
    for i, p in enumerate(j.paths):
        highest = "pre"
        for k, step in enumerate(p.steps):
            phase = phases.get(step.milestone, "pre")
            if PHASE_ORDER[phase] < PHASE_ORDER[highest]:
                yield (
                    ("paths", i, "steps", k),
                    (f"path {p.id!r} goes back from {highest} to {phase} at {step.milestone!r}"),
                )
            highest = max(highest, phase, key=PHASE_ORDER.__getitem__)
