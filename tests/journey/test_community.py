"""The community section: purpose apart from roles, north stars on the data, activity weights."""

from __future__ import annotations

from datetime import timedelta

import pytest

from journeykit import JourneyFileError, parse_journey
from journeykit.journey.catalog import community_objectives
from journeykit.journey.schema import ObjectiveId
from tests.journey.test_load import MINIMAL

FULL = (
    MINIMAL
    + """\
  - id: posted
    title: Posted
    phase: post
    when: forum_post
community:
  purpose: "We help each other ship"   # why members belong
  roles:
    - objective: success
      description: Members finish
      north_star:
        metric: median_days_to
        milestone: bought
        among: signed_up
        within: 30d
        target: 3
        direction: down
    - objective: acquisition
      north_star: {metric: per_customer, milestone: bought, target: 0.4}
  milestones: [posted]
  activity: {posted: 2, signed_up: 0.5}
  levels: {by: threshold, advocates: 10, contributors: 3, inactive_after: 30d}
"""
)


def error_of(text: str) -> str:
    with pytest.raises(JourneyFileError) as info:
        parse_journey(text, "j.yaml")
    return str(info.value)


def test_full_form_reads_every_field() -> None:
    c = parse_journey(FULL).community
    assert c is not None and c.purpose == "We help each other ship"
    assert [r.objective for r in c.all_roles] == ["success", "acquisition"]
    first = c.roles[0].north_star
    assert first is not None and first.metric == "median_days_to" and first.among == "signed_up"
    assert first.within == timedelta(days=30) and first.direction == "down"
    assert [ns.metric for ns in c.north_stars] == ["median_days_to", "per_customer"]
    assert c.activity == {"posted": 2.0, "signed_up": 0.5}
    assert c.activity_milestones == ("posted", "signed_up")
    assert c.levels is not None and c.levels.by == "threshold" and c.levels.advocates == 10
    assert c.levels.inactive_after == timedelta(days=30) and c.levels.period == "month"


def test_short_form_is_one_role_and_is_written_back_as_written() -> None:
    text = MINIMAL + (
        "community:\n  purpose: P\n  role: R   # in words\n  milestones: [signed_up]\n"
        "  north_star: {milestone: bought, target: 0.5}\n"
    )
    j = parse_journey(text)
    assert j.community is not None
    (role,) = j.community.all_roles
    assert role.objective is None and role.description == "R"
    assert role.north_star is not None and role.north_star.milestone == "bought"
    assert j.community.activity_milestones == ("signed_up",)  # no weights: the markers count
    assert j.to_yaml() == text
    assert parse_journey(j.to_yaml()) == j


def test_full_form_round_trips_with_comments() -> None:
    j = parse_journey(FULL)
    assert j.to_yaml() == FULL


def test_catalog_names_every_objective_the_schema_allows() -> None:
    assert sorted(community_objectives()) == sorted(ObjectiveId.__args__)
    assert community_objectives()["acquisition"].suggested_metric == "per_customer"


def _community(body: str) -> str:
    return MINIMAL + "community:\n  purpose: P\n" + body


ERRORS = [
    ("no-role", _community(""), "j.yaml:13: community: expected 'roles' (each with an "
     "objective and a north star) or 'role' (the role in words)"),
    ("both-forms", _community("  role: R\n  roles:\n    - objective: support\n"),
     "j.yaml:13: community: give either 'roles' (a list) or the short form 'role' with "
     "'north_star', not both"),
    ("objective", _community("  roles:\n    - objective: suport\n"),
     "j.yaml:16: community.roles[0].objective: expected 'support', 'product_feedback', "
     "'acquisition', 'contribution', 'engagement' or 'success', got 'suport'"),
    ("objective-missing", _community("  roles:\n    - description: D\n"),
     "j.yaml:16: community.roles[0].objective: required, but missing (one of: support, "
     "product_feedback, acquisition, contribution, engagement, success)"),
    ("metric", _community("  roles:\n    - objective: support\n      north_star: "
                          "{milestone: bought, metric: mean, target: 1}\n"),
     "j.yaml:17: community.roles[0].north_star.metric: expected 'share_reaching', "
     "'repeat_rate', 'per_customer' or 'median_days_to', got 'mean'"),
    ("among", _community("  roles:\n    - objective: support\n      north_star:\n"
                         "        milestone: bought\n        among: signed\n        target: 0.5\n"),
     "j.yaml:19: community.roles[0].north_star.among: unknown milestone 'signed'; "
     "did you mean 'signed_up'?"),
    ("share-target", _community("  roles:\n    - objective: support\n      north_star:\n"
                                "        milestone: bought\n        target: 5\n"),
     "j.yaml:17: community.roles[0].north_star: a share_reaching target is a share from 0 "
     "to 1, got 5.0"),
    ("within", _community("  roles:\n    - objective: success\n      north_star: "
                          "{milestone: bought, within: soon, target: 0.5}\n"),
     "j.yaml:17: community.roles[0].north_star.within: expected a duration such as '14d', "
     "'36h', '2w' or '1d12h', got 'soon'"),
    ("activity-unknown", _community("  role: R\n  activity:\n    signed_up: 1\n    bougt: 2\n"),
     "j.yaml:18: community.activity.bougt: unknown milestone 'bougt'; did you mean 'bought'?"),
    ("activity-weight", _community("  role: R\n  activity:\n    signed_up: 0\n"),
     "j.yaml:17: community.activity.signed_up: input should be greater than 0, got 0"),
    ("levels-order", _community("  role: R\n  levels:\n    by: threshold\n    advocates: 2\n"
                                "    contributors: 5\n"),
     "j.yaml:16: community.levels: expected advocates > contributors, got 2.0 <= 5.0"),
    ("levels-mode", _community("  role: R\n  levels: {advocates: 2}\n"),
     "j.yaml:16: community.levels: advocates and contributors thresholds need 'by: threshold'"),
    ("levels-incomplete", _community("  role: R\n  levels: {by: threshold, advocates: 2}\n"),
     "j.yaml:16: community.levels: 'by: threshold' needs both advocates and contributors "
     "(least love)"),
    ("north-star-is-a-marker",
     _community("  role: R\n  milestones: [bought]\n  north_star: {milestone: bought, target: 1}\n"),
     "j.yaml:17: community.north_star.milestone: 'bought' marks community participation; the "
     "north star measures what the community does for the business, so it needs another "
     "milestone"),
]  # fmt: skip


@pytest.mark.parametrize("text,expected", [e[1:] for e in ERRORS], ids=[e[0] for e in ERRORS])
def test_community_errors_name_line_and_field(text: str, expected: str) -> None:
    assert error_of(text) == expected
