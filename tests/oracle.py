"""Brute-force pure-Python reference for journeykit's milestone analytics.

Written only from DESIGN.md "Metric definitions" and docs/metrics.md; it enumerates instead of
being clever, so a fast implementation can be checked against it. No numpy, pandas or ibis.

Conventions (the fast implementation must match these exactly)
----------------------------------------------------------------
Time. Every analysis first drops events after ``now``; ``now`` defaults to the latest timestamp of
any event in the data (any customer, any event name). Timestamps compare at microsecond precision.

Matching (``matches``). All given parts of a rule must hold: ``event`` (the name is one of them),
every ``properties`` condition, the ``value`` condition, ``any_of`` (at least one sub-rule holds).
A property that is absent or JSON null is *missing*; the value ``None`` is missing. A missing
operand fails every operator except ``exists: false``. ``eq``/``ne``/``in``/``not_in`` compare
JSON scalars by kind: numbers with numbers (1 == 1.0), strings with strings, booleans with
booleans (True is not 1, "1" is not 1). ``gt``/``gte``/``lt``/``lte`` hold only for numbers
(not strings, not booleans). A list or object property fails every operator but ``exists``.
A milestone without a ``when`` rule matches nothing.

Funnel (``funnel``) returns::

    {"furthest": {customer: k},          # 1-based furthest step; only customers with k >= 1
     "steps": [{"milestone": id, "customers": n, "dropped": d, "in_progress": p}, ...],
     "start": {customer: datetime},      # t1 of the chosen attempt (ordered/strict only)
     "times": {customer: [T1, ..., Tk]}} # datetimes, k = furthest (ordered/strict only)

An *attempt* is a sequence of (step, event) uses: steps strictly increasing from step 1, only
optional steps skipped, distinct events, each event tagged with its step's milestone, times
non-decreasing (equal times are fine: ties are taken in path order and steps increase), and for
each consecutive pair (a, e) -> (b, f): ``tf - t1 <= window`` (a ``Months`` window: ``tf`` by
the same day n months after ``t1``); ``tf - te <= steps[b].within``;
no event tagged with an excluded milestone has ``te <= t <= tf``; in strict mode no tag (g, c)
with c a path milestone other than m_a and m_b, g neither e nor f, lies strictly between
(te, a) and (tf, b) in (timestamp, path index) order. An attempt reaches its last used step.
A ``first_time`` step's milestone tags only the customer's events at the earliest time they
reached it. Skipped optional steps count as passed; step k is *passed* by an attempt at the time of its first
use of a step >= k (its own event, or the next used step's event when k was skipped).
``times[c][k-1]`` is the earliest moment step k is passed by any attempt starting at ``start``.
Any-order mode: step j is reached by distinct events, one for step j itself and one for each
non-optional step before it, spanning at most ``window``; no within, no timing (``start`` and
``times`` are empty), no exclusions (ValueError), ``t1`` for in_progress is the set's earliest.

Positions (``positions``) returns ``{customer: {"milestone", "reached_at", "status", "strays"}}``
with ``strays`` a sorted list of ``(type, milestones)``:

- ``("skipped", (m,))``: m is a non-optional step before the position, never reached;
- ``("out_of_order", (mi, mj))``: steps i < j, both reached, first(mi) > first(mj) (ties are not);
- ``("backwards", (latest, position))``: the latest path-milestone tag, ties in path order (the
  highest path index at the latest time), is earlier on the path than the position;
- ``("off_path", (m,))``: m is on another path of the journey, not on this one, and was reached.

Paths (``paths``) returns ``{"variants": [(steps, customers), ...], "total": n,
"transitions": {(a, b): (count, median_seconds)}}``; ``total`` is the number of customers with
any milestone (the denominator of share).

Cohorts (``cohorts``) returns ``{monday: {"customers": n, "reached": {milestone: n}}}`` with a
key for every step milestone.
"""

from __future__ import annotations

import calendar
import itertools
import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from fractions import Fraction
from typing import Any, Literal

from journeykit.journey.schema import Condition, EventRule, Journey, JourneyPath, PathStep
from tests.builders import Event

