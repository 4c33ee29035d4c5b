"""The opportunity tree: the outcome (the transformation's TO and the north star) -> the ranked
opportunities -> the solutions aimed at each (touchpoints, plays) -> the experiments (each play's
proof). Drawn as SVG for the report and the web, and written as Mermaid ``flowchart`` text.

Both read one :class:`Tree` built from the opportunities result, so they always agree.
"""

from __future__ import annotations

from dataclasses import dataclass

from journeykit.analytics.opportunities import (
    NOTHING,
    OpportunitiesResult,
    Opportunity,
    opportunity_title,
    proof_text,
)
from journeykit.journey.schema import Journey
from journeykit.report.svg import FONT, esc, text_lines, wrap

TOP = 5
BOX_W, GAP_X, PAD, SIZE, LEAD = 230.0, 46.0, 8.0, 11.0, 14.0
COLOURS = {"outcome": "#e8f3ec", "opportunity": "#fdeceb", "solution": "#eef3fb",
           "experiment": "#f6f1e3", "nothing": "#f3f3f3"}  # fmt: skip


@dataclass(frozen=True)
class Leaf:
    """A solution and the experiment under it (None: a touchpoint, nothing to prove)."""

    solution: str
    experiment: str | None
    nothing: bool = False


@dataclass(frozen=True)
class Branch:
    title: str
    figures: str
    leaves: tuple[Leaf, ...]


@dataclass(frozen=True)
class Tree:
    outcome: str
    branches: tuple[Branch, ...]


def money(value: float | None) -> str:
    return "value unknown" if value is None else f"{value:,.0f} at stake"


def opportunity_tree(result: OpportunitiesResult, journey: Journey, top: int = TOP) -> Tree:
    stars = journey.community.north_stars if journey.community else ()
    outcome = f"TO: {journey.transformation.to}"
    if stars:
        outcome += " · north star: " + "; ".join(s.title or s.milestone for s in stars)
    return Tree(outcome, tuple(_branch(o, journey) for o in result.top(top)))


def _branch(o: Opportunity, journey: Journey) -> Branch:
    leaves = [Leaf(f"touchpoint · {t.channel}: {t.action}", None) for t in o.touchpoints]
    leaves += [Leaf(f"play · {e.title} ({e.channel})", proof_text(e.proof)) for e in o.plays]
    figures = f"{o.affected:,} customers · {money(o.worth)}"
    return Branch(opportunity_title(o, journey), figures,
                  tuple(leaves) or (Leaf(NOTHING, None, nothing=True),))  # fmt: skip


def mermaid_text(label: str) -> str:
    """A label inside Mermaid quotes: entity codes for what would end or change it."""
    out = label.replace("#", "#35;").replace('"', "#quot;").replace("<", "#lt;")
    out = out.replace(">", "#gt;").replace("`", "'")
    return " ".join(out.split())


def tree_mermaid(tree: Tree) -> str:
    """The tree as Mermaid ``flowchart LR`` text."""
    lines = ["flowchart LR", f'  outcome["{mermaid_text(tree.outcome)}"]']
    for i, b in enumerate(tree.branches, start=1):
        lines.append(f'  o{i}["{i}. {mermaid_text(b.title)}<br/>{mermaid_text(b.figures)}"]')
        lines.append(f"  outcome --> o{i}")
        for k, leaf in enumerate(b.leaves, start=1):
            lines.append(f'  s{i}_{k}["{mermaid_text(leaf.solution)}"]')
            lines.append(f"  o{i} --> s{i}_{k}")
            if leaf.experiment is not None:
                lines.append(f'  e{i}_{k}["{mermaid_text(leaf.experiment)}"]')
                lines.append(f"  s{i}_{k} --> e{i}_{k}")
    return "\n".join(lines) + "\n"


def _box(x: float, y: float, lines: list[str], kind: str, cls: str) -> tuple[str, float]:
    h = 2 * PAD + LEAD * len(lines)
    return (
        f'<g class="{cls}"><rect x="{x:.1f}" y="{y:.1f}" width="{BOX_W}" height="{h:.1f}" rx="6" '
        f'fill="{COLOURS[kind]}" stroke="#b9c0c8"/>'
        + text_lines(lines, x + PAD, y + PAD + SIZE, size=SIZE, leading=LEAD)
        + "</g>",
        h,
    )


def _link(x1: float, y1: float, x2: float, y2: float) -> str:
    mid = (x1 + x2) / 2
    return (f'<path d="M{x1:.1f},{y1:.1f} C{mid:.1f},{y1:.1f} {mid:.1f},{y2:.1f} {x2:.1f},'
            f'{y2:.1f}" fill="none" stroke="#8a96a3"/>')  # fmt: skip


def tree_svg(tree: Tree) -> str:
    """The tree as SVG, left to right: outcome, opportunities, solutions, experiments."""
    inner = BOX_W - 2 * PAD
    xs = [i * (BOX_W + GAP_X) for i in range(4)]
    parts: list[str] = []
    y = 10.0
    mids: list[float] = []
    for i, b in enumerate(tree.branches, start=1):
        top = y
        leaf_mids = []
        for leaf in b.leaves:
            kind = "nothing" if leaf.nothing else "solution"
            svg, h = _box(xs[2], y, wrap(leaf.solution, inner, SIZE), kind, "solution")
            parts.append(svg)
            if leaf.experiment is not None:
                esvg, eh = _box(xs[3], y, wrap(leaf.experiment, inner, SIZE), "experiment",
                                "experiment")  # fmt: skip
                parts += [esvg, _link(xs[2] + BOX_W, y + h / 2, xs[3], y + eh / 2)]
                h = max(h, eh)
            leaf_mids.append(y + min(h, 2 * PAD + LEAD) / 2)
            y += h + 8
        lines = wrap(f"{i}. {b.title}", inner, SIZE, bold=True) + wrap(b.figures, inner, SIZE)
        box_h = 2 * PAD + LEAD * len(lines)
        oy = max(top, (top + y - 8) / 2 - box_h / 2)
        svg, h = _box(xs[1], oy, lines, "opportunity", "opportunity")
        parts.append(svg)
        parts += [_link(xs[1] + BOX_W, oy + h / 2, xs[2], m) for m in leaf_mids]
        mids.append(oy + h / 2)
        y = max(y, oy + h + 8) + 10
    lines = wrap(tree.outcome, BOX_W - 2 * PAD, SIZE, bold=True)
    oh = 2 * PAD + LEAD * len(lines)
    centre = (mids[0] + mids[-1]) / 2 if mids else 10 + oh / 2
    svg, _ = _box(xs[0], max(10.0, centre - oh / 2), lines, "outcome", "outcome")
    parts.append(svg)
    out_y = max(10.0, centre - oh / 2) + oh / 2
    parts += [_link(xs[0] + BOX_W, out_y, xs[1], m) for m in mids]
    width, height = xs[3] + BOX_W + 10, max(y, 20 + oh)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="opportunity-tree" width="{width:.0f}" '
        f'height="{height:.0f}" viewBox="0 0 {width:.0f} {height:.0f}" font-family="{FONT}" '
        f'role="img" aria-label="{esc("Opportunity tree")}">{"".join(parts)}</svg>'
    )
