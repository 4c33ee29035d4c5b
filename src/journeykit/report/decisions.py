"""The report's decision sections: where to act first (opportunities, the tree, early wins), the
proof library, and each persona's hero's journey. Drawing only: every number is read from
``decide.Decisions``; every text goes through ``esc``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from journeykit.analytics.opportunities import Opportunity, opportunity_title
from journeykit.report.html import section, table
from journeykit.report.svg import days, esc, pct
from journeykit.report.tree import opportunity_tree, tree_mermaid, tree_svg

if TYPE_CHECKING:
    from journeykit.analytics.early_win import EarlyWin
    from journeykit.decide import Decisions
    from journeykit.discover.hero import HeroJourney
    from journeykit.discover.stories import ProofLibrary, Story
    from journeykit.journey.schema import Journey

NO_DECISIONS = '<p class="note">Not computed for this page.</p>'
CSS = """
.story{border-left:3px solid #2f8f5b;padding:4px 10px;margin:8px 0;max-width:760px}
.story .before{color:#8a3b2f}.story .after{color:#1f5f3b;font-weight:bold}
.story .meta{font-size:12px;color:#55606b}
.hero{border:1px solid #d7dbe0;border-radius:6px;padding:8px 12px;margin:12px 0}
.hero dt{font-weight:bold;margin-top:6px}.hero dd{margin:2px 0 2px 12px;font-size:13px}
.hero .plain{background:#f6f8fa;padding:8px;border-radius:4px}
"""


def value_text(o: Opportunity) -> str:
    """Value at stake with its interval: ``10,406 (7,900 to 12,950)``."""
    v = o.value
    if v is None:
        return "-"
    if v.total_low is None or v.total_high is None:
        return f"{v.total:,.0f}"
    return f"{v.total:,.0f} ({v.total_low:,.0f} to {v.total_high:,.0f})"


def _rows(ops: tuple[Opportunity, ...], journey: Journey) -> list[tuple[object, ...]]:
    rows: list[tuple[object, ...]] = []
    for k, o in enumerate(ops, start=1):
        pain = "; ".join(
            f"{p.label} ({p.raised:,})" + (f": “{p.quotes[0]}”" if p.quotes else "")
            for p in o.pains
        )
        versus = "" if o.typical_conversion is None else f" (typical {pct(o.typical_conversion)})"
        timing = days(o.median_seconds) + (
            f" (design {days(o.designed_seconds)})" if o.designed_seconds else ""
        )
        rows.append((
            k, opportunity_title(o, journey), f"{o.affected:,}", pct(o.conversion) + versus,
            timing if o.median_seconds is not None else "-", value_text(o),
            pain or "no answers here", o.doing,
        ))  # fmt: skip
    return rows


HEAD = ("#", "where", "customers", "conversion", "median time", "value at stake (95%)",
        "pain behind it (answers)", "what is being done")  # fmt: skip


def opportunities_section(decisions: Decisions | None, journey: Journey, top: int = 10) -> str:
    if decisions is None:
        return section("opportunities", "Where to act first", NO_DECISIONS)
    r = decisions.opportunities
    tree = opportunity_tree(r, journey)
    parts = [
        '<p class="note">Every place the journey leaks, ranked by value at stake: customers '
        "affected × the difference in expected CLV between those who got past it and those who "
        f"did not ({esc(r.value_source or 'no CLV: ranked by customers')}). A leak shared by "
        "two paths is shown once.</p>",
        '<h3>The opportunity tree</h3><div class="scroll">' + tree_svg(tree) + "</div>",
        "<details><summary>Mermaid text of the tree</summary><pre class=\"mermaid-text\">"
        + esc(tree_mermaid(tree)) + "</pre></details>",
        "<h3>Everyone</h3>" + table(HEAD, _rows(r.top(top), journey), {0, 2}),
    ]  # fmt: skip
    for p in journey.personas:
        ops = r.top(3, p.id)
        if ops:
            parts.append(f"<h3>{esc(p.name)}: top three</h3>"
                         + table(HEAD, _rows(ops, journey), {0, 2}))  # fmt: skip
    parts.append(early_wins_block(r.early_wins, journey))
    parts += [f'<p class="note">{esc(n)}</p>' for n in r.notes]
    return section("opportunities", "Where to act first: opportunities", "".join(parts),
                   cls="long")  # fmt: skip


def early_wins_block(wins: tuple[EarlyWin, ...], journey: Journey) -> str:
    titles = {m.id: m.title for m in journey.milestones}
    rows = []
    for w in wins:
        if w.milestone is None:
            rows.append((w.path, "none designed before the core offer", "-", "-", "-", "-"))
            continue
        d = w.difference
        more = "-" if d is None else f"{100 * d.estimate:+.1f} pts ({100 * d.low:+.1f} to " \
            f"{100 * d.high:+.1f})"  # fmt: skip
        ratio = (
            "-" if w.ratio is None else f"×{w.ratio:.2f} ({w.ratio_low:.2f} to {w.ratio_high:.2f})"
        )
        rows.append((
            w.path, titles[w.milestone], f"{w.reached:,} of {w.entrants:,}",
            days(w.time_to_win.median if w.time_to_win else None),
            f"{pct(w.early.share if w.early else None)} vs "
            f"{pct(w.not_early.share if w.not_early else None)}", f"{more}; {ratio}",
        ))  # fmt: skip
    head = ("path", "early win", "reached it", "median time to it",
            "reach the core offer: early vs not", "difference; ratio (95%)")  # fmt: skip
    from journeykit.analytics.early_win import CAVEAT

    return "<h3>The early win of each path</h3>" + table(head, rows, {2, 3}) + (
        f'<p class="note">Early: within the win\'s designed time from entry; the core offer is '
        f"counted within its designed time, for customers who had all of it. {esc(CAVEAT)}</p>"
    )  # fmt: skip


def story_html(story: Story, journey: Journey, *, team: bool = True) -> str:
    """One story: the before, the after, who it speaks to and where to show it (``team``: the
    persona score and placements, which a public wall leaves out)."""
    before = f'<span class="before">{esc(story.before.text)}</span> ' if story.before else ""
    persona = {p.id: p.name for p in journey.personas}.get(story.persona.persona or "", "")
    meta = []
    if story.milestone or story.stage:
        titles = {m.id: m.title for m in journey.milestones} | {
            s.id: s.title for s in journey.stages
        }
        where = story.milestone or story.stage or ""
        meta.append(f"about {titles.get(where, where)}")
    if team and persona:
        meta.append(f"speaks to {persona}: answers the {story.persona.field} "
                    f"“{story.persona.item}” (score {story.persona.score:.2f})")  # fmt: skip
    if team and story.show_at:
        meta.append("show it at: " + "; ".join(p.where for p in story.show_at))
    return (
        f'<blockquote class="story" data-story="{esc(story.id)}">{before}'
        f'<span class="after">{esc(story.after.text)}</span>'
        f'<div class="meta">{esc(" · ".join(meta))}</div></blockquote>'
    )


def stories_section(decisions: Decisions | None, journey: Journey) -> str:
    if decisions is None:
        return section("stories", "Proof library", NO_DECISIONS)
    lib: ProofLibrary = decisions.proof
    parts = [f"<p>{len(lib.shareable):,} stories may be shown (their authors said yes); "
             f"{lib.withheld:,} without consent stay in the workspace.</p>"]  # fmt: skip
    for p in (*journey.personas, None):
        mine = lib.for_persona(p.id if p else None)
        if mine:
            name = p.name if p else "No persona matched"
            parts.append(f"<h3>{esc(name)}</h3>" + "".join(story_html(s, journey) for s in mine))
    if not lib.shareable:
        parts.append('<p class="note">No story to show yet (answers with a before and an after, '
                     "from members who consented).</p>")  # fmt: skip
    return section("stories", "Proof library: pain-to-pleasure stories", "".join(parts),
                   cls="long")  # fmt: skip


def hero_html(hero: HeroJourney) -> str:
    items = []
    for c in hero.chapters:
        extra = "".join(f"<dd>{esc(n)}</dd>" for n in c.numbers if n)
        extra += "".join(f"<dd>“{esc(q)}”</dd>" for q in c.quotes)
        items.append(f"<dt>{esc(c.title)}</dt><dd>{esc(c.text)}</dd>{extra}")
    return (
        f'<div class="hero" data-persona="{esc(hero.persona)}"><h3>{esc(hero.name)}</h3>'
        f'<dl>{"".join(items)}</dl><p class="plain">{esc(hero.story)}</p></div>'
    )


def heroes_section(decisions: Decisions | None) -> str:
    if decisions is None:
        return section("heroes", "The hero's journey", NO_DECISIONS)
    body = "".join(hero_html(h) for h in decisions.heroes) or (
        '<p class="note">This journey designs no persona.</p>'
    )
    return section("heroes", "The hero's journey of each persona", body, cls="long")
