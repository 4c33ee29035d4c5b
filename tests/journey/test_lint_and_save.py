"""Design lints point at their line; saving keeps what the person wrote."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from journeykit import lint, load_journey, parse_journey
from journeykit.errors import DurationError
from journeykit.journey.durations import format_duration, parse_duration
from tests.journey.test_load import MINIMAL


def test_minimal_journey_lints() -> None:
    rendered = [p.render("j.yaml") for p in lint(parse_journey(MINIMAL, "j.yaml"))]
    assert rendered[0] == (
        "j.yaml:4: milestones: no post-purchase milestone: the purchase is the fulcrum, not the end "
        "(add a survey, repeat purchase, testimonial, referral, upsell or renewal)"
    )
    assert rendered[1:] == [
        "j.yaml:4: milestones: no milestone names a lifecycle stage, so no stage is covered"
    ]
    staged = parse_journey(MINIMAL.replace("phase: pre", "phase: pre\n    stage: acquire"))
    # Default stages are not in the file, so they have no line.
    assert [p.render("j.yaml") for p in lint(staged)][1:3] == [
        "j.yaml: stages[1]: lifecycle stage 'nurture' has no milestone",
        "j.yaml: stages[2]: lifecycle stage 'convert' has no milestone",
    ]


def test_lints_for_rules_kinds_and_phase_order() -> None:
    text = MINIMAL.replace("    when: signed_up\n", "    kind: referral\n") + (
        "  - id: reviewed\n    title: Reviewed\n    phase: post\n    when: review\n"
        "paths:\n  - id: p\n    steps: [signed_up, reviewed, bought]\n"
    )
    rendered = [p.render("j.yaml") for p in lint(parse_journey(text, "j.yaml"))]
    assert (
        "j.yaml:5: milestones[0]: milestone 'signed_up' has no 'when' rule, so it cannot be "
        "measured" in rendered
    )
    assert (
        "j.yaml:8: milestones[0].kind: kind 'referral' is usually a post milestone, but "
        "'signed_up' is pre" in rendered
    )
    assert (
        "j.yaml:19: paths[0].steps[2]: path 'p' goes back from post to core at 'bought'" in rendered
    )


def test_save_keeps_comments_and_order_exactly(example_path: Path) -> None:
    journey = load_journey(example_path)
    assert journey.to_yaml() == example_path.read_text("utf-8")


def test_save_after_an_edit_changes_only_that(example_path: Path, tmp_path: Path) -> None:
    journey = load_journey(example_path)
    edited = journey.model_copy(update={"title": "A new title"})
    before = example_path.read_text("utf-8").splitlines()
    after = edited.to_yaml().splitlines()
    changed = [(a, b) for a, b in zip(before, after, strict=True) if a != b]
    assert changed == [(f"title: {journey.title}", "title: A new title")]
    again = tmp_path / "again.yaml"
    again.write_text(edited.to_yaml(), encoding="utf-8")
    assert load_journey(again).model_dump() == edited.model_dump()


def test_unsourced_journey_round_trips() -> None:
    original = parse_journey(MINIMAL)
    built = original.model_validate(original.model_dump(by_alias=True))
    again = parse_journey(built.to_yaml())
    assert again == built


@pytest.mark.parametrize(
    "text,seconds",
    [
        ("14d", 14 * 86400),
        ("36h", 36 * 3600),
        ("2w", 14 * 86400),
        ("1d12h", 36 * 3600),
        ("90m", 5400),
        ("45s", 45),
        ("1.5h", 5400),
        (" 3D ", 3 * 86400),
    ],
)
def test_durations(text: str, seconds: int) -> None:
    assert parse_duration(text) == timedelta(seconds=seconds)


@pytest.mark.parametrize("bad", ["14", "", "d", "0d", "-3d", "3 days", 14, None])
def test_bad_durations(bad: object) -> None:
    with pytest.raises(DurationError, match=r"expected a duration|longer than zero"):
        parse_duration(bad)  # type: ignore[arg-type]


def test_format_duration_reads_back() -> None:
    for td in (
        timedelta(days=14),
        timedelta(hours=36),
        timedelta(minutes=90),
        timedelta(seconds=7),
    ):
        assert parse_duration(format_duration(td)) == td
    assert format_duration(timedelta(days=14)) == "14d"


PROPOSED = MINIMAL + (
    "  - id: proposed_pricing  # from discover draft\n"
    "    title: Pricing\n"
    "    phase: core\n"
    "    status: proposed\n"
    "    evidence:\n"
    "      - quote: The price is too high  # r12 said it twice\n"
    "        respondent: r12\n"
    "        theme: price-0be49c\n"
    "      - quote: Finance would not pay per seat\n"
)


def test_proposed_milestones_with_evidence_load_lint_and_save_with_comments() -> None:
    import jsonschema
    import yaml

    from journeykit.journey.jsonschema import journey_json_schema

    journey = parse_journey(PROPOSED, "j.yaml")
    m = journey.milestones[2]
    assert (m.status, [e.quote for e in m.evidence]) == (
        "proposed",
        ["The price is too high", "Finance would not pay per seat"],
    )
    assert (m.evidence[0].respondent, m.evidence[1].respondent) == ("r12", None)
    assert journey.milestones[0].status == "accepted"
    rendered = [p.render("j.yaml") for p in lint(journey)]
    assert (
        "j.yaml:16: milestones[2].status: milestone 'proposed_pricing' is proposed (from members' "
        "answers): accept it (status: accepted) or delete it" in rendered
    )
    assert journey.to_yaml() == PROPOSED
    jsonschema.validate(yaml.safe_load(PROPOSED), journey_json_schema())
    accepted = parse_journey(PROPOSED.replace("status: proposed", "status: accepted"))
    assert not any("is proposed" in p.message for p in lint(accepted))


@pytest.mark.parametrize(
    ("old", "new", "where"),
    [
        ("status: proposed", "status: maybe", "milestones[2].status"),
        ("      - quote: Finance would not pay per seat", "      - quote: ''", "evidence[1].quote"),
        ("        theme: price-0be49c", "        who: r1", "evidence[0].who"),
    ],
)
def test_bad_status_or_evidence_is_an_error_at_its_field(old: str, new: str, where: str) -> None:
    from journeykit.errors import JourneykitError

    with pytest.raises(JourneykitError) as info:
        parse_journey(PROPOSED.replace(old, new), "j.yaml")
    assert f"milestones[2].{where.removeprefix('milestones[2].')}" in str(info.value)
