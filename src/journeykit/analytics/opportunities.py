"""Opportunities: every place the journey leaks, ranked by what it is worth (docs/metrics.md
"Opportunities").

A leak is one of:

- ``step``: customers whose position on a path is a step and who are stuck there or lapsed there
  (dropped), not reaching the next step. After the core offer a step counts only the stuck; the
  lapsed are the next kind;
- ``lapse``: customers lapsed after a post-purchase milestone (no event of any kind for the
  lapse horizon). Completed customers are never lapsed (DESIGN "Status"), so the last step of a
  path has none;
- ``stray``: customers of a path with a stray of one kind who have not completed it.

Each is compared with the customers who got past it (reached a later step; for a stray, went the
designed way) on expected CLV: value at stake = customers affected x the difference
(``analytics.stake``). The ranking is by value at stake, highest first, for everyone and for
each persona. Each leak carries the conversion and time of its step against the design and the
path's typical step (``analytics.health``), the pain members name there (discovery themes whose
answers fall at its milestones or their stages, breakdowns first; celebrations are not pain)
and what is being done: the touchpoints and plays aimed at it with, when Prove has measured
them, each play's proof.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from statistics import median
from typing import TYPE_CHECKING, Any, Protocol, get_args

import numpy as np

from journeykit.analytics.early_win import EarlyWin, early_wins
from journeykit.analytics.funnel import funnel, steps_among
from journeykit.analytics.health import card_health, reference_conversion
from journeykit.analytics.milestones import Events, milestone_frame
from journeykit.analytics.position import STATUSES, PositionsResult, positions
from journeykit.analytics.results import FunnelResult, FunnelStep, _Tabular, iso_time
from journeykit.analytics.segments import NONE_LABEL, PersonaIndex, persona_labels
from journeykit.analytics.stake import CustomerValues, ValueAtStake, value_at_stake
from journeykit.journey.plays import StrayKind, plays_aimed_at
from journeykit.journey.schema import Journey, Touchpoint

if TYPE_CHECKING:
    from datetime import datetime

STRAY_KINDS: tuple[str, ...] = get_args(StrayKind)
NO_PERSONA = NONE_LABEL
NOTHING = "nothing designed"
_STUCK, _LAPSED, _DONE = (STATUSES.index(s) for s in ("stuck", "lapsed", "completed"))


class QuoteLike(Protocol):
    @property
    def text(self) -> str: ...

    @property
    def stage(self) -> str | None: ...


class ThemeLike(Protocol):
    """A discovery theme as ``discover.Theme`` has it (analytics does not import discover)."""

    @property
    def id(self) -> str: ...

    @property
    def label(self) -> str: ...

    @property
    def moment(self) -> str: ...

    @property
    def stages(self) -> tuple[tuple[str, int], ...]: ...

    @property
    def quotes(self) -> Sequence[QuoteLike]: ...


class PlayProofLike(Protocol):
    """What Prove measured for one play: its verdict and the absolute effect on the goal share
    (treatment - holdout) with its 95% interval. ``opportunities(proofs=...)`` takes one per
    play id; :class:`PlayVerdict` is a plain one."""

    @property
    def verdict(self) -> str: ...

    @property
    def effect(self) -> float | None: ...

    @property
    def low(self) -> float | None: ...

    @property
    def high(self) -> float | None: ...


@dataclass(frozen=True)
class PlayVerdict:
    verdict: str
    effect: float | None = None
    low: float | None = None
    high: float | None = None


def proof_text(proof: PlayProofLike | None) -> str:
    """A play's proof in one line: ``works: +4.2 pts (1.1 to 7.3)``, or that there is none yet."""
    if proof is None:
        return "no proof yet"
    if proof.effect is None:
        return proof.verdict
    span = ""
    if proof.low is not None and proof.high is not None:
        span = f" ({100 * proof.low:+.1f} to {100 * proof.high:+.1f})"
    return f"{proof.verdict}: {100 * proof.effect:+.1f} pts{span}"


