"""The living map's numbers from the app's fast path equal the plain path's, and the server's
head start (``web.warm``) draws the map before a visit, again after an import.

The app reads the milestone log a workspace keeps at import and measures it on two threads; the
plain path tags the workspace's events itself and measures them in turn. Every number the map
shows (funnels, positions, counts, north stars, engagement levels and their lists) must agree.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from journeykit import measure as measuring
from journeykit.analytics import fetch_milestones, funnel, positions
from journeykit.analytics.milestones import log_counts
from journeykit.engine.workspace import import_files
from journeykit.events.simulate import SimulationOptions, simulate_to_file
from journeykit.journey import Journey, load_journey
from journeykit.measure import JourneyResults, community_results
from journeykit.web.app import create_app, make_filters
from journeykit.web.data import db_alias
from journeykit.web.warm import Warmer
from journeykit.workspace import create_workspace


def numbers(r: JourneyResults) -> dict[str, Any]:
    assert r.community is not None and r.community.levels is not None
    return {
        "now": r.now,
        "funnels": [(p, f.to_dict()) for p, f in r.funnels.items()],
        "positions": [(p, x.to_dict()) for p, x in r.positions.items()],
        "counts": (r.counts.customers, r.counts.reached),
        "north_stars": [None if s is None else s.to_dict() for _, s in r.community.roles],
        "levels": r.community.levels.to_dict(),
    }


def numbers_in_turn(events: Any, journey: Journey) -> dict[str, Any]:
    """The same numbers from each analysis called on its own, one after another."""
    frame = fetch_milestones(events, journey)
    chosen = journey.paths[0].id
    community = community_results(frame, journey, chosen)
    assert community is not None and community.levels is not None
    counts = log_counts(frame)
    return {
        "now": frame.now,
        "funnels": [(p.id, funnel(frame, journey, path=p.id).to_dict()) for p in journey.paths],
        "positions": [
            (p.id, positions(frame, journey, path=p.id).to_dict()) for p in journey.paths
        ],
        "counts": (counts.customers, counts.reached),
        "north_stars": [None if s is None else s.to_dict() for _, s in community.roles],
        "levels": community.levels.to_dict(),
    }


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Any:
    root = tmp_path_factory.mktemp("warm")
    ws = create_workspace(root / "ws", template="saas-trial")
    journey = load_journey(ws.journey_file)
    for seed in (3, 4):  # two imports: the stored log covers both
        events = root / f"events-{seed}.parquet"
        simulate_to_file(journey, SimulationOptions(customers=400, seed=seed, days=150), events)
        import_files(ws, [events])
    return create_app(ws.root)


def test_the_maps_numbers_equal_each_analysis_on_the_events_in_turn(app: Any) -> None:
    ctx = app.state.ctx
    rev, journey = ctx.journey("journey")
    f = make_filters(journey, *[None] * 5)
    fast = ctx.data.map_results(rev.sha256, journey, f)
    assert ctx.data._frame(rev.sha256, journey, f).last_seen is not None  # the stored log
    assert measuring.WORKERS == 2  # the fast path runs its analyses on two threads
    with ctx.data.engine() as eng:
        assert db_alias(eng) is not None
        plain = numbers_in_turn(eng.events(str(ctx.ws.root)), journey)  # no stored log
    assert len(fast.positions) == 2
    assert numbers(fast) == plain
    assert fast.community is not None and fast.community.levels is not None
    levels = fast.community.levels
    assert [m.to_dict() for m in levels.drifting_away] == plain["levels"]["drifting_away"]
    assert levels.drifting_away[:2] == tuple(levels.drifting_away)[:2]


def _map_keys(ctx: Any) -> list[tuple[Any, ...]]:
    with ctx.data.entries:
        return [k for k in ctx.data.cache if k[0] == "map_svg"]


def _wait(until: Any, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not until():
        assert time.monotonic() < deadline, "the head start did not happen in time"
        time.sleep(0.05)


def test_the_server_draws_the_map_at_start_and_after_an_import(app: Any, tmp_path: Path) -> None:
    ctx = app.state.ctx
    ctx.data.forget()
    warmer = Warmer(ctx, poll=0.05, announce=False).start()
    try:
        _wait(warmer.ready.is_set)
        version = ctx.data.version()
        assert [k[2] for k in _map_keys(ctx)] == [version]
        journey = load_journey(ctx.ws.journey_file)
        more = tmp_path / "more.parquet"
        simulate_to_file(journey, SimulationOptions(customers=50, seed=9, days=150), more)
        import_files(ctx.ws, [more])
        _wait(lambda: ctx.data.version() != version)
        _wait(lambda: ctx.data.version() in [k[2] for k in _map_keys(ctx)])
    finally:
        warmer.stop()
    # The page a visit opens is the one drawn: answered from the cache.
    rev, journey = ctx.journey("journey")
    key = ("map_svg", rev.sha256, ctx.data.version(), make_filters(journey, *[None] * 5).key())
    assert key in ctx.data.cache


def test_a_journey_without_an_up_to_date_log_is_left_to_its_visit(
    app: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Tagging every event would hold the database file while an import waits for it."""
    from journeykit.engine import maplog
    from journeykit.web.warm import warm_maps

    ctx = app.state.ctx
    ctx.data.forget()
    assert warm_maps(ctx) == 1 and len(_map_keys(ctx)) == 1
    ctx.data.forget()
    monkeypatch.setattr(maplog, "_current", lambda *args: None)  # as after a rule edit
    assert warm_maps(ctx) == 0 and _map_keys(ctx) == []