Mode = Literal["ordered", "strict", "any"]
Tag = tuple[Event, str]
MISSING: Any = object()


# --------------------------------------------------------------------------- matching


def _is_number(x: Any) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool)


def _kind(x: Any) -> str | None:
    if isinstance(x, bool):
        return "bool"
    if _is_number(x):
        return "number"
    return "str" if isinstance(x, str) else None


def _same_scalar(a: Any, b: Any) -> bool:
    kind = _kind(a)
    return kind is not None and kind == _kind(b) and a == b


def _operator_holds(op: str, bound: Any, x: Any) -> bool:
    if op == "exists":
        return (x is not MISSING) == bound
    if x is MISSING or _kind(x) is None:
        return False
    if op == "eq":
        return _same_scalar(x, bound)
    if op == "ne":
        return not _same_scalar(x, bound)
    if op == "in_":
        return any(_same_scalar(x, b) for b in bound)
    if op == "not_in":
        return not any(_same_scalar(x, b) for b in bound)
    if not _is_number(x):
        return False
    compare = {"gt": x > bound, "gte": x >= bound, "lt": x < bound, "lte": x <= bound}
    return compare[op]


CONDITION_OPERATORS = ("eq", "ne", "in_", "not_in", "gt", "gte", "lt", "lte", "exists")


def condition_holds(cond: Condition, x: Any) -> bool:
    """Every operator the condition sets holds for ``x`` (``MISSING`` when absent or null)."""
    ops = [(op, getattr(cond, op)) for op in CONDITION_OPERATORS]
    return all(_operator_holds(op, bound, x) for op, bound in ops if bound is not None)


def matches(rule: EventRule, event: Event) -> bool:
    """The rule recognises the event: every given part of the rule holds (see module docstring)."""
    if rule.event is not None and event.event not in rule.event:
        return False
    for name, cond in rule.properties.items():
        x = event.properties.get(name)
        if not condition_holds(cond, MISSING if x is None else x):
            return False
    if rule.value is not None:
        x = MISSING if event.value is None else event.value
        if not condition_holds(rule.value, x):
            return False
    return rule.any_of is None or any(matches(sub, event) for sub in rule.any_of)


# --------------------------------------------------------------------------- milestone log


def default_now(events: Sequence[Event], now: datetime | None) -> datetime | None:
    """``now`` as given, else the latest timestamp of any event (None when there are none)."""
    if now is not None:
        return now
    return max((e.timestamp for e in events), default=None)


def as_of(events: Sequence[Event], now: datetime | None) -> tuple[list[Event], datetime | None]:
    """The events at or before ``now`` and the ``now`` used."""
    now = default_now(events, now)
    return [e for e in events if now is not None and e.timestamp <= now], now


def milestone_log(
    events: Sequence[Event], journey: Journey, now: datetime | None = None
) -> list[Tag]:
    """Every (event, milestone id) pair where the milestone's rule matches the event.

    An event is tagged with every milestone it matches. Events after ``now`` are dropped. Order:
    events in input order, and for one event its milestones in journey order.
    """
    kept, _ = as_of(events, now)
    return [
        (e, m.id)
        for e in kept
        for m in journey.milestones
        if m.when is not None and matches(m.when, e)
    ]


def milestone_rows(
    events: Sequence[Event], journey: Journey, now: datetime | None = None
) -> list[tuple[str, str, datetime, float | None]]:
    """The milestone log as sorted (customer_id, milestone, timestamp, value) rows."""
    rows = [
        (e.customer_id, m, e.timestamp, e.value) for e, m in milestone_log(events, journey, now)
    ]
    return sorted(rows, key=lambda r: (r[0], r[1], r[2], r[3] is not None, r[3] or 0.0))


# --------------------------------------------------------------------------- funnel


@dataclass(frozen=True)
class _Tagged:
    """One customer event with its position in the log (its identity) and its milestones."""

    index: int
    time: datetime
    milestones: frozenset[str]


@dataclass(frozen=True)
class _Use:
    step: int  # 0-based step index
    event: _Tagged


@dataclass(frozen=True)
class Months:
    """A calendar-month window: until the same day ``n`` months on, the month's last day when
    it is shorter (docs/metrics.md "Funnel", calendar-month window)."""

    n: int


