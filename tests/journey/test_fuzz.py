"""Fuzzing journey files (issue 23): any text is a journey or a JourneyFileError, quickly.

Budget, per text: 2 s of wall time to read and validate it (and lint it when valid), and the
process's peak memory may not grow by more than 256 MB over the whole run (the alias attack
took 7 GB). tracemalloc would measure each text alone but makes the YAML reader 50x slower. The texts are YAML built from
journey keys and tricky scalars, with anchors and aliases, fan-outs of aliases and nesting up
to 2,000 levels, placed where a rule, a persona or the whole document would be. Fixed seed
(derandomized), a few seconds in all.
"""

from __future__ import annotations

import json
import resource
import time
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from journeykit import JourneyFileError, lint, parse_journey
from journeykit.journey.templates import template_text

SECONDS, GROWTH_KB = 2.0, 256 * 1024


def peak_kb() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KB on Linux


KEYS = ["id", "title", "when", "event", "any", "all", "not", "properties", "value", "in", "gte",
        "milestones", "phase", "paths", "steps", "personas", "segment", "expected_within", "<<",
        "kind", "stage", "moment", "touchpoints", "community", "transformation", "from", "to"]  # fmt: skip
SCALARS = ["x", "", "~", "null", "true", "1e309", "-.inf", ".nan", "2024-01-01", "0x1F", "14d",
           "12345678901234567890", "'it''s'", '"a\\0b"', "!!python/object:os.system x",
           "!!binary AAAA", "!!str 1", "core", "pre", "signed_up", "'{'", '"]"', "-1d"]  # fmt: skip


class Tree:
    """A random YAML value with anchors on some containers and aliases back to them."""

    def __init__(self, draw: Any) -> None:
        self.draw, self.anchors = draw, 0

    def node(self, depth: int) -> str:
        kind = self.draw(st.sampled_from(["scalar", "text", "alias", "list", "map", "map"]))
        if depth > 6 or kind == "scalar":
            return self.draw(st.sampled_from(SCALARS))
        if kind == "text":
            return json.dumps(self.draw(st.text(max_size=8)))  # a double-quoted YAML scalar
        if kind == "alias":
            return f"*a{self.draw(st.integers(0, self.anchors - 1))}" if self.anchors else "x"
        size = self.draw(st.integers(0, 4))
        if kind == "list":
            body = "[" + ", ".join(self.node(depth + 1) for _ in range(size)) + "]"
        else:
            keys = [self.draw(st.sampled_from(KEYS)) for _ in range(size)]
            body = "{" + ", ".join(f"{k}: {self.node(depth + 1)}" for k in keys) + "}"
        if self.draw(st.booleans()):
            self.anchors += 1
            return f"&a{self.anchors - 1} {body}"
        return body


@st.composite
def fragments(draw: Any) -> str:
    """A YAML value: a random tree, an alias fan-out, or a deep nest."""
    shape = draw(st.sampled_from(["tree", "tree", "fan", "deep"]))
    if shape == "tree":
        return Tree(draw).node(0)
    if shape == "fan":
        levels, fan = draw(st.integers(1, 9)), draw(st.integers(1, 12))
        text = "&f0 {event: x}"
        for i in range(1, levels + 1):
            text = f"&f{i} {{any: [{text}" + f", *f{i - 1}" * (fan - 1) + "]}"
        return text + "\n"
    depth = draw(st.integers(0, 2000))
    opener, closer = draw(st.sampled_from([("[", "]"), ("{any: [", "]}"), ("{a: ", "}")]))
    return opener * depth + "x" + closer * depth


@st.composite
def journey_texts(draw: Any) -> str:
    """A fragment as a milestone's rule, a persona list, a key's value or the whole text."""
    base = template_text("saas-trial")
    where = draw(st.sampled_from(["rule", "personas", "extra", "whole"]))
    fragment = draw(fragments()).strip().replace("\n", " ")
    if where == "rule":
        return base.replace("when: {event: board_created}", f"when: {fragment}", 1)
    if where == "personas":
        return base.replace("personas:", f"personas: {fragment}\nold_personas:", 1)
    if where == "extra":
        return base + f"description: {fragment}\n"
    return fragment + "\n"


@pytest.fixture
def start_kb() -> int:
    """The process's peak memory when the test starts (other tests ran before it)."""
    return peak_kb()


def within_budget(text: str, start_kb: int) -> str:
    """What became of ``text`` ("valid" or the first problem), checked against the budget."""
    start = time.perf_counter()
    try:
        journey = parse_journey(text, "fuzz.yaml")
        lint(journey)
        outcome = "valid"
    except JourneyFileError as exc:
        outcome = str(exc).splitlines()[0]
    seconds = time.perf_counter() - start
    assert seconds < SECONDS, (seconds, text[:200])
    assert peak_kb() - start_kb < GROWTH_KB, (peak_kb() - start_kb, text[:200])
    return outcome


@settings(max_examples=80, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                 HealthCheck.function_scoped_fixture])  # fmt: skip
@given(text=journey_texts())
def test_any_journey_text_is_a_journey_or_a_message_within_budget(text: str, start_kb: int) -> None:
    within_budget(text, start_kb)


def test_the_fuzzer_reaches_the_limits_and_valid_journeys(start_kb: int) -> None:
    """The generator is not vacuous: it makes valid journeys and texts each limit refuses."""
    seen = {within_budget(t, start_kb) for t in (
        template_text("saas-trial"),
        "a: " + "[" * 2000 + "x" + "]" * 2000,
        template_text("saas-trial").replace(
            "when: {event: board_created}", "when: &f0 {event: x}", 1
        ) + "description: " + "[*f0, " * 30 + "x" + "]" * 30,
    )}  # fmt: skip
    assert "valid" in seen and any("nested more than" in s for s in seen)
