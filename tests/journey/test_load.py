"""Every way a journey file can be wrong gives a message that names the line, field and fix."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from textwrap import dedent

import pytest

from journeykit import JourneyFileError, load_journey, parse_journey
from journeykit.journey import Journey

MINIMAL = """\
id: tiny
title: Tiny
transformation: {from: "A", to: "B"}
milestones:
  - id: signed_up
    title: Signed up
    phase: pre
    when: signed_up
  - id: bought
    title: Bought
    phase: core
    when: {event: order, value: {gt: 0}}
"""


def error_of(text: str, name: str = "j.yaml") -> str:
    with pytest.raises(JourneyFileError) as info:
        parse_journey(dedent(text), name)
    return str(info.value)


def test_minimal_journey_gets_defaults() -> None:
    j = parse_journey(MINIMAL)
    assert [s.id for s in j.stages][:3] == ["acquire", "nurture", "convert"] and len(j.stages) == 9
    assert j.milestones[0].moment == "neutral" and j.milestones[0].kind == "custom"
    assert j.path().milestone_ids == ("signed_up", "bought")
    assert j.milestones[1].is_purchase and not j.milestones[0].is_purchase
    assert j.milestones[1].when is not None and j.milestones[1].when.value is not None
    assert j.milestones[1].when.value.gt == 0


@pytest.mark.parametrize(
    "text,expected",
    [
        ("id: [unclosed\n", "j.yaml:2: not valid YAML"),
        (
            "",
            "j.yaml:1: expected a mapping of journey fields (id, title, milestones, ...), got an empty file",
        ),
        (
            "- a\n- b\n",
            "j.yaml:1: expected a mapping of journey fields (id, title, milestones, ...), got a CommentedSeq",
        ),
        ("id: a\nid: b\n", 'j.yaml:2: not valid YAML: found duplicate key "id"'),
    ],
    ids=["syntax", "empty", "list", "duplicate-key"],
)
def test_file_level_errors(text: str, expected: str) -> None:
    assert error_of(text).startswith(expected)


def test_not_utf8(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_bytes(b"id: caf\xe9\n")
    with pytest.raises(JourneyFileError, match=r"bad.yaml: not UTF-8 text \(byte 7\)"):
        load_journey(bad)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(JourneyFileError, match=r"missing\.yaml: cannot read: No such file"):
        load_journey(tmp_path / "missing.yaml")


def _with(old: str, new: str) -> str:
    assert old in MINIMAL
    return MINIMAL.replace(old, new, 1)


FIELD_ERRORS = [
    (
        "unknown-top-key",
        _with("title: Tiny", "title: Tiny\nmilestone: []"),
        "j.yaml:3: milestone: unknown key; did you mean 'milestones'?",
    ),
    (
        "unknown-nested-key",
        _with("    phase: pre", "    phase: pre\n    momnet: celebrate"),
        "j.yaml:8: milestones[0].momnet: unknown key; did you mean 'moment'?",
    ),
    (
        "missing-field",
        _with("    title: Signed up\n", ""),
        "j.yaml:5: milestones[0].title: required, but missing",
    ),
    (
        "missing-top",
        MINIMAL.replace('transformation: {from: "A", to: "B"}\n', ""),
        "j.yaml: transformation: required, but missing",
    ),
    (
        "literal",
        _with("phase: pre", "phase: before"),
        "j.yaml:7: milestones[0].phase: expected 'pre', 'core' or 'post', got 'before'",
    ),
    (
        "moment",
        _with("phase: pre", "phase: pre\n    moment: happy"),
        "j.yaml:8: milestones[0].moment: expected 'celebrate', 'breakdown' or 'neutral', got 'happy'",
    ),
    (
        "slug",
        _with("id: signed_up", "id: Signed Up"),
        "j.yaml:5: milestones[0].id: expected an id of lowercase letters, digits, '_' or '-' "
        "(such as 'free_trial'), got 'Signed Up'",
    ),
    (
        "empty-title",
        _with("title: Tiny", 'title: ""'),
        "j.yaml:2: title: expected some text, got an empty string",
    ),
    (
        "no-milestones",
        MINIMAL.split("milestones:")[0] + "milestones: []\n",
        "j.yaml:4: milestones: expected at least 1 item(s), got none",
    ),
    (
        "duration",
        _with("    when: signed_up", "    when: signed_up\n    expected_within: 14"),
        "j.yaml:9: milestones[0].expected_within: expected a duration such as '14d', '36h', '2w' "
        "or '1d12h', got 14",
    ),
    (
        "duration-text",
        _with("    when: signed_up", "    when: signed_up\n    expected_within: soon"),
        "j.yaml:9: milestones[0].expected_within: expected a duration such as '14d', '36h', '2w' "
        "or '1d12h', got 'soon'",
    ),
    (
        "empty-rule",
        _with("when: signed_up", "when: {}"),
        "j.yaml:8: milestones[0].when: a rule needs at least one of: event, properties, value, any",
    ),
    (
        "blank-event",
        _with("when: signed_up", 'when: ""'),
        "j.yaml:8: milestones[0].when.event: expected one or more non-empty event names",
    ),
    (
        "rule-key",
        _with("when: signed_up", "when: {evnt: signed_up}"),
        "j.yaml:8: milestones[0].when.evnt: unknown key; did you mean 'event'?",
    ),
    (
        "empty-condition",
        _with("value: {gt: 0}", "value: {}"),
        "j.yaml:12: milestones[1].when.value: a condition needs an operator: eq, ne, in, not_in, "
        "gt, gte, lt, lte or exists",
    ),
    (
        "condition-op",
        _with("value: {gt: 0}", "value: {greater: 0}"),
        "j.yaml:12: milestones[1].when.value.greater: unknown key; did you mean 'gte'?",
    ),
    (
        "condition-type",
        _with("value: {gt: 0}", "value: {gt: lots}"),
        "j.yaml:12: milestones[1].when.value.gt: input should be a valid number, unable to parse "
        "string as a number, got 'lots'",
    ),
]


@pytest.mark.parametrize(
    "text,expected", [c[1:] for c in FIELD_ERRORS], ids=[c[0] for c in FIELD_ERRORS]
)
def test_field_errors_name_line_and_field(text: str, expected: str) -> None:
    assert error_of(text) == expected


REFERENCE_ERRORS = [
    (
        "duplicate-id",
        _with("id: bought", "id: signed_up"),
        "j.yaml:9: milestones[1].id: id 'signed_up' is used twice in milestones",
    ),
    (
        "no-core",
        _with("phase: core", "phase: post"),
        "j.yaml:4: milestones: expected at least one milestone with phase 'core' (the core offer)",
    ),
    (
        "unknown-stage",
        _with("phase: pre", "phase: pre\n    stage: nuture"),
        "j.yaml:8: milestones[0].stage: unknown stage 'nuture'; did you mean 'nurture'?",
    ),
    (
        "path-step",
        MINIMAL + "paths:\n  - id: p\n    steps: [signed_up, bougth]\n",
        "j.yaml:15: paths[0].steps[1]: unknown milestone 'bougth'; did you mean 'bought'?",
    ),
    (
        "path-twice",
        MINIMAL + "paths:\n  - id: p\n    steps: [signed_up, bought, signed_up]\n",
        "j.yaml:15: paths[0].steps[2]: milestone 'signed_up' is listed twice in path 'p'",
    ),
    (
        "path-optional-first",
        MINIMAL + "paths:\n  - id: p\n    steps:\n      - {milestone: signed_up, optional: true}\n"
        "      - bought\n",
        "j.yaml:16: paths[0].steps[0]: the first step of a path cannot be optional",
    ),
    (
        "touchpoint",
        MINIMAL + "touchpoints:\n  - {from: signedup, to: bought, channel: email, action: Nudge}\n",
        "j.yaml:14: touchpoints[0].from: unknown milestone 'signedup'; did you mean 'signed_up'?",
    ),
    (
        "community-milestone",
        MINIMAL + "community:\n  purpose: P\n  role: R\n  milestones: [joined]\n",
        "j.yaml:16: community.milestones[0]: unknown milestone 'joined'",
    ),
    (
        "north-star",
        MINIMAL + "community:\n  purpose: P\n  role: R\n  north_star: "
        "{milestone: bougt, target: 0.5}\n",
        "j.yaml:16: community.north_star.milestone: unknown milestone 'bougt'; did you mean 'bought'?",
    ),
]


@pytest.mark.parametrize(
    "text,expected", [c[1:] for c in REFERENCE_ERRORS], ids=[c[0] for c in REFERENCE_ERRORS]
)
def test_reference_errors_name_line_and_field(text: str, expected: str) -> None:
    assert error_of(text) == expected


def test_all_problems_are_reported_at_once() -> None:
    text = _with("phase: pre", "phase: before").replace("phase: core", "phase: middle")
    lines = error_of(text).splitlines()
    assert [line.split(":")[1] for line in lines] == ["7", "11"]


def test_programmatic_journey_is_checked_too() -> None:
    data = parse_journey(MINIMAL).model_dump(by_alias=True)
    data["paths"] = [{"id": "p", "steps": ["signed_up", "nope"]}]
    with pytest.raises(ValueError, match=r"paths\[0\]\.steps\[1\]: unknown milestone 'nope'"):
        Journey.model_validate(data)


def test_shorthands_mean_the_long_forms() -> None:
    j = parse_journey(
        _with("when: signed_up", "when: [signed_up, registered]")
        + "paths:\n  - id: p\n    steps: [signed_up, {milestone: bought, within: 2w}]\n"
    )
    rule = j.milestones[0].when
    assert rule is not None and rule.event == ("signed_up", "registered")
    step = j.paths[0].steps[1]
    assert step.milestone == "bought" and step.within == timedelta(days=14)


def test_property_condition_shorthands() -> None:
    text = _with(
        "when: {event: order, value: {gt: 0}}",
        "when: {event: order, properties: {plan: pro, seats: [1, 2], n: {gte: 3}}}",
    )
    rule = parse_journey(text).milestones[1].when
    assert rule is not None
    assert rule.properties["plan"].eq == "pro"
    assert rule.properties["seats"].in_ == (1, 2)
    assert rule.properties["n"].gte == 3


def test_an_anchored_boolean_is_a_boolean() -> None:
    """ruamel reads `&name true` as its own int subclass: a rule must still compare it as
    true, not as the number 1 (which JSON tells apart from true)."""
    text = _with(
        "when: {event: order, value: {gt: 0}}",
        "when: {event: order, properties: {first: &yes true, trial: *yes, gift: false}}",
    )
    rule = parse_journey(text).milestones[1].when
    assert rule is not None
    for key, want in (("first", True), ("trial", True), ("gift", False)):
        got = rule.properties[key].eq
        assert got is want, (key, got)
