"""The loop closed: simulate a planted effect, act every day, prove it; tamper, and see the check."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from journeykit.act import act
from journeykit.act.plant import PlantedEffect, plant_effects
from journeykit.engine import connect
from journeykit.engine.workspace import import_files
from journeykit.events.simulate import SimulationOptions, simulate
from journeykit.journey import load_journey
from journeykit.prove import prove
from journeykit.workspace import Workspace, create_workspace

PLAY, LIFT = "first_board_nudge", 0.4
START, DAYS = datetime(2024, 1, 1), 60


@pytest.fixture(scope="module")
def acted(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    import pyarrow.csv as pv

    root = tmp_path_factory.mktemp("prove") / "ws"
    ws = create_workspace(root, template="saas-trial")
    journey = load_journey(ws.journey_file)
    base = simulate(journey, SimulationOptions(2_500, seed=11, days=DAYS))
    planted, added = plant_effects(base, journey, [PlantedEffect(PLAY, LIFT)], seed=11)
    assert added[PLAY] > 20
    pv.write_csv(planted, root / "events.csv")
    import_files(ws, [root / "events.csv"])
    day = START + timedelta(days=1)
    while day <= START + timedelta(days=DAYS):
        act(ws, journey, play=PLAY, now=day)  # what a daily cron would have done
        day += timedelta(days=1)
    return ws


def _prove(ws: Workspace, **kw: object):  # type: ignore[no-untyped-def]
    journey = load_journey(ws.journey_file)
    return prove(connect().events(str(ws.root)), journey, workspace=ws, play=PLAY, **kw)  # type: ignore[arg-type]


def test_prove_recovers_the_planted_lift(acted: Workspace) -> None:
    r = _prove(acted).get(PLAY)
    t, h = r.treatment, r.holdout
    assert t.entered > 300 and h.entered > 30
    # The planted lift applies to those who would not have reached the goal: the true effect is
    # LIFT x (1 - the holdout's rate), give or take the planted goals falling after the log's end.
    assert h.share is not None
    truth = LIFT * (1 - h.share)
    assert r.absolute is not None and r.sequential is not None
    assert r.absolute.ci_low <= truth <= r.absolute.ci_high
    assert r.absolute.ci_low > 0 and r.srm_p_value is not None and r.srm_p_value > 0.001
    assert r.sequential.ci_low <= r.absolute.ci_low and r.sequential.ci_high >= r.absolute.ci_high
    assert r.verdict in ("worked", "too early")
    # Every entry is judged exactly once: decided + pending + already reached = customers entered.
    con = duckdb.connect(str(acted.database), read_only=True)
    entered = con.execute(
        "SELECT arm, count(DISTINCT customer_id) FROM play_entries WHERE play_id = ? GROUP BY 1",
        [PLAY],
    ).fetchall()
    con.close()
    for arm, n in entered:
        a = t if arm == "treatment" else h
        assert a.entered + a.pending + a.already_reached == n


def test_pending_entries_are_never_failures(acted: Workspace) -> None:
    """Judged a few days into the log, entries whose 7-day window is open are pending."""
    early = _prove(acted, now=START + timedelta(days=20)).get(PLAY)
    late = _prove(acted).get(PLAY)
    assert early.treatment.pending > 0
    assert (
        early.treatment.entered + early.treatment.pending
        <= late.treatment.entered + late.treatment.pending
    )
    # No failure is counted before its window closed: failures early <= failures late.
    assert (
        early.treatment.entered - early.treatment.reached
        <= late.treatment.entered - late.treatment.reached
    )


def test_tampered_arms_fire_the_sample_ratio_check(acted: Workspace, tmp_path: Path) -> None:
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(acted.root, copy)
    con = duckdb.connect(str(copy / acted.database.name))
    # Someone "rescued" a third of the treatment by moving it to the holdout.
    con.execute(
        "UPDATE play_entries SET arm = 'holdout' WHERE play_id = ? AND arm = 'treatment' "
        "AND hash(customer_id) % 3 = 0",
        [PLAY],
    )
    con.close()
    from journeykit.workspace import open_workspace

    r = _prove(open_workspace(copy)).get(PLAY)
    assert r.srm_p_value is not None and r.srm_p_value < 0.001
    assert r.verdict is None and "sample-ratio mismatch" in r.reason