@dataclass(frozen=True)
class Pain:
    """A theme raised where a leak is: ``raised`` counts its answers given there."""

    theme: str
    label: str
    moment: str
    raised: int
    quotes: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {**vars(self), "quotes": list(self.quotes)}


@dataclass(frozen=True)
class Effort:
    """A play aimed at a leak, with its proof when Prove has one."""

    play: str
    title: str
    channel: str
    owner: str
    proof: PlayProofLike | None = None

    def to_dict(self) -> dict[str, Any]:
        p = self.proof
        return {
            "play": self.play, "title": self.title, "channel": self.channel, "owner": self.owner,
            "proof": None if p is None else {"verdict": p.verdict, "effect": p.effect,
                                             "low": p.low, "high": p.high},
            "proof_text": proof_text(p),
        }  # fmt: skip


@dataclass(frozen=True)
class Opportunity:
    id: str  # kind:path:milestone-or-stray
    kind: str  # step | lapse | stray
    path: str
    milestone: str | None  # where the affected customers are
    next: str | None  # the step they did not reach
    stray: str | None
    persona: str | None  # None: everyone
    affected: int
    stuck: int
    lapsed: int
    conversion: float | None  # to the next step, from the path's funnel
    typical_conversion: float | None  # the path's median step conversion
    median_seconds: float | None  # to the next step, among those who made it
    designed_seconds: float | None
    typical_seconds: float | None  # the path's median step time
    health: str
    reasons: tuple[str, ...]
    value: ValueAtStake | None
    pains: tuple[Pain, ...] = ()
    touchpoints: tuple[Touchpoint, ...] = ()
    plays: tuple[Effort, ...] = ()
    also_on: tuple[str, ...] = ()  # other paths with the same leak (shown once, here)

    @property
    def doing(self) -> str:
        """What is being done, in one line."""
        parts = [f"{t.channel}: {t.action}" for t in self.touchpoints]
        parts += [f"play {e.title} ({proof_text(e.proof)})" for e in self.plays]
        return "; ".join(parts) or NOTHING

    @property
    def worth(self) -> float | None:
        return None if self.value is None else self.value.total

    def to_dict(self) -> dict[str, Any]:
        out = {k: getattr(self, k) for k in (
            "id", "kind", "path", "milestone", "next", "stray", "persona", "affected", "stuck",
            "lapsed", "conversion", "typical_conversion", "median_seconds", "designed_seconds",
            "typical_seconds", "health")}  # fmt: skip
        out["reasons"] = list(self.reasons)
        out["value"] = None if self.value is None else self.value.to_dict()
        out["pains"] = [p.to_dict() for p in self.pains]
        out["touchpoints"] = [
            {"from": t.from_, "to": t.to, "channel": t.channel, "action": t.action,
             "owner": t.owner} for t in self.touchpoints
        ]  # fmt: skip
        out["plays"] = [e.to_dict() for e in self.plays]
        out["doing"] = self.doing
        out["also_on"] = list(self.also_on)
        return out

    def row(self) -> dict[str, Any]:
        v = self.value
        return {
            "persona": self.persona or "(all)", "id": self.id, "kind": self.kind,
            "path": self.path, "milestone": self.milestone, "next": self.next,
            "stray": self.stray, "affected": self.affected,
            "value_at_stake": None if v is None else v.total,
            "low": None if v is None else v.total_low, "high": None if v is None else v.total_high,
            "conversion": self.conversion, "health": self.health,
            "pain": "; ".join(p.label for p in self.pains), "doing": self.doing,
        }  # fmt: skip


