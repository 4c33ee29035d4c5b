"""Where the map's boxes go: Graphviz ``dot`` lays out the milestone graph, left to right.

Branching paths that share milestones make a small DAG; hand-placing it breaks as soon as a
journey grows, so the ranks, the order within a rank and the edge routes come from ``dot``
(the Debian/Homebrew ``graphviz`` package). Every box is ``fixedsize`` with the size the map
computed for its text, so dot's own font metrics never matter and the same input always gives the
same picture. Boxes are in pixels here; dot works in points (1/72 inch) and has y pointing up.

A core ``pip install`` may have no Graphviz: then ``layered_layout`` here (the same Sugiyama
scheme in pure Python: ranks, crossing reduction, coordinates, routes) draws the map instead.
``JOURNEYKIT_LAYOUT=python`` forces it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise

from journeykit.report.errors import LayoutError

_PT_PER_INCH = 72.0


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
    """Run ``dot`` and read its plain output back as pixel boxes and edge routes; without
    Graphviz (or with ``JOURNEYKIT_LAYOUT=python``), the pure-Python ``layered_layout``."""
    exe = shutil.which("dot")
    if exe is None or os.environ.get("JOURNEYKIT_LAYOUT") == "python":
        return layered_layout(boxes, edges, nodesep=nodesep, ranksep=ranksep)
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


# --- the pure-Python fallback --------------------------------------------------------------------

_DUMMY_W, _DUMMY_H = 16.0, 6.0  # a long edge's place in the ranks it crosses


def layered_layout(
    boxes: Sequence[Box], edges: Sequence[Edge], *, nodesep: float = 24, ranksep: float = 40
) -> Layout:
    """A Sugiyama layout, left to right, for when Graphviz is absent.

    Ranks by longest path (cycles broken by reversing depth-first back edges; sources moved next
    to their successors), long visible edges split by dummy nodes, the order within ranks by
    barycentre sweeps keeping the order with the fewest crossings, and the positions within ranks
    by isotonic regression (each box as near its neighbours' mean as the separation allows).
    Boxes never overlap: ranks are disjoint in x and boxes in a rank are ``nodesep`` apart.
    """
    size = {b.id: (b.width, b.height) for b in boxes}
    ids = [b.id for b in boxes]
    pairs = [(e.tail, e.head, e.visible) for e in edges if e.tail != e.head]
    forward = _acyclic(ids, [(a, b) for a, b, _ in pairs])
    rank = _ranks(ids, forward)
    # Chains of dummy nodes for visible edges longer than one rank.
    chains: list[tuple[str, str, list[str]]] = []
    adjacent: list[tuple[str, str]] = []  # one rank apart, left to right
    for a, b, visible in pairs:
        if not visible:
            continue
        lo, hi = (a, b) if rank[a] < rank[b] else (b, a)
        chain = [lo]
        for r in range(rank[lo] + 1, rank[hi]):
            d = f"dummy__{len(size)}"
            size[d] = (_DUMMY_W, _DUMMY_H)
            rank[d] = r
            chain.append(d)
        chain.append(hi)
        adjacent += list(pairwise(chain))
        chains.append((a, b, chain if lo == a else chain[::-1]))
    layers = _order(ids, rank, adjacent)
    x = _rank_x(layers, size, ranksep)
    y = _positions(layers, size, adjacent, nodesep)
    top = min(y[n] - size[n][1] / 2 for layer in layers for n in layer)
    placed = {n: Placed(n, x[rank[n]], y[n] - top, size[n][0], size[n][1]) for n in ids}
    height = max(p.bottom for p in placed.values())
    width = max(p.right for p in placed.values())
    routes = []
    for a, b, chain in chains:
        pts = []
        for n in chain:  # a long edge crosses a rank level, above or below its boxes
            if n.startswith("dummy__"):
                half = max(size[m][0] for m in layers[rank[n]]) / 2
                half *= 1 if rank[a] < rank[b] else -1
                pts += [(x[rank[n]] - half, y[n] - top), (x[rank[n]] + half, y[n] - top)]
            else:
                pts.append((x[rank[n]], y[n] - top))
        pts[0] = (pts[0][0] + size[a][0] / 2 * (1 if rank[a] < rank[b] else -1), pts[0][1])
        pts[-1] = (pts[-1][0] - size[b][0] / 2 * (1 if rank[a] < rank[b] else -1), pts[-1][1])
        routes.append(Route(a, b, _bezier(pts)))
    return Layout(width, height, placed, tuple(routes))


def _acyclic(ids: list[str], pairs: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The edges with depth-first back edges reversed (visiting nodes in input order)."""
    out: dict[str, list[str]] = {n: [] for n in ids}
    for a, b in pairs:
        out[a].append(b)
    state: dict[str, int] = {}  # 1 on the stack, 2 done
    back: set[tuple[str, str]] = set()
    for root in ids:
        if root in state:
            continue
        stack = [(root, iter(out[root]))]
        state[root] = 1
        while stack:
            node, it = stack[-1]
            nxt = next(it, None)
            if nxt is None:
                state[node] = 2
                stack.pop()
            elif state.get(nxt) == 1:
                back.add((node, nxt))
            elif nxt not in state:
                state[nxt] = 1
                stack.append((nxt, iter(out[nxt])))
    return [(b, a) if (a, b) in back else (a, b) for a, b in pairs]


def _ranks(ids: list[str], pairs: list[tuple[str, str]]) -> dict[str, int]:
    """Longest-path ranks; then each node with no predecessor moves right, next to its first
    successor, so an early side branch does not stretch back to rank 0."""
    preds: dict[str, list[str]] = {n: [] for n in ids}
    succs: dict[str, list[str]] = {n: [] for n in ids}
    for a, b in pairs:
        preds[b].append(a)
        succs[a].append(b)
    indegree = {n: len(preds[n]) for n in ids}
    ready = [n for n in ids if not indegree[n]]
    order: list[str] = []
    while ready:
        n = ready.pop(0)
        order.append(n)
        for m in succs[n]:
            indegree[m] -= 1
            if not indegree[m]:
                ready.append(m)
    rank: dict[str, int] = {}
    for n in order:
        rank[n] = max((rank[p] + 1 for p in preds[n]), default=0)
    for n in reversed(order):
        if not preds[n] and succs[n]:
            rank[n] = min(rank[m] for m in succs[n]) - 1
    low = min(rank.values(), default=0)
    return {n: r - low for n, r in rank.items()}


def _order(
    ids: list[str], rank: dict[str, int], adjacent: list[tuple[str, str]]
) -> list[list[str]]:
    """Nodes per rank, ordered by barycentre sweeps; the order with the fewest crossings wins."""
    n_ranks = max(rank.values()) + 1
    first = {n: i for i, n in enumerate(ids)}
    layers: list[list[str]] = [[] for _ in range(n_ranks)]
    left: dict[str, list[str]] = {n: [] for n in rank}
    right: dict[str, list[str]] = {n: [] for n in rank}
    for a, b in adjacent:
        right[a].append(b)
        left[b].append(a)
    # Start: input order, a dummy right after the node its edge comes from.
    for n in sorted(rank, key=lambda n: (first.get(n, len(first)), n)):
        layers[rank[n]].append(n)
    best, best_cross = [list(layer) for layer in layers], _crossings(layers, right)
    for sweep in range(16):
        down = sweep % 2 == 0
        span = range(1, n_ranks) if down else range(n_ranks - 2, -1, -1)
        for r in span:
            ref = layers[r - 1] if down else layers[r + 1]
            pos = {n: i for i, n in enumerate(ref)}
            nbrs = left if down else right

            here = {n: float(i) for i, n in enumerate(layers[r])}
            bary = {
                n: sum(pos[m] for m in nbrs[n]) / len(nbrs[n]) if nbrs[n] else here[n]
                for n in layers[r]
            }
            layers[r] = sorted(
                layers[r], key=bary.__getitem__
            )  # stable: ties keep the current order
        cross = _crossings(layers, right)
        if cross < best_cross:
            best, best_cross = [list(layer) for layer in layers], cross
    return best


def _crossings(layers: list[list[str]], right: dict[str, list[str]]) -> int:
    total = 0
    for a, b in pairwise(layers):
        pos = {n: i for i, n in enumerate(b)}
        ends = [(i, pos[m]) for i, n in enumerate(a) for m in right[n] if m in pos]
        for k, (p, q) in enumerate(ends):
            total += sum(1 for p2, q2 in ends[k + 1 :] if (p2 - p) * (q2 - q) < 0)
    return total


def _rank_x(
    layers: list[list[str]], size: dict[str, tuple[float, float]], ranksep: float
) -> list[float]:
    """The centre x of each rank: ranks as wide as their widest box, ``ranksep`` apart."""
    xs, left = [], 0.0
    for layer in layers:
        w = max((size[n][0] for n in layer), default=0.0)
        xs.append(left + w / 2)
        left += w + ranksep
    return xs


def _positions(
    layers: list[list[str]],
    size: dict[str, tuple[float, float]],
    adjacent: list[tuple[str, str]],
    nodesep: float,
) -> dict[str, float]:
    """Centre y per node: stacked first, then sweeps pulling each rank towards its neighbours."""
    nbrs: dict[str, list[str]] = {n: [] for layer in layers for n in layer}
    for a, b in adjacent:
        nbrs[a].append(b)
        nbrs[b].append(a)
    y: dict[str, float] = {}
    for layer in layers:
        offset = 0.0
        for n in layer:
            y[n] = offset + size[n][1] / 2
            offset += size[n][1] + nodesep
    order = list(range(len(layers)))
    for sweep in range(12):
        for r in order if sweep % 2 == 0 else order[::-1]:
            layer = layers[r]
            want = [sum(y[m] for m in nbrs[n]) / len(nbrs[n]) if nbrs[n] else y[n] for n in layer]
            for n, v in zip(layer, _separated(layer, want, size, nodesep), strict=True):
                y[n] = v
    return y


def _separated(
    layer: list[str], want: list[float], size: dict[str, tuple[float, float]], nodesep: float
) -> list[float]:
    """The centres closest (least squares) to ``want`` that keep the order and the gaps.

    With c_i the least distance from the first centre to the i-th, z_i = y_i - c_i must not
    decrease: isotonic regression of want_i - c_i (pool adjacent violators).
    """
    c = [0.0]
    for a, b in pairwise(layer):
        c.append(c[-1] + size[a][1] / 2 + nodesep + size[b][1] / 2)
    blocks: list[list[float]] = []  # [mean, count]
    for target in (w - ci for w, ci in zip(want, c, strict=True)):
        blocks.append([target, 1.0])
        while len(blocks) > 1 and blocks[-2][0] > blocks[-1][0]:
            m2, n2 = blocks.pop()
            m1, n1 = blocks.pop()
            blocks.append([(m1 * n1 + m2 * n2) / (n1 + n2), n1 + n2])
    z = [m for m, n in blocks for _ in range(int(n))]
    return [zi + ci for zi, ci in zip(z, c, strict=True)]


def _bezier(pts: list[tuple[float, float]]) -> tuple[tuple[float, float], ...]:
    """Control points of a smooth curve through ``pts``: horizontal tangents at every point."""
    out = [pts[0]]
    for (x0, y0), (x1, y1) in pairwise(pts):
        mid = (x1 - x0) / 2
        out += [(x0 + mid, y0), (x1 - mid, y1), (x1, y1)]
    return tuple(out)
