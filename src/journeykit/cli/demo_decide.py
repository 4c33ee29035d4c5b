"""The end of ``journeykit demo``: where to act first and two stories with where to show them,
short enough to read in a terminal (``journeykit opportunities`` and ``proof`` give it all)."""

from __future__ import annotations

from rich.console import Console

from journeykit.analytics.opportunities import opportunity_title
from journeykit.decide import Decisions
from journeykit.journey import Journey
from journeykit.report.decisions import value_text


def print_decisions(decisions: Decisions, journey: Journey, console: Console) -> None:
    def say(text: str) -> None:
        console.print(text, markup=False, highlight=False)

    r = decisions.opportunities
    say(
        "\n  where to act first (journeykit opportunities ...): value at stake = customers "
        "affected x the CLV difference between those who got past and those who did not"
    )
    say(f"  (CLV: {r.value_source or 'none measured, so ranked by customers affected'})")
    for k, o in enumerate(r.top(3), start=1):
        say(f"   {k}. {opportunity_title(o, journey)}: {o.affected:,} customers, "
            f"{value_text(o)} at stake")  # fmt: skip
        pain = "; ".join(
            f"{p.label} ({p.raised:,} answers)" + (f": “{p.quotes[0]}”" if p.quotes else "")
            for p in o.pains[:1]
        )
        say(f"      pain behind it: {pain or 'no member answers at this step yet'}")
        say(f"      being done: {o.doing}")
    names = {p.id: p.name for p in journey.personas}
    stories = decisions.proof.best(2)
    lib = decisions.proof
    say(
        f"\n  stories to show ({len(lib.shareable):,} with consent, {lib.withheld:,} kept in the "
        "workspace without it; journeykit proof ... --wall DIR):"
    )
    for s in stories:
        before = f"“{s.before.text}” → " if s.before else ""
        say(f"   {before}“{s.after.text}”")
        m = s.persona
        where = "; ".join(p.where for p in s.show_at) or "-"
        who = names.get(m.persona or "", m.persona)
        say(f"      speaks to {who} (their {m.field} “{m.item}”); show it at: {where}")
    if not stories:
        say("   none yet: no consented answer tells a before and an after")
