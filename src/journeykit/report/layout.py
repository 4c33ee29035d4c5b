"""Where the map's boxes go: Graphviz ``dot`` lays out the milestone graph, left to right.

Branching paths that share milestones make a small DAG; hand-placing it breaks as soon as a
journey grows, so the ranks, the order within a rank and the edge routes come from ``dot``
(the Debian/Homebrew ``graphviz`` package). Every box is ``fixedsize`` with the size the map
computed for its text, so dot's own font metrics never matter and the same input always gives the
same picture. Boxes are in pixels here; dot works in points (1/72 inch) and has y pointing up.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass

from journeykit.errors import JourneykitError

_PT_PER_INCH = 72.0


class LayoutError(JourneykitError):
    """Graphviz is missing or refused the graph."""


@dataclass(frozen=True)
class Box:
    """A node to place: ``id`` is a slug (or a ``tp__``/``x__`` id we make), sizes in pixels."""

    id: str
    width: float
    height: float


@dataclass(frozen=True)
class Edge:
    tail: str
    head: str
    visible: bool = True  # invisible edges only order ranks (zones, off-path milestones)
    weight: int = 1


@dataclass(frozen=True)
class Placed:
    id: str
    x: float  # centre, pixels, y down
    y: float
    width: float
    height: float

    @property
    def left(self) -> float:
        return self.x - self.width / 2

    @property
    def right(self) -> float:
        return self.x + self.width / 2

    @property
    def top(self) -> float:
        return self.y - self.height / 2

    @property
    def bottom(self) -> float:
        return self.y + self.height / 2


@dataclass(frozen=True)
class Route:
    tail: str
    head: str
    points: tuple[tuple[float, float], ...]  # cubic B-spline control points, pixels, y down


@dataclass(frozen=True)
class Layout:
    width: float
    height: float
    boxes: dict[str, Placed]
    routes: tuple[Route, ...]


def dot_source(
    boxes: Sequence[Box], edges: Sequence[Edge], *, nodesep: float, ranksep: float
) -> str:
    """The graph in the DOT language; ids are slugs, so they need no quoting beyond quotes."""
    lines = [
        "digraph journey {",
        f"  graph [rankdir=LR, nodesep={nodesep / _PT_PER_INCH:.3f}, "
        f"ranksep={ranksep / _PT_PER_INCH:.3f}, splines=spline, ordering=out];",
        '  node [shape=box, fixedsize=true, label=""];',
        "  edge [dir=none];",
    ]
    for b in boxes:
        w, h = b.width / _PT_PER_INCH, b.height / _PT_PER_INCH
        lines.append(f'  "{b.id}" [width={w:.4f}, height={h:.4f}];')
    for e in edges:
        style = "" if e.visible else ", style=invis"
        lines.append(f'  "{e.tail}" -> "{e.head}" [weight={e.weight}{style}];')
    lines.append("}")
    return "\n".join(lines) + "\n"


def layout(
    boxes: Sequence[Box], edges: Sequence[Edge], *, nodesep: float = 24, ranksep: float = 40
) -> Layout:
    """Run ``dot`` and read its plain output back as pixel boxes and edge routes."""
    exe = shutil.which("dot")
    if exe is None:
        raise LayoutError(
            "the journey map is laid out by Graphviz, which is not installed: "
            "install the 'graphviz' package (apt-get install graphviz, brew install graphviz)"
        )
    source = dot_source(boxes, edges, nodesep=nodesep, ranksep=ranksep)
    done = subprocess.run(
        [exe, "-Tplain"], input=source, capture_output=True, text=True, check=False, timeout=120
    )
    if done.returncode != 0:
        raise LayoutError(f"Graphviz could not lay out the map: {done.stderr.strip()}")
    return parse_plain(done.stdout)


def parse_plain(text: str) -> Layout:
    """Graphviz ``-Tplain``: inches, y up. Returned in pixels with y down."""
    scale = _PT_PER_INCH
    height = 0.0
    width = 0.0
    boxes: dict[str, Placed] = {}
    routes: list[Route] = []
    for line in text.splitlines():
        parts = line.split()
        if not parts:
            continue
        if parts[0] == "graph":
            width, height = float(parts[2]) * scale, float(parts[3]) * scale
        elif parts[0] == "node":
            name = parts[1].strip('"')
            x, y, w, h = (float(v) * scale for v in parts[2:6])
            boxes[name] = Placed(name, x, height - y, w, h)
        elif parts[0] == "edge" and "invis" not in parts:
            n = int(parts[3])
            coords = [float(v) * scale for v in parts[4 : 4 + 2 * n]]
            pts = tuple((coords[i], height - coords[i + 1]) for i in range(0, 2 * n, 2))
            routes.append(Route(parts[1].strip('"'), parts[2].strip('"'), pts))
    return Layout(width, height, boxes, tuple(routes))
