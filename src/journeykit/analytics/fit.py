"""Does the journey fit the data? Milestone rules that match no event, and frequent events no
milestone uses, with counts and close matches.

A journey expecting ``signed_up`` measured on events named ``signup`` gives a funnel of zeros
and no hint why. This check names the rule, the events it asks for, and the event names in the
data that look like them, so the mapping or the rule can be fixed. One scan of the events: a
count per event name and one per milestone rule.
"""

from __future__ import annotations

from dataclasses import dataclass
from difflib import get_close_matches
from typing import TYPE_CHECKING, Any

from journeykit.analytics.compile import compile_rule
from journeykit.analytics.fetch import to_arrow

if TYPE_CHECKING:
    import ibis.expr.types as ir

    from journeykit.journey import Journey


@dataclass(frozen=True)
class UnmatchedMilestone:
    milestone: str
    asks_for: tuple[str, ...]  # the event names in its rule (empty: a rule on properties only)
    close: tuple[tuple[str, int], ...]  # event names in the data that look like them, counts


@dataclass(frozen=True)
class UnusedEvent:
    event: str
    count: int


@dataclass(frozen=True)
class JourneyFit:
    """What of the journey the data reaches, and what of the data the journey ignores."""

    events: int
    matched: dict[str, int]  # milestone -> events matching its rule
    unmatched: tuple[UnmatchedMilestone, ...]
    unused: tuple[UnusedEvent, ...]  # the most frequent event names no rule asks for

    @property
    def fits(self) -> bool:
        return not self.unmatched

    def to_dict(self) -> dict[str, Any]:
        return {
            "events": self.events,
            "matched": self.matched,
            "unmatched": [
                {"milestone": u.milestone, "asks_for": list(u.asks_for),
                 "close": [{"event": e, "count": n} for e, n in u.close]}
                for u in self.unmatched
            ],
            "unused": [{"event": u.event, "count": u.count} for u in self.unused],
        }  # fmt: skip

    def lines(self) -> list[str]:
        """For people: one line per problem, nothing when everything matches."""
        out = []
        for u in self.unmatched:
            asked = f" (asks for {', '.join(u.asks_for)})" if u.asks_for else ""
            close = ", ".join(f"{e} ({n:,})" for e, n in u.close)
            hint = f"; close: {close}" if close else ""
            out.append(f"milestone {u.milestone!r} matches no event{asked}{hint}")
        if self.unmatched and self.unused:
            shown = ", ".join(f"{u.event} ({u.count:,})" for u in self.unused)
            out.append(f"frequent events no milestone uses: {shown}")
        return out


def journey_fit(events: ir.Table, journey: Journey, *, top: int = 10) -> JourneyFit:
    """Count each milestone's matches and each event name; see the module docstring."""
    import ibis

    counts = to_arrow(events.group_by("event").agg(n=ibis._.count())).to_pylist()
    by_name = {str(r["event"]): int(r["n"]) for r in counts}
    # A milestone without a rule is never measured; `journeykit validate` speaks of it.
    rules = {m.id: m.when for m in journey.milestones if m.when is not None}
    matched = dict.fromkeys(rules, 0)
    if rules and by_name:
        sums = {k: compile_rule(events, r).cast("int64").sum() for k, r in rules.items()}
        row = to_arrow(events.aggregate(**sums)).to_pylist()[0]
        matched = {k: int(v or 0) for k, v in row.items()}
    return fit_of(by_name, matched, journey, top=top)


def fit_of(
    by_name: dict[str, int], matched: dict[str, int], journey: Journey, *, top: int = 10
) -> JourneyFit:
    """The fit from counts already made: events per name, and per milestone with a rule the
    events its rule matches (a workspace keeps the latter in its stored milestone log)."""
    rules = {m.id: m.when for m in journey.milestones if m.when is not None}
    matched = {k: matched.get(k, 0) for k in rules}
    used: set[str] = set()
    unmatched = []
    for milestone, rule in rules.items():
        names = tuple(sorted(rule.event_names()))
        used |= set(names)
        if matched[milestone] == 0:
            close = _close(names or (milestone,), by_name)
            unmatched.append(UnmatchedMilestone(milestone, names, close))
    unused = sorted(
        ((n, c) for n, c in by_name.items() if n not in used), key=lambda x: (-x[1], x[0])
    )
    return JourneyFit(
        sum(by_name.values()), matched, tuple(unmatched),
        tuple(UnusedEvent(n, c) for n, c in unused[:top]),
    )  # fmt: skip


def _close(names: tuple[str, ...], by_name: dict[str, int]) -> tuple[tuple[str, int], ...]:
    """Event names that look like ``names``: difflib's ratio, also after normalising case and
    separators (``Signed Up``, ``signed-up`` and ``signedUp`` all read as ``signedup``)."""
    plain = {_normal(n): n for n in by_name}
    found: dict[str, int] = {}
    for name in names:
        for hit in get_close_matches(name, list(by_name), n=3, cutoff=0.6):
            found[hit] = by_name[hit]
        for hit in get_close_matches(_normal(name), list(plain), n=3, cutoff=0.6):
            found[plain[hit]] = by_name[plain[hit]]
    return tuple(sorted(found.items(), key=lambda x: (-x[1], x[0]))[:5])


def _normal(name: str) -> str:
    return "".join(ch for ch in name.lower() if ch.isalnum())
