"""Hypothesis strategies: small random journeys and event logs where ties are common.

Timestamps sit on a 12-hour grid over ten days and windows are whole days, so equal
timestamps, exact window edges and repeated milestones come up often. Event names come from a
small pool holding every milestone's event name and one noise name.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from hypothesis import strategies as st

from journeykit.journey import Journey
from tests.builders import Event

NAMES = ("visit", "signup", "trial", "buy", "renew")
NOISE = "noise"
BASE = datetime(2024, 1, 1)
GRID = timedelta(hours=12)
GRID_POINTS = 20
DURATIONS = ("12h", "1d", "2d", "4d")


def make_journey(
    milestones: Mapping[str, Any],
    paths: Mapping[str, Sequence[Any]] | None = None,
    expected_within: Mapping[str, str] | None = None,
) -> Journey:
    """A valid journey from ``{id: when-rule}`` and ``{path id: steps}`` (YAML shorthands allowed).

    Every milestone is ``pre`` except the last, which is the ``core`` offer the model requires.
    """
    ids = list(milestones)
    expected = expected_within or {}
    doc: dict[str, Any] = {
        "id": "test",
        "title": "Test journey",
        "transformation": {"from": "A", "to": "B"},
        "milestones": [
            {
                "id": m,
                "title": m,
                "phase": "core" if m == ids[-1] else "pre",
                "when": rule,
                **({"expected_within": expected[m]} if m in expected else {}),
            }
            for m, rule in milestones.items()
        ],
        "paths": [{"id": p, "steps": list(steps)} for p, steps in (paths or {}).items()],
    }
    return Journey.model_validate(doc)


@st.composite
def rules(draw: st.DrawFn, own: str, names: Sequence[str]) -> Any:
    """A when-rule centred on the milestone's own event name, sometimes sharing another's."""
    other = draw(st.sampled_from(names))
    return draw(
        st.sampled_from(
            [
                own,
                own,
                own,
                other,  # two milestones on one event name: one event, two tags
                [own, other],
                {"event": own, "properties": {"plan": "pro"}},
                {"event": own, "properties": {"plan": {"ne": "free"}}},
                {"event": own, "value": {"gte": 10}},
                {"any": [{"event": own}, {"properties": {"plan": "pro"}, "value": {"gt": 0}}]},
            ]
        )
    )


@st.composite
def path_steps(draw: st.DrawFn, ids: Sequence[str]) -> list[Any]:
    """An ordered subset of the milestones (2 or more); later steps sometimes optional or timed."""
    chosen = draw(st.permutations(list(ids)))[: draw(st.integers(2, len(ids)))]
    steps: list[Any] = [chosen[0]]
    for m in chosen[1:]:
        step: dict[str, Any] = {"milestone": m}
        if draw(st.integers(0, 3)) == 0:
            step["optional"] = True
        if draw(st.integers(0, 3)) == 0:
            step["within"] = draw(st.sampled_from(DURATIONS))
        steps.append(step if len(step) > 1 else m)
    return steps


@st.composite
def journeys(draw: st.DrawFn) -> Journey:
    """3-5 milestones, one or two paths, expected_within on some milestones."""
    n = draw(st.integers(3, 5))
    ids = [f"m{i}" for i in range(n)]
    names = NAMES[:n]
    milestones = {m: draw(rules(names[i], names)) for i, m in enumerate(ids)}
    paths = {"main": draw(path_steps(ids))}
    if draw(st.booleans()):
        paths["alt"] = draw(path_steps(ids))
    expected = {m: draw(st.sampled_from(DURATIONS)) for m in ids if draw(st.integers(0, 2)) == 0}
    return make_journey(milestones, paths, expected)


def grid_times() -> st.SearchStrategy[datetime]:
    return st.integers(0, GRID_POINTS).map(lambda k: BASE + k * GRID)


@st.composite
def events(draw: st.DrawFn, customer: str, names: Sequence[str]) -> Event:
    props = draw(st.sampled_from([{}, {}, {"plan": "pro"}, {"plan": "free"}, {"plan": 1}]))
    value = draw(st.sampled_from([None, None, 0.0, 5.0, 20.0]))
    name = draw(st.sampled_from([*names, NOISE]))
    return Event(customer, name, draw(grid_times()), value, props)


@st.composite
def storyline(draw: st.DrawFn, customer: str, story: Sequence[str]) -> list[Event]:
    """A prefix of ``story`` (event names) at non-decreasing times, so later steps get reached."""
    start = draw(st.integers(0, GRID_POINTS))
    out = []
    for name in story[: draw(st.integers(1, len(story)))]:
        start = min(GRID_POINTS, start + draw(st.integers(0, 4)))
        props = draw(st.sampled_from([{}, {"plan": "pro"}]))
        out.append(
            Event(customer, name, BASE + start * GRID, draw(st.sampled_from([None, 20.0])), props)
        )
    return out


@st.composite
def event_logs(
    draw: st.DrawFn,
    names: Sequence[str] = NAMES,
    story: Sequence[str] = (),
    max_customers: int = 8,
) -> list[Event]:
    """1..max_customers customers with 0-12 events each, in a random order.

    With a ``story`` (the main path's event names), some customers also follow a prefix of it in
    time order, so that customers get past step 1 often enough to test later steps.
    """
    out: list[Event] = []
    for c in range(draw(st.integers(1, max_customers))):
        # Lengths drawn as integers spread more evenly than st.lists, which favours short lists.
        n = draw(st.integers(0, 12))
        if story and draw(st.booleans()):
            out += draw(storyline(f"c{c}", story))
            n //= 2
        out += [draw(events(f"c{c}", names)) for _ in range(n)]
    return draw(st.permutations(out))


def windows() -> st.SearchStrategy[timedelta | None]:
    """No window, or whole days (edges land on the grid)."""
    return st.sampled_from([None, *(timedelta(days=d) for d in (1, 2, 5, 10))])


def nows() -> st.SearchStrategy[datetime | None]:
    """The default (latest event) or a point on the grid, possibly before some events."""
    return st.one_of(st.none(), grid_times())


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[Journey, list[Event], timedelta | None, datetime | None]:
    """A journey, a log over its event names, a window and a ``now``.

    Milestone ``m<i>`` is centred on the event name ``NAMES[i]`` (see ``journeys``).
    """
    journey = draw(journeys())
    names = sorted({n for m in journey.milestones if m.when for n in m.when.event_names()})
    story = [NAMES[int(m[1:])] for m in journey.path().milestone_ids]
    return journey, draw(event_logs(names, story)), draw(windows()), draw(nows())
