"""Plays in the journey file: loaded, checked at their line, linted; the lapse horizon designed."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from journeykit import JourneyFileError, lint, load_journey, parse_journey
from journeykit.journey.templates import template_names, template_text

SAAS = template_text("saas-trial")


def _broken(tmp_path: Path, old: str, new: str) -> str:
    text = SAAS.replace(old, new, 1)
    assert text != SAAS
    path = tmp_path / "saas-trial.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(JourneyFileError) as info:
        load_journey(path)
    return str(info.value)


def _line(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


@pytest.mark.parametrize("name", template_names())
def test_every_template_designs_stuck_strayed_or_lapsed_and_grow_plays(name: str) -> None:
    j = parse_journey(template_text(name))
    statuses = {p.who.status for p in j.plays}
    assert "stuck" in statuses and "on_track" in statuses
    assert statuses & {"strayed", "lapsed"}
    assert all(p.message and 0 < p.holdout < 1 for p in j.plays)


def test_a_play_reads_with_its_defaults() -> None:
    j = parse_journey(SAAS)
    play = j.plays[1]
    assert play.id == "invite_the_team"
    assert play.who.after == timedelta(days=2)
    assert play.goal.milestone is None and play.goal.within is None  # the next step, its window
    assert play.holdout == 0.1 and play.cooldown == timedelta(days=30)


def test_unknown_placeholder_names_the_play_field_and_line(tmp_path: Path) -> None:
    msg = _broken(tmp_path, "Invite your team so", "Invite your {tema} so")
    line = _line(SAAS, "Invite your team so")
    assert msg.startswith(f"saas-trial.yaml:{line}: plays[1].message")
    assert "unknown placeholder {tema}" in msg and "{name}" in msg


@pytest.mark.parametrize(
    ("old", "new", "field", "says"),
    [
        ("milestone: signed_up, persona", "milestone: signed_upp, persona", "plays[0].who.milestone",
         "unknown milestone 'signed_upp'; did you mean 'signed_up'?"),
        ("persona: team_lead}", "persona: team_leed}", "plays[0].who.persona", "unknown persona"),
        ("{milestone: upgraded, within: 60d}", "{milestone: upgrade, within: 60d}",
         "plays[4].goal.milestone", "unknown milestone 'upgrade'"),
        ("touchpoint: {from: first_board, to: invited_team}",
         "touchpoint: {from: first_board, to: subscribed}", "plays[1].touchpoint",
         "no designed touchpoint from 'first_board' to 'subscribed'"),
        ("holdout: 0.2\n", "holdout: 1.5\n", "plays[2].holdout", "less than 1"),
        ("milestone: first_board, after: 2d", "milestone: renewed, after: 2d",
         "plays[1].who.milestone", "last step"),
        ("{status: lapsed, path: team}", "{status: lapsed, path: team, after: 3d}", "plays[2].who",
         "'after' is for stuck plays"),
        ("{status: strayed, path: team, stray: skipped}", "{status: strayed, path: team, "
         "stray: sideways}", "plays[3].who.stray", "'skipped'"),
    ],
)  # fmt: skip
def test_bad_play_names_its_field(
    tmp_path: Path, old: str, new: str, field: str, says: str
) -> None:
    msg = _broken(tmp_path, old, new)
    assert f": {field}" in msg and says in msg, msg
    assert msg.startswith("saas-trial.yaml:")


def test_holdout_of_zero_is_allowed_but_linted() -> None:
    j = parse_journey(SAAS.replace("holdout: 0.2\n", "holdout: 0\n", 1))
    (w,) = lint(j)
    assert w.field == "plays[2].holdout" and "never be proved" in w.message


def test_lapse_horizon_is_designed_or_derived_from_the_windows() -> None:
    assert parse_journey(SAAS).lapse_horizon == timedelta(days=30)
    # Twice the longest designed window up to the core offer, within 14..90 days.
    assert parse_journey(template_text("coding-course")).lapse_horizon == timedelta(days=42)
    assert parse_journey(template_text("fitness-studio")).lapse_horizon == timedelta(days=20)
    derived = parse_journey(SAAS.replace("lapsed_after: 30d\n", ""))
    assert derived.lapse_horizon == timedelta(days=42)


def test_lapse_horizon_longer_than_the_whole_path_is_linted() -> None:
    j = parse_journey(SAAS.replace("lapsed_after: 30d", "lapsed_after: 600d"))
    (w,) = lint(j)
    assert w.field == "lapsed_after" and "(506d)" in w.message and w.line == 13