@dataclass(frozen=True)
class OpportunitiesResult(_Tabular):
    """The leaks ranked for everyone and per persona, and each path's early win."""

    journey: str
    now: int
    value_source: str | None  # where the CLV came from; None: no value, ranked by customers
    opportunities: tuple[Opportunity, ...]
    by_persona: dict[str, tuple[Opportunity, ...]]
    early_wins: tuple[EarlyWin, ...]
    notes: tuple[str, ...] = field(default=())

    def ranked(self, persona: str | None = None) -> tuple[Opportunity, ...]:
        return self.opportunities if persona is None else self.by_persona.get(persona, ())

    def top(self, n: int = 3, persona: str | None = None) -> tuple[Opportunity, ...]:
        return self.ranked(persona)[:n]

    def rows(self) -> list[dict[str, Any]]:
        everyone = [o.row() for o in self.opportunities]
        return everyone + [o.row() for ops in self.by_persona.values() for o in ops]

    def to_dict(self) -> dict[str, Any]:
        return {
            "journey": self.journey,
            "now": iso_time(self.now),
            "value_source": self.value_source,
            "opportunities": [o.to_dict() for o in self.opportunities],
            "by_persona": {p: [o.to_dict() for o in ops] for p, ops in self.by_persona.items()},
            "early_wins": [w.to_dict() for w in self.early_wins],
            "notes": list(self.notes),
        }


def opportunities(
    events: Events,
    journey: Journey,
    *,
    positions_by_path: Mapping[str, PositionsResult] | None = None,
    funnels: Mapping[str, FunnelResult] | None = None,
    values: CustomerValues | None = None,
    personas: Mapping[str, str] | PersonaIndex | None = None,
    themes: Sequence[ThemeLike] = (),
    proofs: Mapping[str, PlayProofLike] | None = None,
    now: datetime | None = None,
) -> OpportunitiesResult:
    """Where the journey leaks, ranked by value at stake, for everyone and per persona.

    Parameters
    ----------
    events
        The events on any engine, or their milestone log (as every analysis takes).
    positions_by_path, funnels
        Per path id, results already computed on the same log and ``now`` (``measure`` has
        them); computed here when not given (designed window, the journey's lapse horizon).
    values
        Expected CLV per customer from the CLV pipeline; without it leaks are ranked by
        customers affected and carry no value.
    personas
        Customer id -> persona id (``analytics.segments.personas_of``), for the rankings per
        persona; customers not in it are ``(none)``.
    themes
        Discovery themes (``discover.find_themes``): the pain behind each leak.
    proofs
        Play id -> what Prove measured (:class:`PlayProofLike`): shown with each play aimed at a
        leak; a play without one says "no proof yet".
    """
    frame = milestone_frame(events, journey, now=now)
    funnels = dict(funnels) if funnels is not None else _funnels(frame, journey)
    placed = dict(positions_by_path) if positions_by_path is not None else {
        pid: positions(frame, journey, path=pid) for pid in funnels
    }  # fmt: skip
    if personas is not None and not isinstance(personas, PersonaIndex):
        personas = PersonaIndex.of(personas)  # hashed once for every look-up
    groups = [p.id for p in journey.personas] if personas is not None and len(personas) else []
    everyone: list[Opportunity] = []
    per: dict[str, list[Opportunity]] = {g: [] for g in groups}
    for pid, result in funnels.items():
        if pid not in placed:
            continue
        leaks = _Leaks(
            journey, placed[pid], result, values, personas if personas is not None else {}
        )
        everyone += leaks.all(None)
        for g in groups:
            per[g] += leaks.all(g)
    decorate = _Decorate(journey, themes, proofs or {})
    notes = (
        [] if values is not None else ["no expected CLV: leaks are ranked by customers affected"]
    )
    return OpportunitiesResult(
        journey=journey.id,
        now=frame.now,
        value_source=None if values is None else values.source,
        opportunities=_ranked([decorate(o) for o in everyone]),
        by_persona={g: _ranked([decorate(o) for o in ops]) for g, ops in per.items()},
        early_wins=early_wins(frame, journey),
        notes=tuple(notes),
    )


def _funnels(frame: Any, journey: Journey) -> dict[str, FunnelResult]:
    measured = [p for p in journey.paths or (journey.path(None),)
                if all(journey.milestone(m).when is not None for m in p.milestone_ids)]  # fmt: skip
    return {p.id: funnel(frame, journey, path=p.id) for p in measured}


