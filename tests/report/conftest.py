"""Journeys with simulated events, measured once per session, for the map and report tests."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from journeykit.events.simulate import SimulationOptions, simulate
from journeykit.journey import Journey, load_journey
from tests.conftest import EXAMPLES, REPO

SCREENSHOTS = REPO / "build" / "screenshots"


@dataclass(frozen=True)
class Measured:
    journey: Journey
    events: Any  # ibis table
    results: Any  # JourneyResults


def measured_example(path: Path, customers: int = 1_500) -> Measured:
    import ibis

    from journeykit.measure import measure

    journey = load_journey(path)
    table = simulate(journey, SimulationOptions(customers=customers, seed=3, days=200))
    events = ibis.memtable(table)
    return Measured(journey, events, measure(events, journey, full=True))


_CACHE: dict[str, Measured] = {}


def cached_example(path: Path) -> Measured:
    """``measured_example`` once per session and template."""
    if path.stem not in _CACHE:
        _CACHE[path.stem] = measured_example(path)
    return _CACHE[path.stem]


@pytest.fixture(params=EXAMPLES, ids=[p.stem for p in EXAMPLES])
def measured(request: pytest.FixtureRequest) -> Measured:
    return cached_example(request.param)


def branching_journey(n: int = 30, branches: int = 3) -> str:
    """A journey of ``n`` milestones: a shared start, ``branches`` branches, a shared end."""
    per = (n - 4) // branches
    ms = ["  - {id: m00, title: Start here, phase: pre, when: e00, moment: celebrate}"]
    ids = ["m00"]
    for b in range(branches):
        for k in range(per):
            mid = f"b{b}_{k:02d}"
            phase = "pre" if k < per // 2 else "post"
            moment = ("celebrate", "neutral", "breakdown")[(b + k) % 3]
            ms.append(f"  - {{id: {mid}, title: Branch {b} milestone number {k} with a longer "
                      f"title, phase: {phase}, when: e_{mid}, moment: {moment}, "
                      f"expected_within: {k + 2}d}}")  # fmt: skip
            ids.append(mid)
    for mid, phase in (("core1", "core"), ("core2", "core"), ("end1", "post")):
        ms.append(f"  - {{id: {mid}, title: Shared {mid}, phase: {phase}, when: e_{mid}}}")
    while len(ms) < n:
        extra = f"x{len(ms)}"
        ms.append(f"  - {{id: {extra}, title: Off path {extra}, phase: post, when: e_{extra}}}")
    paths = []
    for b in range(branches):
        pre = [f"b{b}_{k:02d}" for k in range(per // 2)]
        post = [f"b{b}_{k:02d}" for k in range(per // 2, per)]
        steps = ["m00", *pre, "core1", "core2", *post, "end1"]
        paths.append(f"  - {{id: branch{b}, steps: [{', '.join(steps)}]}}")
    return (
        "id: big\ntitle: Thirty milestones in three branches\n"
        "transformation: {from: scattered, to: settled}\nmilestones:\n"
        + "\n".join(ms)
        + "\npaths:\n"
        + "\n".join(paths)
        + "\n"
    )
