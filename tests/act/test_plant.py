"""The simulator's planted effect: only the treatment arm gets it, about as large as asked."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pyarrow as pa
import pytest
from click.testing import CliRunner

from journeykit.act import arm_of
from journeykit.act.plant import PlantedEffect, _entries, parse_effect, plant_effects
from journeykit.cli import cli
from journeykit.events.simulate import SimulationOptions, simulate
from journeykit.journey import parse_journey
from journeykit.journey.templates import template_text

SAAS = parse_journey(template_text("saas-trial"))
EVERY = timedelta(days=4)  # a daily replay is the default; every 4 days keeps the test short


def _keys(table: pa.Table) -> set[tuple[object, ...]]:
    return set(zip(*(table.column(c).to_pylist() for c in table.column_names), strict=True))


def test_planted_goal_events_go_to_the_treatment_arm_only() -> None:
    base = simulate(SAAS, SimulationOptions(1_000, seed=4))
    effect = PlantedEffect("first_board_nudge", lift=0.5)
    planted, added = plant_effects(base, SAAS, [effect], seed=4, every=EVERY)
    extra = _keys(planted) - _keys(base)
    assert added == {"first_board_nudge": len(extra)} and len(extra) > 10
    entered = _entries(base, SAAS, "first_board_nudge", EVERY)
    for customer, event, *_ in extra:
        assert event == "board_created"
        assert customer in entered
        assert arm_of(SAAS.id, "first_board_nudge", str(customer), 0.1) == "treatment"
    treated = [c for c in entered if arm_of(SAAS.id, "first_board_nudge", c, 0.1) == "treatment"]
    # About half of the treated who would not have built a board now do (some fall after the
    # log's end): between a quarter and all of them.
    assert len(treated) * 0.5 * 0.25 < len(extra) <= len(treated)
    again, _ = plant_effects(base, SAAS, [effect], seed=4, every=EVERY)
    assert again.equals(planted)  # deterministic


def test_effect_option_parses_and_names_bad_input(tmp_path: Path) -> None:
    assert parse_effect("trial_winback=0.1,0.5") == PlantedEffect("trial_winback", 0.1, 0.5)
    journey = tmp_path / "j.yaml"
    journey.write_text(template_text("saas-trial"), encoding="utf-8")
    args = [
        "simulate",
        str(journey),
        "--customers",
        "30",
        "--days",
        "30",
        "-o",
        str(tmp_path / "e.csv"),
    ]
    bad = CliRunner().invoke(cli, [*args, "--effect", "first_board_nudge=1.5"])
    assert bad.exit_code == 1 and "--effect: expected PLAY=LIFT[,SOONER]" in bad.output
    unknown = CliRunner().invoke(cli, [*args, "--effect", "nudge=0.1"])
    assert unknown.exit_code == 1 and "unknown play 'nudge'" in unknown.output
    ok = CliRunner().invoke(cli, [*args, "--effect", "trial_winback=0.3"])
    assert ok.exit_code == 0, ok.output
    assert "goal events planted for the treatment arm: trial_winback" in ok.output


@pytest.mark.parametrize("text", ["x", "p=", "p=0.1,0", "p=0.1,2", "p=a"])
def test_bad_effects(text: str) -> None:
    with pytest.raises(Exception, match="--effect"):
        parse_effect(text)