def _ranked(ops: list[Opportunity]) -> tuple[Opportunity, ...]:
    """Highest value at stake first (no value: after every valued one), then most affected.

    Paths that share two consecutive steps place mostly the same customers between them, so one
    leak would show once per path: it is kept once, on the path where it is worth most, and
    names the others (``also_on``). Strays stay per path (each path has its own).
    """
    order = sorted(ops, key=lambda o: (o.worth is None, -(o.worth or 0.0), -o.affected, o.id))
    kept: dict[tuple[str, str | None, str | None], Opportunity] = {}
    for o in order:
        key = (o.kind, o.milestone, o.next) if o.kind != "stray" else (o.kind, o.path, o.stray)
        if key in kept:
            first = kept[key]
            kept[key] = replace(first, also_on=(*first.also_on, o.path))
        else:
            kept[key] = o
    return tuple(kept.values())


class _Leaks:
    """The leaks of one path, for everyone or one persona's customers."""

    def __init__(
        self,
        journey: Journey,
        placed: PositionsResult,
        result: FunnelResult,
        values: CustomerValues | None,
        personas: Mapping[str, str] | PersonaIndex,
    ) -> None:
        self.journey, self.placed, self.result = journey, placed, result
        self.clv = None if values is None else values.of(placed.customer_ids)
        self.persona = persona_labels(placed.customer_ids, personas)
        self.funnel_persona = persona_labels(result.customer_ids, personas)
        # Once per path, not per persona: each mask is a pass over every placed customer.
        self.strays = {kind: placed.has_stray(kind) for kind in STRAY_KINDS}
        self.designed_way = ~placed.has_stray()

    def all(self, persona: str | None) -> list[Opportunity]:
        mask = np.ones(len(self.placed.customer_ids), bool) if persona is None else (
            self.persona == persona
        )  # fmt: skip
        rows = np.flatnonzero(
            np.ones(len(self.result.customer_ids), bool) if persona is None
            else self.funnel_persona == persona
        )  # fmt: skip
        steps = self.result.steps if persona is None else steps_among(
            self.result, self.journey, rows
        )  # fmt: skip
        out = [self._step(k, mask, steps, persona) for k in range(len(steps) - 1)]
        out += [self._lapse(k, mask, persona) for k in range(len(steps) - 1)]
        out += [self._stray(kind, mask, persona) for kind in STRAY_KINDS]
        return [o for o in out if o is not None]

    def _value(self, past: np.ndarray, hit: np.ndarray) -> ValueAtStake | None:
        if self.clv is None:
            return None
        return value_at_stake(self.clv[past], self.clv[hit])

    def _step(
        self, k: int, mask: np.ndarray, steps: tuple[FunnelStep, ...], persona: str | None
    ) -> Opportunity | None:
        p, path = self.placed, self.journey.path(self.result.path)
        at = mask & (p.position == k)
        post = self.journey.milestone(p.steps[k]).phase == "post"
        stuck = at & (p.status == _STUCK)
        lapsed = at & (p.status == _LAPSED) & (not post)
        hit = stuck | lapsed
        if not hit.any():
            return None
        nxt = steps[k + 1]
        step = path.steps[k + 1]
        designed = step.within or self.journey.milestone(step.milestone).expected_within
        designed_s = designed.total_seconds() if designed else None
        timing = nxt.time_from_previous
        med = timing.median if timing else None
        typical = reference_conversion(steps)
        conversion = nxt.share_of_previous if steps[k].customers else None
        level, reasons = card_health(
            k + 1, nxt.customers, steps[k].customers, conversion, med, designed_s, typical
        )
        return Opportunity(
            f"step:{p.path}:{p.steps[k]}", "step", p.path, p.steps[k], p.steps[k + 1], None,
            persona, int(hit.sum()), int(stuck.sum()), int(lapsed.sum()), conversion, typical,
            med, designed_s, _typical_time(steps), level, reasons,
            self._value(mask & (p.position > k), hit),
        )  # fmt: skip

    def _lapse(self, k: int, mask: np.ndarray, persona: str | None) -> Opportunity | None:
        p = self.placed
        if self.journey.milestone(p.steps[k]).phase != "post":
            return None
        hit = mask & (p.position == k) & (p.status == _LAPSED)
        if not hit.any():
            return None
        return Opportunity(
            f"lapse:{p.path}:{p.steps[k]}", "lapse", p.path, p.steps[k], p.steps[k + 1], None,
            persona, int(hit.sum()), 0, int(hit.sum()), None, None, None, None, None, "none", (),
            self._value(mask & (p.position > k), hit),
        )  # fmt: skip

    def _stray(self, kind: str, mask: np.ndarray, persona: str | None) -> Opportunity | None:
        p = self.placed
        hit = mask & self.strays[kind] & (p.status != _DONE)
        if not hit.any():
            return None
        designed_way = mask & self.designed_way
        return Opportunity(
            f"stray:{p.path}:{kind}", "stray", p.path, None, None, kind, persona,
            int(hit.sum()), int((hit & (p.status == _STUCK)).sum()),
            int((hit & (p.status == _LAPSED)).sum()), None, None, None, None, None, "none", (),
            self._value(designed_way, hit),
        )  # fmt: skip