def _month_deadline(start: datetime, n: int) -> datetime:
    year, month = divmod(start.year * 12 + start.month - 1 + n, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return start.replace(year=year, month=month + 1, day=min(start.day, last))


def _fits(window: timedelta | Months | None, t1: datetime, t: datetime) -> bool:
    """Whether time ``t`` lies within the window of an attempt that started at ``t1``."""
    if window is None:
        return True
    if isinstance(window, Months):
        return t <= _month_deadline(t1, window.n)
    return t - t1 <= window


@dataclass(frozen=True)
class _Spec:
    steps: tuple[PathStep, ...]
    window: timedelta | Months | None
    mode: Mode
    exclude: frozenset[str]

    @property
    def milestones(self) -> tuple[str, ...]:
        return tuple(s.milestone for s in self.steps)


Attempt = tuple[_Use, ...]


def _tagged_by_customer(
    events: Sequence[Event],
    journey: Journey,
    now: datetime | None,
    first_time: frozenset[str] = frozenset(),
) -> dict[str, list[_Tagged]]:
    """Per customer, events with the milestones they reach; a ``first_time`` milestone only on
    the customer's events at the earliest time they reached it."""
    kept, _ = as_of(events, now)
    out: dict[str, list[_Tagged]] = defaultdict(list)
    for i, e in enumerate(kept):
        ids = frozenset(
            m.id for m in journey.milestones if m.when is not None and matches(m.when, e)
        )
        if ids:
            out[e.customer_id].append(_Tagged(i, e.timestamp, ids))
    for customer, tags in out.items():
        for m in first_time:
            earliest = min((g.time for g in tags if m in g.milestones), default=None)
            tags[:] = [
                g
                if g.time == earliest or m not in g.milestones
                else _Tagged(g.index, g.time, g.milestones - {m})
                for g in tags
            ]
        out[customer] = [g for g in tags if g.milestones]
    return dict(out)


def _next_steps(spec: _Spec, a: int) -> Iterator[int]:
    """Steps that may follow step a: the next one, or later ones past optional steps only."""
    for b in range(a + 1, len(spec.steps)):
        yield b
        if not spec.steps[b].optional:
            return


def _excluded_between(tags: list[_Tagged], spec: _Spec, t0: datetime, t1: datetime) -> bool:
    return any(t0 <= g.time <= t1 and g.milestones & spec.exclude for g in tags)


def _strict_blocked(tags: list[_Tagged], spec: _Spec, prev: _Use, use: _Use) -> bool:
    low, high = (prev.event.time, prev.step), (use.event.time, use.step)
    own = {spec.milestones[prev.step], spec.milestones[use.step]}
    for g in tags:
        if g.index in (prev.event.index, use.event.index):
            continue
        for c, m in enumerate(spec.milestones):
            if m in g.milestones and m not in own and low < (g.time, c) < high:
                return True
    return False


def _may_follow(tags: list[_Tagged], spec: _Spec, attempt: Attempt, use: _Use) -> bool:
    """Whether ``use`` may extend ``attempt``: the per-pair conditions of the module docstring."""
    prev, te, tf = attempt[-1], attempt[-1].event.time, use.event.time
    within = spec.steps[use.step].within
    return (
        all(u.event.index != use.event.index for u in attempt)
        and te <= tf
        and _fits(spec.window, attempt[0].event.time, tf)
        and (within is None or tf - te <= within)
        and not _excluded_between(tags, spec, te, tf)
        and not (spec.mode == "strict" and _strict_blocked(tags, spec, prev, use))
    )


def _uses(tags: list[_Tagged], spec: _Spec, step: int) -> list[_Use]:
    return [_Use(step, g) for g in tags if spec.milestones[step] in g.milestones]


def ordered_attempts(tags: list[_Tagged], spec: _Spec) -> list[Attempt]:
    """Every attempt (ordered or strict). All conditions are per consecutive pair or against t1,
    so every prefix of an attempt is an attempt and growing prefixes enumerates them all."""
    found: list[Attempt] = []

    def grow(attempt: Attempt) -> None:
        found.append(attempt)
        for b in _next_steps(spec, attempt[-1].step):
            for use in _uses(tags, spec, b):
                if _may_follow(tags, spec, attempt, use):
                    grow((*attempt, use))

    for first in _uses(tags, spec, 0):
        grow((first,))
    return found


def _passed_at(attempt: Attempt, k: int) -> datetime | None:
    """When the attempt passes 0-based step k: its first use of a step >= k."""
    return next((u.event.time for u in attempt if u.step >= k), None)


def any_order_sets(tags: list[_Tagged], spec: _Spec, j: int) -> list[tuple[_Tagged, ...]]:
    """Every set of distinct events reaching 0-based step j in any-order mode."""
    needed = [i for i in range(j) if not spec.steps[i].optional] + [j]
    pools = [[g for g in tags if spec.milestones[i] in g.milestones] for i in needed]
    found = []
    for combo in itertools.product(*pools):
        times = [g.time for g in combo]
        distinct = len({g.index for g in combo}) == len(combo)
        if distinct and _fits(spec.window, min(times), max(times)):
            found.append(combo)
    return found


@dataclass(frozen=True)
class _Outcome:
    furthest: int  # 1-based
    in_progress: bool
    start: datetime | None
    times: list[datetime] | None


def _ordered_outcome(tags: list[_Tagged], spec: _Spec, now: datetime) -> _Outcome | None:
    attempts = ordered_attempts(tags, spec)
    if not attempts:
        return None
    furthest = max(a[-1].step for a in attempts) + 1
    best = [a for a in attempts if a[-1].step + 1 == furthest]
    start = min(a[0].event.time for a in best)
    from_start = [a for a in attempts if a[0].event.time == start]
    times = [
        min(t for a in from_start if (t := _passed_at(a, k)) is not None) for k in range(furthest)
    ]
    return _Outcome(furthest, _has_time_left(spec, best, now), start, times)


def _has_time_left(spec: _Spec, best: list[Attempt], now: datetime) -> bool:
    """Some attempt reaching the furthest step j can still go on at ``now``."""
    j = best[0][-1].step
    nxt = spec.steps[j + 1].within if j + 1 < len(spec.steps) else None
    return any(
        _fits(spec.window, a[0].event.time, now) and (nxt is None or now - a[-1].event.time <= nxt)
        for a in best
    )


def _any_outcome(tags: list[_Tagged], spec: _Spec, now: datetime) -> _Outcome | None:
    reached = {j: any_order_sets(tags, spec, j) for j in range(len(spec.steps))}
    furthest = max((j + 1 for j, sets in reached.items() if sets), default=0)
    if furthest == 0:
        return None
    sets = reached[furthest - 1]
    alive = any(_fits(spec.window, min(g.time for g in s), now) for s in sets)
    return _Outcome(furthest, alive, None, None)


def funnel(
    events: Sequence[Event],
    journey: Journey,
    *,
    path: str | None = None,
    mode: Mode = "ordered",
    window: timedelta | Months | None = timedelta(days=30),
    now: datetime | None = None,
    exclude: Iterable[str] = (),
) -> dict[str, Any]:
    """The funnel over the path's steps (DESIGN "Funnel", docs/metrics.md "Funnel").

    For step j (1-based): ``customers`` = customers whose furthest step >= j; ``dropped`` and
    ``in_progress`` split the customers whose furthest step == j < last; a customer is in progress
    when some attempt reaching j has ``now - t1 <= window`` and, if step j+1 has ``within``,
    ``now - tj <= within`` (with ``window=None`` only the per-step window can close). The chosen attempt is the
    earliest start that reaches the furthest step. Shape: see the module docstring.
    """
    spec = _Spec(journey.path(path).steps, window, mode, frozenset(exclude))
    if mode == "any" and spec.exclude:
        raise ValueError("exclusions are defined between consecutive steps; any-order has none")
    _, now = as_of(events, now)
    outcome_of = _any_outcome if mode == "any" else _ordered_outcome
    outcomes = {}
    firsts = frozenset(s.milestone for s in spec.steps if s.first_time)
    for customer, tags in _tagged_by_customer(events, journey, now, firsts).items():
        assert now is not None
        if (outcome := outcome_of(tags, spec, now)) is not None:
            outcomes[customer] = outcome
    return _funnel_result(spec, outcomes)


def _funnel_result(spec: _Spec, outcomes: dict[str, _Outcome]) -> dict[str, Any]:
    last = len(spec.steps)
    steps = []
    for j, m in enumerate(spec.milestones, start=1):
        here = [o for o in outcomes.values() if o.furthest == j] if j < last else []
        steps.append(
            {
                "milestone": m,
                "customers": sum(o.furthest >= j for o in outcomes.values()),
                "dropped": sum(not o.in_progress for o in here),
                "in_progress": sum(o.in_progress for o in here),
            }
        )
    return {
        "furthest": {c: o.furthest for c, o in outcomes.items()},
        "steps": steps,
        "start": {c: o.start for c, o in outcomes.items() if o.start is not None},
        "times": {c: o.times for c, o in outcomes.items() if o.times is not None},
        "open": {c: o.in_progress and o.furthest < last for c, o in outcomes.items()},
    }


def correlation(
    events: Sequence[Event],
    journey: Journey,
    result: dict[str, Any],
    *,
    path: str | None = None,
    prop: str | None = None,
) -> dict[str, tuple[int, int, Fraction, float]]:
    """docs/metrics.md "Funnel correlation": label -> (success, failure, odds ratio, p-value).

    ``result`` is this module's ``funnel``. A customer's attempt runs from ``times[0]`` to their
    furthest step's time; events that reach a path milestone do not count; in-progress customers
    are left out; the p-value is the two-sided Fisher exact test, by enumeration.
    """
    steps = [journey.milestone(s.milestone) for s in journey.path(path).steps]
    last = len(steps)
    success = {c for c, k in result["furthest"].items() if k == last}
    failure = {c for c, k in result["furthest"].items() if k < last and not result["open"][c]}
    seen: dict[str, tuple[set[str], set[str]]] = {}
    for e in events:
        c = e.customer_id
        if c not in success and c not in failure:
            continue
        times = result["times"][c]
        if not times[0] <= e.timestamp <= times[-1]:
            continue
        if any(m.when is not None and matches(m.when, e) for m in steps):
            continue
        if prop is None:
            label = e.event
        else:
            v = e.properties.get(prop)
            if v is None or isinstance(v, (list, dict)):
                continue
            text = (
                str(v).lower()
                if isinstance(v, bool)
                else (str(int(v)) if isinstance(v, float) and v.is_integer() else str(v))
            )
            label = f"{e.event} {prop}={text}"
        s_set, f_set = seen.setdefault(label, (set(), set()))
        (s_set if c in success else f_set).add(c)
    S, F = len(success), len(failure)
    out = {}
    for label, (s_set, f_set) in seen.items():
        s, f = len(s_set), len(f_set)
        odds = Fraction((s + 1) * (F - f + 1), (S - s + 1) * (f + 1))
        out[label] = (s, f, odds, _fisher(s, S - s, f, F - f))
    return out


def _fisher(a: int, b: int, c: int, d: int) -> float:
    """Two-sided Fisher exact p-value of [[a, b], [c, d]]: the probability, with the margins
    fixed, of every table no more likely than this one."""
    from math import comb

    row, col, n = a + b, a + c, a + b + c + d

    def p(x: int) -> Fraction:
        return Fraction(comb(col, x) * comb(n - col, row - x), comb(n, row))

    here = p(a)
    low, high = max(0, row + col - n), min(row, col)
    return float(
        sum(q for x in range(low, high + 1) if (q := p(x)) <= here * (1 + Fraction(1, 10**7)))
    )


# --------------------------------------------------------------------------- statistics


def quantile(values: Sequence[Any], q: float | Fraction) -> Any:
    """The q-quantile with linear interpolation between closest ranks (numpy's default)."""
    xs = sorted(values)
    h = (len(xs) - 1) * q
    lo = int(h)  # h >= 0, so int() is floor
    if lo + 1 >= len(xs):
        return xs[-1]
    return xs[lo] + (h - lo) * (xs[lo + 1] - xs[lo])


def time_stats(seconds: Sequence[float]) -> dict[str, float | None]:
    """Median, p25, p75 and p90 of durations in seconds (linear interpolation); None when empty."""
    qs = {"median": 0.5, "p25": 0.25, "p75": 0.75, "p90": 0.9}
    if not seconds:
        return dict.fromkeys(qs)
    return {name: float(quantile([float(s) for s in seconds], q)) for name, q in qs.items()}


def time_to_convert(result: dict[str, Any]) -> list[dict[str, Any]]:
    """Per step k of a funnel result: ``time_stats`` of Tk - T(k-1) and of Tk - T1, in seconds,
    over the customers who passed step k (DESIGN "Time to convert"). Step 1 has no previous."""
    out = []
    for k, step in enumerate(result["steps"]):
        passed = [ts for ts in result["times"].values() if len(ts) > k]
        prev = [(ts[k] - ts[k - 1]).total_seconds() for ts in passed] if k else []
        out.append(
            {
                "milestone": step["milestone"],
                "from_previous": time_stats(prev),
                "from_start": time_stats([(ts[k] - ts[0]).total_seconds() for ts in passed]),
            }
        )
    return out


def _micros(d: timedelta) -> int:
    return (d.days * 86_400 + d.seconds) * 1_000_000 + d.microseconds


# --------------------------------------------------------------------------- positions


def first_reach(
    events: Sequence[Event], journey: Journey, now: datetime | None = None
) -> dict[str, dict[str, datetime]]:
    """{customer: {milestone: first timestamp}} over events at or before ``now``."""
    out: dict[str, dict[str, datetime]] = defaultdict(dict)
    for e, m in milestone_log(events, journey, now):
        seen = out[e.customer_id]
        seen[m] = min(seen.get(m, e.timestamp), e.timestamp)
    return dict(out)


def _latest_path_milestone(tags: list[Tag], path: JourneyPath) -> str:
    order = path.milestone_ids
    on_path = [(e.timestamp, order.index(m)) for e, m in tags if m in order]
    return order[max(on_path)[1]]


def strays(
    first: dict[str, datetime], tags: list[Tag], journey: Journey, path: JourneyPath
) -> list[tuple[str, tuple[str, ...]]]:
    """The customer's strays against the path, sorted (conventions in the module docstring)."""
    order = path.milestone_ids
    pos = max(i for i, m in enumerate(order) if m in first)
    found = [
        ("skipped", (m,))
        for i, m in enumerate(order[:pos])
        if m not in first and not path.steps[i].optional
    ]
    for i, j in itertools.combinations(range(len(order)), 2):
        mi, mj = order[i], order[j]
        if mi in first and mj in first and first[mi] > first[mj]:
            found.append(("out_of_order", (mi, mj)))
    latest = _latest_path_milestone(tags, path)
    if order.index(latest) < pos:
        found.append(("backwards", (latest, order[pos])))
    others = {m for p in journey.paths if p.id != path.id for m in p.milestone_ids}
    found += [("off_path", (m,)) for m in sorted(others - set(order)) if m in first]
    return sorted(found)


def stuck_threshold(
    firsts: dict[str, dict[str, datetime]], journey: Journey, path: JourneyPath, pos: int
) -> Fraction | None:
    """Microseconds a customer may stay at step ``pos`` (0-based) before being stuck.

    The next step's ``expected_within``; else the p90 (linear interpolation) of first(next) -
    first(position) over customers who reached both with first(next) >= first(position); None
    when neither exists.
    """
    here, nxt = path.milestone_ids[pos], path.milestone_ids[pos + 1]
    expected = journey.milestone(nxt).expected_within
    if expected is not None:
        return Fraction(_micros(expected))
    gaps = [
        _micros(f[nxt] - f[here])
        for f in firsts.values()
        if here in f and nxt in f and f[nxt] >= f[here]
    ]
    return Fraction(quantile(gaps, Fraction(9, 10))) if gaps else None


def positions(
    events: Sequence[Event],
    journey: Journey,
    *,
    path: str | None = None,
    now: datetime | None = None,
    lapsed_after: timedelta | None = None,
) -> dict[str, dict[str, Any]]:
    """Each customer's position on the path, its status and strays (DESIGN "Position", "Status").

    Customers with at least one path milestone are included. Status is the first that applies:
    completed (the last step's milestone reached), lapsed (now - latest event of any kind >=
    lapsed_after), stuck (not last and now - reached_at > threshold, see ``stuck_threshold``),
    strayed (any stray), on_track.
    """
    p = journey.path(path)
    if lapsed_after is None:
        lapsed_after = journey.lapse_horizon
    kept, now = as_of(events, now)
    firsts = first_reach(kept, journey)
    tags_by: dict[str, list[Tag]] = defaultdict(list)
    for e, m in milestone_log(kept, journey):
        tags_by[e.customer_id].append((e, m))
    last_seen: dict[str, datetime] = {}
    for e in kept:
        last_seen[e.customer_id] = max(last_seen.get(e.customer_id, e.timestamp), e.timestamp)
    out = {}
    for customer, first in firsts.items():
        if not set(first) & set(p.milestone_ids):
            continue
        assert now is not None
        out[customer] = _position(first, tags_by[customer], journey, p)
        lapsed = now - last_seen[customer] >= lapsed_after
        out[customer]["status"] = _status(out[customer], firsts, journey, p, now, lapsed)
    return out


def _position(
    first: dict[str, datetime], tags: list[Tag], journey: Journey, path: JourneyPath
) -> dict[str, Any]:
    order = path.milestone_ids
    pos = max(i for i, m in enumerate(order) if m in first)
    return {
        "milestone": order[pos],
        "reached_at": first[order[pos]],
        "status": None,
        "strays": strays(first, tags, journey, path),
    }


def _status(
    row: dict[str, Any],
    firsts: dict[str, dict[str, datetime]],
    journey: Journey,
    path: JourneyPath,
    now: datetime,
    lapsed: bool,
) -> str:
    order = path.milestone_ids
    pos = order.index(row["milestone"])
    if pos == len(order) - 1:
        return "completed"
    if lapsed:
        return "lapsed"
    threshold = stuck_threshold(firsts, journey, path, pos)
    if threshold is not None and _micros(now - row["reached_at"]) > threshold:
        return "stuck"
    return "strayed" if row["strays"] else "on_track"


# --------------------------------------------------------------------------- paths


def _runs(tags: list[tuple[datetime, int, str]]) -> list[tuple[str, datetime, datetime]]:
    """Consecutive repeats collapsed: (milestone, first time, last time) per run."""
    runs: list[tuple[str, datetime, datetime]] = []
    for t, _, m in sorted(tags):
        if runs and runs[-1][0] == m:
            runs[-1] = (m, runs[-1][1], t)
        else:
            runs.append((m, t, t))
    return runs


def paths(
    events: Sequence[Event],
    journey: Journey,
    *,
    top: int | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Milestone sequences per customer and the directly-follows transitions (DESIGN "Paths").

    Per customer: every tag of every journey milestone in time order (ties in journey order),
    consecutive repeats collapsed. Variants sorted by customers desc then steps asc, the first
    ``top`` kept. A transition a -> b is counted per occurrence; its time runs from the last event
    of the run of a to the first event of the run of b; median in seconds (statistics.median).
    """
    order = [m.id for m in journey.milestones]
    per_customer: dict[str, list[tuple[datetime, int, str]]] = defaultdict(list)
    for e, m in milestone_log(events, journey, now):
        per_customer[e.customer_id].append((e.timestamp, order.index(m), m))
    return _variants_and_transitions(per_customer, top)


def event_paths(
    events: Sequence[Event],
    *,
    only: Iterable[str] = (),
    skip: Iterable[str] = (),
    now: datetime | None = None,
) -> dict[str, Any]:
    """``paths`` over raw event names (filtered), ties at one time in event-name order."""
    keep_only, drop = set(only), set(skip)
    kept, _ = as_of(events, now)
    per_customer: dict[str, list[tuple[datetime, int, str]]] = defaultdict(list)
    for e in kept:
        if (keep_only and e.event not in keep_only) or e.event in drop:
            continue
        per_customer[e.customer_id].append((e.timestamp, 0, e.event))
    return _variants_and_transitions(per_customer, None)


def _variants_and_transitions(
    per_customer: dict[str, list[tuple[datetime, int, str]]], top: int | None
) -> dict[str, Any]:
    """Collapsed sequences counted (customers desc, steps asc) and directly-follows gaps."""
    variants: Counter[tuple[str, ...]] = Counter()
    gaps: dict[tuple[str, str], list[float]] = defaultdict(list)
    for tags in per_customer.values():
        runs = _runs(tags)
        variants[tuple(r[0] for r in runs)] += 1
        for (a, _, a_last), (b, b_first, _) in itertools.pairwise(runs):
            gaps[(a, b)].append((b_first - a_last).total_seconds())
    ranked = sorted(variants.items(), key=lambda kv: (-kv[1], kv[0]))
    return {
        "variants": ranked if top is None else ranked[:top],
        "total": len(per_customer),
        "transitions": {k: (len(v), statistics.median(v)) for k, v in gaps.items()},
    }


# --------------------------------------------------------------------------- cohorts


def iso_week_start(t: datetime) -> date:
    """The Monday of t's ISO week."""
    return t.date() - timedelta(days=t.weekday())


def cohorts(
    events: Sequence[Event],
    journey: Journey,
    *,
    path: str | None = None,
    days: int = 30,
    now: datetime | None = None,
) -> dict[date, dict[str, Any]]:
    """Cohorts by ISO week of entry (docs/metrics.md "Cohorts").

    Entry: the customer's first reach of the path's first milestone. For each step milestone,
    ``reached`` counts cohort customers whose *first* reach of it lies in [entry, entry + days]
    (both ends included; a first reach before entry does not count).
    """
    order = journey.path(path).milestone_ids
    out: dict[date, dict[str, Any]] = {}
    for first in first_reach(events, journey, now).values():
        if order[0] not in first:
            continue
        entry = first[order[0]]
        cohort = out.setdefault(
            iso_week_start(entry), {"customers": 0, "reached": dict.fromkeys(order, 0)}
        )
        cohort["customers"] += 1
        for m in order:
            if m in first and entry <= first[m] <= entry + timedelta(days=days):
                cohort["reached"][m] += 1
    return out


# --------------------------------------------------------------------------- play audiences


def play_audience(
    events: Sequence[Event], journey: Journey, play: Any, *, now: datetime | None = None
) -> set[str]:
    """The customers due for ``play`` at ``now`` (DESIGN "Play audience"), before the ledger.

    Status and position from ``positions`` on the play's path; ``after`` (stuck only): now -
    reached_at > threshold + after; ``stray``: a stray of that type; ``persona``: the first
    persona in file order whose segment rule any of the customer's events (at or before now)
    matches; ``when``: any event at or before now matches the rule.
    """
    who = play.who
    p = journey.path(who.path)
    kept, now = as_of(events, now)
    assert now is not None
    placed = positions(kept, journey, path=who.path, now=now)
    firsts = first_reach(kept, journey)
    by_customer: dict[str, list[Event]] = defaultdict(list)
    for e in kept:
        by_customer[e.customer_id].append(e)
    out = set()
    for customer, row in placed.items():
        if row["status"] != who.status:
            continue
        if who.milestone is not None and row["milestone"] != who.milestone:
            continue
        if who.after is not None:
            pos = p.milestone_ids.index(row["milestone"])
            threshold = stuck_threshold(firsts, journey, p, pos)
            waited = _micros(now - row["reached_at"])
            if threshold is None or not waited > threshold + _micros(who.after):
                continue
        if who.stray is not None and not any(t == who.stray for t, _ in row["strays"]):
            continue
        mine = by_customer[customer]
        if who.persona is not None:
            tagged = [
                i
                for i, persona in enumerate(journey.personas)
                if persona.segment is not None and any(matches(persona.segment, e) for e in mine)
            ]
            if not tagged or journey.personas[min(tagged)].id != who.persona:
                continue
        if who.when is not None and not any(matches(who.when, e) for e in mine):
            continue
        out.add(customer)
    return out
