"""The proof drawn: per play its verdict, the arms, the intervals, and the share reaching the goal
over days since entry per arm (plain SVG). Used by the report and by the web app's Proof page, so
both show the numbers ``journeykit prove`` prints.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from journeykit.report.svg import FONT, esc

if TYPE_CHECKING:
    from journeykit.prove import Estimate, PlayProof, ProveResult

ARM_COLOURS = {"treatment": "#2f6fb0", "holdout": "#9aa3ad"}
VERDICT_CLASS = {"worked": "good", "harmful": "bad", "no effect detected": "", "too early": ""}
READING = (
    "Each play keeps a holdout that gets nothing; the difference between the arms is what the "
    "play changed. The verdict uses the sequential 95% interval, which stays valid however often "
    "you look; the fixed-horizon interval is narrower but holds only for one look at a size set "
    "in advance. Entries whose window is still open are pending, never failures."
)


def _pts(e: Estimate | None) -> str:
    if e is None:
        return "–"
    return f"{e.estimate * 100:+.1f} [{e.ci_low * 100:+.1f}, {e.ci_high * 100:+.1f}]"


def _share(x: float | None) -> str:
    return "–" if x is None else f"{x * 100:.1f}%"


def proof_chart(p: PlayProof, width: float = 420, height: float = 170) -> str:
    """Share reaching the goal by day since entry, per arm (Kaplan-Meier, open entries censored)."""
    if not p.curve:
        return ""
    left, right, top, bottom = 40.0, 90.0, 12.0, 28.0
    w, h = width - left - right, height - top - bottom
    last = max(d for d, _, _ in p.curve) or 1.0
    peak = max(max(t, o) for _, t, o in p.curve) or 1.0
    peak = min(1.0, peak * 1.1)

    def xy(day: float, share: float) -> str:
        return f"{left + day / last * w:.1f},{top + h - share / peak * h:.1f}"

    parts = [
        f'<line x1="{left}" y1="{top + h}" x2="{left + w}" y2="{top + h}" stroke="#555"/>',
        f'<line x1="{left}" y1="{top}" x2="{left}" y2="{top + h}" stroke="#555"/>',
        f'<text x="{left - 4}" y="{top + 8}" text-anchor="end">{peak * 100:.0f}%</text>',
        f'<text x="{left - 4}" y="{top + h}" text-anchor="end">0%</text>',
        f'<text x="{left + w / 2}" y="{height - 6}" text-anchor="middle">days since entry '
        f"(0–{last:.0f})</text>",
    ]
    for k, arm in enumerate(("treatment", "holdout")):
        points, prev = [], 0.0
        for d, t, o in p.curve:
            share = t if arm == "treatment" else o
            points += [xy(d, prev), xy(d, share)]  # a step: flat, then up at the event
            prev = share
        colour = ARM_COLOURS[arm]
        parts.append(
            f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="{" ".join(points)}">'
            f"<title>{arm}</title></polyline>"
        )
        final = p.curve[-1][1 if arm == "treatment" else 2]
        parts.append(
            f'<text x="{left + w + 6}" y="{top + 12 + 16 * k}" fill="{colour}">{arm} '
            f"{final * 100:.0f}%</text>"
        )
    label = f"{p.id}: share reaching {p.goal} by days since entry, treatment and holdout"
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" width="{width:.0f}" '
        f'height="{height:.0f}" viewBox="0 0 {width:.0f} {height:.0f}" font-family="{FONT}" '
        f'font-size="11" role="img" aria-label="{esc(label)}">{"".join(parts)}</svg>'
    )


def proof_block(p: PlayProof) -> str:
    """One play's proof: verdict and reason, the arms' table, the chart."""
    t, h = p.treatment, p.holdout
    rows = []
    for name, a in (("treatment", t), ("holdout", h)):
        median = "–" if a.median_days is None else f"{a.median_days:.1f}d"
        rows.append(
            f"<tr><td>{name}</td><td class='num'>{a.entered:,}</td><td class='num'>"
            f"{a.reached:,}</td><td class='num'>{_share(a.share)}</td><td class='num'>"
            f"{a.pending:,}</td><td class='num'>{a.already_reached:,}</td>"
            f"<td class='num'>{median}</td></tr>"
        )
    head = "".join(
        f"<th{' class=num' if i else ''}>{esc(x)}</th>"
        for i, x in enumerate(("arm", "decided", "reached", "share", "pending",
                               "already reached", "median time"))
    )  # fmt: skip
    srm = "not possible" if p.srm_p_value is None else f"p = {p.srm_p_value:.3g}"
    stats = [
        ("difference, fixed-horizon (points)", _pts(p.absolute)),
        ("difference, sequential (points)", _pts(p.sequential)),
        ("relative lift (x100%)", _pts(p.relative)),
        ("sample-ratio check", srm),
    ]
    if p.adjusted is not None:
        stats.append((f"adjusted for {p.adjusted.covariate} (CUPED)", _pts(p.adjusted.absolute)))
    v = p.value_at_stake
    if v is not None and v.value is not None:
        stats.append(
            ("value at stake (12-month CLV)",
             f"{v.value.estimate:,.0f} [{v.value.ci_low:,.0f}, {v.value.ci_high:,.0f}]")
        )  # fmt: skip
    if p.sample_size is not None:
        s = p.sample_size
        stats.append((f"entries needed for {s.lift * 100:+.0f} points", f"{s.entries:,} decided"))
    facts = "".join(f"<tr><td>{esc(k)}</td><td class='num'>{esc(x)}</td></tr>" for k, x in stats)
    verdict = p.verdict or "no verdict"
    cls = VERDICT_CLASS.get(verdict, "bad")
    return (
        f'<article class="proof" id="proof-{esc(p.id)}"><h3>{esc(p.title)} '
        f'<span class="verdict {cls}">{esc(verdict)}</span></h3>'
        f"<p>goal: {esc(p.goal)} within {esc(p.within)} · {esc(p.reason)}</p>"
        f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
        f"<table><tbody>{facts}</tbody></table>{proof_chart(p)}</article>"
    )


def proof_section(result: ProveResult) -> str:
    """Every play's proof, the touchpoints' associations and how to read them."""
    blocks = [proof_block(p) for p in result.results]
    for a in result.touchpoints:
        d = a.adjusted or a.difference
        blocks.append(
            f"<p class='note'>touchpoint {esc(a.touchpoint.from_)} → {esc(a.touchpoint.to)} "
            f"({esc(a.touchpoint.action)}): {d.estimate * 100:+.1f} points "
            f"[{d.low * 100:+.1f}, {d.high * 100:+.1f}] for those who got it. {esc(a.caveat)}</p>"
        )
    notes = "".join(f'<p class="note">{esc(n)}</p>' for n in result.notes)
    return f'<p class="note">{esc(READING)}</p>{"".join(blocks)}{notes}'
