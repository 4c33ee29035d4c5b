"""Every shipped example is a complete, clean journey, and a broken copy points at the break."""

from __future__ import annotations

import re
from pathlib import Path

import jsonschema
import pytest
from ruamel.yaml import YAML

from journeykit import JourneyFileError, lint, load_journey
from journeykit.journey.jsonschema import journey_json_schema, journey_json_schema_text
from journeykit.journey.templates import template_names, template_text
from tests.conftest import EXAMPLES, REPO


def test_there_are_four_examples_and_they_are_the_templates() -> None:
    assert len(EXAMPLES) >= 4
    assert sorted(p.stem for p in EXAMPLES) == template_names()
    for path in EXAMPLES:
        assert path.read_text("utf-8") == template_text(path.stem)


def test_example_is_valid_and_lint_free(example_path: Path) -> None:
    journey = load_journey(example_path)
    assert lint(journey) == []


def test_example_uses_every_section(example_path: Path) -> None:
    j = load_journey(example_path)
    assert j.transformation.from_ and j.transformation.to
    assert j.personas and all(
        p.fears and p.frustrations and p.desires and p.jobs for p in j.personas
    )
    assert all(p.segment is not None for p in j.personas)
    assert {m.phase for m in j.milestones} == {"pre", "core", "post"}
    assert {m.moment for m in j.milestones} >= {"celebrate", "breakdown"}
    assert all(m.when is not None for m in j.milestones)
    assert len(j.paths) >= 2 and any(s.optional for p in j.paths for s in p.steps)
    assert j.touchpoints and j.community and j.community.north_stars and j.community.activity
    assert "stages" in j.model_fields_set


def test_example_validates_against_the_json_schema(example_path: Path) -> None:
    data = YAML(typ="safe").load(example_path.read_text("utf-8"))
    jsonschema.validate(data, journey_json_schema())


def test_json_schema_is_a_valid_schema_and_matches_the_checked_in_copy() -> None:
    schema = journey_json_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    checked_in = REPO / "schema" / "journey.schema.json"
    assert checked_in.read_text("utf-8") == journey_json_schema_text(), (
        "schema/journey.schema.json is out of date: run `journeykit schema -o "
        "schema/journey.schema.json` and commit it"
    )


def test_json_schema_rejects_what_the_model_rejects() -> None:
    data = YAML(typ="safe").load(EXAMPLES[0].read_text("utf-8"))
    data["milestones"][0]["phase"] = "middle"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(data, journey_json_schema())
    data["milestones"][0]["phase"] = "pre"
    data["milestones"][0]["colour"] = "red"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(data, journey_json_schema())


def _first_line(text: str, pattern: str) -> int:
    for number, line in enumerate(text.splitlines(), start=1):
        if re.search(pattern, line):
            return number
    raise AssertionError(pattern)


BREAKS = [
    # (what to find, how to break it, what the message must say)
    (
        r"^\s+phase: core$",
        lambda s: s.replace("phase: core", "phase: centre", 1),
        "expected 'pre', 'core' or 'post'",
    ),
    (
        r"^\s+kind: purchase$",
        lambda s: s.replace("kind: purchase", "kind: purchse", 1),
        "got 'purchse'",
    ),
    (
        r"^\s+expected_within: ",
        lambda s: re.sub(r"expected_within: \w+", "expected_within: soon", s, count=1),
        "expected a duration",
    ),
    (
        r"^\s+title: ",
        lambda s: re.sub(r"(\n\s+)title: ", r"\1titel: ", s, count=1),
        "unknown key; did you mean 'title'?",
    ),
]


@pytest.mark.parametrize("find,brk,message", BREAKS, ids=["phase", "kind", "duration", "key"])
def test_broken_copy_names_the_line_of_the_break(
    example_path: Path, tmp_path: Path, find: str, brk: object, message: str
) -> None:
    text = example_path.read_text("utf-8")
    broken = brk(text)  # type: ignore[operator]
    line = _first_line(
        broken,
        find.replace("core", "centre")
        .replace("purchase$", "purchse$")
        .replace("expected_within: ", "expected_within: soon")
        .replace("title: ", "titel: "),
    )
    copy = tmp_path / example_path.name
    copy.write_text(broken, encoding="utf-8")
    with pytest.raises(JourneyFileError) as info:
        load_journey(copy)
    assert f"{example_path.name}:{line}:" in str(info.value)
    assert message in str(info.value)


def test_broken_path_step_names_its_line(example_path: Path, tmp_path: Path) -> None:
    text = example_path.read_text("utf-8")
    j = load_journey(example_path)
    victim = j.paths[0].steps[1].milestone
    # The second path's block steps use "- id" lines; the first path is a flow list: break that.
    line = _first_line(text, r"^\s+steps: \[")
    broken = text.replace(
        f"[{j.paths[0].steps[0].milestone}, {victim},",
        f"[{j.paths[0].steps[0].milestone}, {victim}x,",
        1,
    )
    assert broken != text
    copy = tmp_path / example_path.name
    copy.write_text(broken, encoding="utf-8")
    with pytest.raises(JourneyFileError) as info:
        load_journey(copy)
    assert str(info.value) == (
        f"{example_path.name}:{line}: paths[0].steps[1]: unknown milestone "
        f"'{victim}x'; did you mean '{victim}'?"
    )
