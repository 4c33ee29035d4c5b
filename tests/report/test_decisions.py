"""The opportunity tree (SVG and Mermaid) and the report's decision sections, drawn from a
hand-made result: a play's proof from Prove shows as its experiment leaf."""

from __future__ import annotations

import ibis

from journeykit.analytics import fetch_milestones
from journeykit.analytics.opportunities import PlayVerdict, opportunities
from journeykit.report.decisions import opportunities_section
from journeykit.report.tree import mermaid_text, opportunity_tree, tree_mermaid, tree_svg
from tests.analytics.cases import events_table
from tests.analytics.test_opportunities import JOURNEY, LOG, VALUES


def _result(proofs: dict[str, PlayVerdict] | None = None):  # type: ignore[no-untyped-def]
    con = ibis.duckdb.connect()
    frame = fetch_milestones(events_table(con, LOG), JOURNEY)
    return opportunities(frame, JOURNEY, values=VALUES, proofs=proofs)


def test_the_tree_runs_outcome_to_experiments() -> None:
    result = _result({"nudge_b": PlayVerdict("works", 0.05, 0.01, 0.09)})
    tree = opportunity_tree(result, JOURNEY)
    assert tree.outcome == "TO: B"
    first = tree.branches[0]
    assert first.title == "“Signed up” → “First win”"
    assert first.figures == "4 customers · 187 at stake"
    assert [(leaf.solution, leaf.experiment) for leaf in first.leaves] == [
        ("touchpoint · email: nudge to b", None),
        ("play · Nudge to b (email)", "works: +5.0 pts (+1.0 to +9.0)"),
        ("play · Win back (email)", "no proof yet"),
    ]
    assert tree.branches[2].leaves[0].nothing  # c: nothing designed
    text = tree_mermaid(tree)
    assert text.splitlines()[:4] == [
        "flowchart LR",
        '  outcome["TO: B"]',
        '  o1["1. “Signed up” → “First win”<br/>4 customers · 187 at stake"]',
        "  outcome --> o1",
    ]
    assert '  e1_2["works: +5.0 pts (+1.0 to +9.0)"]' in text and "  s1_2 --> e1_2" in text
    svg = tree_svg(tree)
    assert svg.count('class="opportunity"') == 3 and svg.count('class="experiment"') == 3


def test_mermaid_labels_cannot_break_out() -> None:
    label = mermaid_text('a "quote" <b>#1</b>\nnext `code`')
    assert label == "a #quot;quote#quot; #lt;b#gt;#35;1#lt;/b#gt; next 'code'"
    assert '"' not in label and "<" not in label


def test_the_section_shows_the_proof_and_the_early_win() -> None:
    from journeykit.decide import Decisions
    from journeykit.discover.stories import ProofLibrary

    result = _result({"nudge_b": PlayVerdict("no effect", 0.0, -0.02, 0.02)})
    html = opportunities_section(Decisions(result, ProofLibrary("t", (), 0), ()), JOURNEY)
    assert "play Nudge to b (no effect: +0.0 pts (-2.0 to +2.0))" in html
    assert "187 (" in html  # value at stake with its interval
    assert "First win" in html and "early vs not" in html
