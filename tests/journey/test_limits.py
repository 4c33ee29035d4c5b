"""Issue 23: a journey text cannot make validation (or what follows) expand without bound."""

from __future__ import annotations

import time
import tracemalloc

import pytest

from journeykit import JourneyFileError, parse_journey
from journeykit.journey.limits import MAX_DEPTH, MAX_RULE_NODES
from tests.journey.test_load import MINIMAL


def alias_fan_out(levels: int, fan: int = 10) -> str:
    """The measured attack: each milestone's rule is `any` of ten aliases of the one before."""
    lines = ["id: x", "title: X", "transformation: {from: a, to: b}", "milestones:",
             "  - {id: m0, title: M, phase: core, when: &r0 {event: x}}"]  # fmt: skip
    for i in range(1, levels + 1):
        refs = ", ".join([f"*r{i - 1}"] * fan)
        lines.append(f"  - {{id: m{i}, title: M, phase: pre, when: &r{i} {{any: [{refs}]}}}}")
    return "\n".join(lines) + "\n"


def refused(text: str) -> tuple[str, float, int]:
    """The message, the seconds and the peak bytes it took to refuse ``text``."""
    tracemalloc.start()
    start = time.perf_counter()
    with pytest.raises(JourneyFileError) as info:
        parse_journey(text, "j.yaml")
    seconds = time.perf_counter() - start
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return str(info.value), seconds, peak


@pytest.mark.parametrize("levels", [4, 7])
def test_alias_fan_out_is_refused_before_any_model_is_built(levels: int) -> None:
    message, seconds, peak = refused(alias_fan_out(levels))  # 7 levels took 210 s and 7 GB
    limit = f"at most {MAX_RULE_NODES:,}"
    assert message == f"j.yaml:8: milestones[3].when: the rule expands to 3,333 terms ({limit})"
    assert seconds < 2 and peak < 20_000_000


def test_a_rule_within_the_limit_still_loads() -> None:
    journey = parse_journey(alias_fan_out(2), "j.yaml")  # 10 x 10: 111 maps, 100 events
    assert len(journey.milestones) == 3


def test_many_aliases_outside_rules_are_counted_too() -> None:
    text = MINIMAL + "description: &d [" + ", ".join(["x"] * 200) + "]\n"
    text += "personas:\n" + "".join(f"  - {{id: p{i}, name: P, fears: *d}}\n" for i in range(120))
    message, seconds, _ = refused(text)
    assert "expands to more than 20,000 values (aliases counted)" in message
    assert seconds < 2


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("[" * 1000 + "x" + "]" * 1000, 5),  # RecursionError before, after 7 s of parsing
        ("{any: [" * 1000 + "{event: x}" + "]}" * 1000, 5),
        ("{any: [" * 40 + "{event: x}" + "]}" * 40, 5),
    ],
)
def test_deep_nesting_is_refused_with_its_line(text: str, line: int) -> None:
    message, seconds, _ = refused(MINIMAL.replace("when: signed_up", f"when: {text}"))
    assert f"j.yaml:{line + 3}: not valid YAML: nested more than {MAX_DEPTH} levels deep" in message
    assert seconds < 2


@pytest.mark.parametrize(
    "deep",
    [
        "".join(" " * i + "a:\n" for i in range(400)) + " " * 400 + "x\n",  # RecursionError
        "- " * 400 + "x\n",
    ],
)
def test_deep_block_nesting_is_refused_with_its_line(deep: str) -> None:
    message, seconds, _ = refused(deep)
    assert "not valid YAML: nested more than 32 levels deep" in message and seconds < 2


def test_a_huge_text_is_refused_before_it_is_read() -> None:
    message, seconds, _ = refused(MINIMAL + "#" * 300_000)
    assert message == "j.yaml: 293 KB is more than a journey may be (256 KB)" and seconds < 2


def test_block_text_and_long_lists_are_not_nesting() -> None:
    text = MINIMAL + "description: |\n" + "".join(" " * (i + 2) + "x\n" for i in range(60))
    assert parse_journey(text).description is not None


def test_quotes_and_comments_do_not_count_as_nesting() -> None:
    text = MINIMAL.replace("title: Tiny", "title: 'it''s [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[' # [")
    assert parse_journey(text + "# " + "[" * 50 + "\n").title.startswith("it's")


def test_a_duplicate_key_names_the_key_without_expanding_its_aliases() -> None:
    """Found by the fuzzer: the YAML reader's message printed both values, aliases expanded
    (a 180 MB string and 26 s for a few lines)."""
    fan = "&f0 {event: x}"
    for i in range(1, 10):
        fan = f"&f{i} {{any: [{fan}" + f", *f{i - 1}" * 5 + "]}"
    message, seconds, peak = refused(MINIMAL + f"description: {fan}\ndescription: again\n")
    assert message == 'j.yaml:14: not valid YAML: found duplicate key "description"'
    assert seconds < 2 and peak < 20_000_000