def _typical_time(steps: tuple[FunnelStep, ...]) -> float | None:
    times = [s.time_from_previous.median for s in steps[1:] if s.time_from_previous is not None]
    return median(times) if times else None


class _Decorate:
    """Adds to a leak what members say there and what is being done about it."""

    def __init__(
        self, journey: Journey, themes: Sequence[ThemeLike], proofs: Mapping[str, PlayProofLike]
    ) -> None:
        self.journey, self.themes, self.proofs = journey, themes, proofs

    def __call__(self, o: Opportunity) -> Opportunity:
        j = self.journey
        if o.kind == "stray":
            plays = plays_aimed_at(j, o.path, stray=o.stray)
            touchpoints: tuple[Touchpoint, ...] = ()
        else:
            assert o.milestone is not None
            plays = plays_aimed_at(j, o.path, milestone=o.milestone, lapsed_only=o.kind == "lapse")
            # Only those designed from this milestone to the missed one: a touchpoint to
            # another step is not aimed at this leak.
            touchpoints = tuple(
                t for t in j.touchpoints if (t.from_, t.to) == (o.milestone, o.next)
            )
        efforts = tuple(
            Effort(p.id, p.title, p.channel, p.owner, self.proofs.get(p.id)) for p in plays
        )
        return replace(o, pains=self.pains(o), touchpoints=touchpoints, plays=efforts)

    def places(self, o: Opportunity) -> set[str]:
        ids = [m for m in (o.milestone, o.next) if m is not None]
        stages = {self.journey.milestone(m).stage for m in ids}
        return set(ids) | {s for s in stages if s is not None}

    def pains(self, o: Opportunity, top: int = 3) -> tuple[Pain, ...]:
        if o.kind == "stray":
            return ()
        places = self.places(o)
        found = []
        for t in self.themes:
            raised = sum(n for where, n in t.stages if where in places)
            if not raised or t.moment == "celebrate":  # a celebration is not the pain
                continue
            here = [q.text for q in t.quotes if q.stage in places]
            quotes = (here + [q.text for q in t.quotes if q.stage not in places])[:2]
            found.append(Pain(t.id, t.label, t.moment, raised, tuple(quotes)))
        found.sort(key=lambda p: (p.moment != "breakdown", -p.raised, p.label))
        return tuple(found[:top])


def opportunity_title(o: Opportunity, journey: Journey) -> str:
    """Where the leak is, in words: the same in the CLI, the report, the tree and the web."""
    titles = {m.id: m.title for m in journey.milestones}
    if o.kind == "stray":
        return f"{(o.stray or '').replace('_', ' ')} strays on path {o.path}"
    at = titles.get(o.milestone or "", o.milestone or "")
    if o.kind == "lapse":
        return f"Lapsed after “{at}”"
    return f"“{at}” → “{titles.get(o.next or '', o.next or '')}”"
