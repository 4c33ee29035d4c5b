"""What pages and API share beyond the analyses: the map, dashboards, lists and themes.

Charts are the report's own SVG (``report.charts``), escaped where they are made; they reach the
templates marked safe, and nothing else does.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from journeykit.analytics.position import STATUSES
from journeykit.errors import JourneykitError
from journeykit.journey import Journey
from journeykit.web.data import Filters, FunnelAsk
from journeykit.web.errors import NotFound
from journeykit.web.funnel import FunnelChoice, funnel_view
from journeykit.web.journeys import Parsed
from journeykit.web.store import Revision

if TYPE_CHECKING:
    from journeykit.analytics import PositionsResult
    from journeykit.discover import ThemeResult
    from journeykit.discover.answers import Answers
    from journeykit.web.app import Context

ANSWERS = "answers"
ANSWER_SUFFIXES = (".csv", ".xlsx", ".jsonl")


def journey_rows(ctx: Context) -> list[dict[str, Any]]:
    rows = []
    for key in ctx.journeys.names():
        rev, parsed = ctx.load(key)
        j = parsed.journey
        rows.append({
            "key": key,
            "file": ctx.journeys.file(key).name,
            "title": j.title if j else None,
            "transformation": (
                f"{j.transformation.from_} → {j.transformation.to}" if j else None
            ),
            "milestones": len(j.milestones) if j else None,
            "problems": len(parsed.problems),
            "revision": rev.number,
        })  # fmt: skip
    return rows


def map_svg(ctx: Context, rev: Revision, journey: Journey, f: Filters) -> tuple[str, str]:
    """The living map: live numbers when the workspace has events, else the design alone.

    Drawn once per (revision, data, filters): the layout runs Graphviz.
    """
    key = ("map_svg", rev.sha256, ctx.data.version(), f.key())
    return ctx.data.cached(key, lambda: _draw_map(ctx, rev, journey, f))


def _draw_map(ctx: Context, rev: Revision, journey: Journey, f: Filters) -> tuple[str, str]:
    from journeykit.report import pages

    if ctx.data.version() == "empty":
        return pages.map_svg(journey), "No events yet: import some to see live numbers."
    try:
        results = ctx.data.map_results(rev.sha256, journey, f)
    except JourneykitError as exc:
        return pages.map_svg(journey), f"Design only: {exc}"
    return pages.map_svg(journey, results), f"Numbers as of {pages.as_of(results.now)}."


def preview_svg(parsed: Parsed) -> str | None:
    from journeykit.report import pages

    if parsed.journey is None:
        return None
    try:
        return pages.map_svg(parsed.journey)
    except JourneykitError:
        return None


def status_counts(placed: PositionsResult) -> list[tuple[str, dict[str, int]]]:
    """Per step of the path, the customers whose position it is, by status."""
    n = len(STATUSES)
    counts = np.bincount(
        placed.position.astype(np.int64) * n + placed.status, minlength=len(placed.steps) * n
    ).reshape(len(placed.steps), n)
    return [
        (step, {s: int(counts[k, i]) for i, s in enumerate(STATUSES) if counts[k, i]})
        for k, step in enumerate(placed.steps)
    ]


@dataclass(frozen=True)
class Dashboard:
    kind: str
    result: Any
    chart: str | None
    extra: dict[str, Any]


def dashboard(
    ctx: Context,
    rev: Revision,
    journey: Journey,
    f: Filters,
    kind: str,
    asked: tuple[FunnelAsk, FunnelChoice] | None = None,
) -> Dashboard:
    """``asked``: the funnel's counting choices and what else to show (default: neither)."""
    from journeykit.report import charts

    titles = {m.id: m.title for m in journey.milestones}
    sha = rev.sha256
    if kind == "funnel":
        fv = funnel_view(ctx, rev, journey, f, *(asked or (FunnelAsk(), FunnelChoice())))
        chart = charts.funnel_chart(fv.result) if fv.result else None
        trend = charts.funnel_trend_chart(fv.trends) if fv.trends and fv.trends.periods else None
        return Dashboard(kind, fv.result, chart, {"funnel": fv, "trend_chart": trend})
    if kind == "paths":
        p = ctx.data.paths(sha, journey, f)
        return Dashboard(kind, p, charts.sankey(p, titles) if p.variants else None, {})
    if kind == "positions":
        placed = ctx.data.positions(sha, journey, f)
        counts = ctx.data.cached(
            ("status_counts", sha, ctx.data.version(), f.key()), lambda: status_counts(placed)
        )
        rows = [(titles[s], c) for s, c in counts]
        return Dashboard(kind, placed, charts.status_bars(rows), {"per_step": rows})
    c = ctx.data.cohorts(sha, journey, f)
    return Dashboard(kind, c, None, {})


def answer_files(ctx: Context) -> list[str]:
    folder = ctx.ws.root / ANSWERS
    if not folder.is_dir():
        return []
    return sorted(p.name for p in folder.iterdir() if p.suffix.lower() in ANSWER_SUFFIXES)


def answer_file(ctx: Context, name: str) -> Path:
    """A file of the workspace's answers folder, by name only: no other path is reachable."""
    if name not in answer_files(ctx):
        raise NotFound(f"no answers file {name!r} in the workspace's {ANSWERS}/ folder")
    return ctx.ws.root / ANSWERS / name


def themes(ctx: Context, journey: Journey, name: str) -> ThemeResult:
    """The file's themes with its chosen columns and its saved edits (the CLI's edits file)."""
    from journeykit.discover import find_themes, load_edits
    from journeykit.discover.edits import edits_path

    path = answer_file(ctx, name)
    order = {s.id: i for i, s in enumerate(journey.stages)}
    key = ("themes", answers_digest(path), tuple(order))
    return ctx.data.cached(
        key,
        lambda: find_themes(
            answers(ctx, name), seed=0, method="auto", stage_order=order,
            edits=load_edits(edits_path(path)),
        ),
    )  # fmt: skip


def answers_digest(path: Path) -> str:
    """The file, its column choice and its edits: any change is a new run."""
    from journeykit.discover.edits import edits_path
    from journeykit.web.discovery import columns_file

    h = hashlib.sha256(path.read_bytes())
    for extra in (columns_file(path), edits_path(path)):
        h.update(extra.read_bytes() if extra.is_file() else b"-")
    return h.hexdigest()


def answers(ctx: Context, name: str) -> Answers:
    """An answers file of the workspace, its columns as chosen in the app (else by their
    standard names; a ``consent`` column is honoured: an answer without a yes is never quoted)."""
    from journeykit.discover.answers import read_answers
    from journeykit.web.discovery import columns_of

    path = answer_file(ctx, name)
    key = ("answers", answers_digest(path))
    return ctx.data.cached(key, lambda: read_answers(path, columns_of(path)))
