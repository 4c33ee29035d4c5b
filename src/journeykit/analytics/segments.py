"""Who belongs to which group: personas (by their `segment` rule) and property breakdowns.

One rule for every analysis (docs/metrics.md "Personas and breakdowns"), so a funnel by persona,
CLV by persona and community strata never disagree on who a customer is.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

import ibis
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from journeykit.analytics.compile import _Scalar, compile_rule, event_prefilter
from journeykit.analytics.fetch import to_arrow
from journeykit.analytics.milestones import AnalyticsError, first_persona
from journeykit.analytics.results import NONE
from journeykit.journey.schema import EventRule, Journey

if TYPE_CHECKING:
    import ibis.expr.types as ir

NONE_LABEL = "(none)"
BY_HELP = (
    "persona | property:KEY (first value the customer has) | first:KEY (on their first event) | "
    "last:KEY (on their last event) | all:KEY (every value they have) | step:N:KEY (on the "
    "event that served step N), or several joined by commas"
)
OTHER_LABEL = "(other)"


def personas_of(
    events: ir.Table, journey: Journey, *, now: datetime | None = None
) -> dict[str, int]:
    """Customer id -> index of the first persona (file order) whose ``segment`` an event matches."""
    rules = [(i, p.segment) for i, p in enumerate(journey.personas) if p.segment is not None]
    if not rules:
        return {}
    if now is not None:
        events = events.filter(events.timestamp <= now)
    names = event_prefilter([r for _, r in rules])
    if names is not None:  # skip the rows no rule can match before any JSON is read
        events = events.filter(events.event.isin(names))
    tagged = events.select("customer_id", persona=first_persona(events, journey).cast("int64"))
    tagged = tagged.filter(tagged.persona.notnull())
    table = to_arrow(tagged.group_by("customer_id").agg(persona=tagged.persona.min()))
    ids = table.column("customer_id").to_pylist()
    return dict(zip(ids, table.column("persona").to_pylist(), strict=True))


@dataclass(frozen=True, eq=False)
class PersonaIndex:
    """Customer id -> persona id, hashed once (Arrow) for the many look-ups of one run."""

    keys: pa.Array
    personas: np.ndarray

    @classmethod
    def of(cls, personas: Mapping[str, str]) -> PersonaIndex:
        return cls(pa.array(list(personas), pa.string()),
                   np.array(list(personas.values()), dtype=object))  # fmt: skip

    def __len__(self) -> int:
        return len(self.keys)


def persona_labels(ids: np.ndarray, personas: Mapping[str, str] | PersonaIndex) -> np.ndarray:
    """Each of ``ids``' persona id, ``(none)`` when it has none; by a hash look-up in Arrow (a
    Python loop, or pandas on object strings, took seconds a call at a million customers)."""
    out = np.full(len(ids), NONE_LABEL, dtype=object)
    if not len(personas) or not len(ids):
        return out
    index = personas if isinstance(personas, PersonaIndex) else PersonaIndex.of(personas)
    where = pc.index_in(pa.array(ids, pa.string()), value_set=index.keys)
    found = pc.is_valid(where).to_numpy(zero_copy_only=False)
    rows = where.to_numpy(zero_copy_only=False)
    out[found] = index.personas[rows[found].astype(np.int64)]
    return out


def persona_ids(
    events: ir.Table, journey: Journey, *, now: datetime | None = None
) -> dict[str, str]:
    """Customer id -> persona id (``personas_of`` with the persona's id, not its index)."""
    ids = [p.id for p in journey.personas]
    return {c: ids[i] for c, i in personas_of(events, journey, now=now).items()}


def _as_text(events: ir.Table, key: str) -> ir.StringValue:
    """A property's value as text whatever its JSON type; whole numbers without a '.0'."""
    prop = _Scalar(events, key)
    number = prop.number
    whole = ibis.ifelse(
        number == number.floor(), number.cast("int64").cast("string"), number.cast("string")
    )
    return ibis.coalesce(prop.text, whole, prop.flag.cast("string"))


def breakdowns(
    events: ir.Table,
    journey: Journey,
    by: str,
    *,
    now: datetime | None = None,
    limit: int | None = None,
) -> dict[str, list[str]]:
    """Group label -> customer ids, for ``by`` = ``persona``, ``property:KEY``, ``first:KEY``,
    ``last:KEY``, ``all:KEY``, or several of them joined by commas (labels joined by `` / ``).

    Every customer with an event is in exactly one group (``(none)`` when nothing applies),
    except with ``all:KEY``: in the group of every value they have. ``limit`` keeps the largest
    groups (ties by label) and puts the rest in ``(other)``. ``step:N:KEY`` needs the funnel's
    chosen attempts: ``analytics.funnel`` computes it with ``step_values``.
    """
    if now is not None:
        events = events.filter(events.timestamp <= now)
    parts = [p.strip() for p in by.split(",")]
    if len(parts) > 1 and any(p.startswith("all:") for p in parts):
        raise AnalyticsError(
            f"--by {by!r}: all:KEY puts a customer in several groups, so it cannot be combined"
        )
    if len(parts) > 1:
        labels: dict[str, list[str]] = {}
        for part in parts:
            for label, members in _one(events, journey, part).items():
                for c in members:
                    labels.setdefault(c, []).append(label)
        groups: dict[str, list[str]] = {}
        for c, mine in labels.items():
            groups.setdefault(" / ".join(mine), []).append(c)
        found = {k: sorted(v) for k, v in sorted(groups.items())}
    else:
        found = _one(events, journey, by)
    return found if limit is None else top_groups(found, limit)


def top_groups(groups: dict[str, list[str]], limit: int) -> dict[str, list[str]]:
    """The ``limit`` largest groups (ties by label), every other customer in ``(other)``."""
    if limit < 1:
        raise AnalyticsError(f"breakdown limit must be at least 1, got {limit}")
    ranked = sorted(groups, key=lambda g: (-len(groups[g]), g))
    kept = {g: groups[g] for g in sorted(ranked[:limit])}
    rest = sorted(c for g in ranked[limit:] for c in groups[g])
    return kept | ({OTHER_LABEL: rest} if rest else {})


def _one(events: ir.Table, journey: Journey, by: str) -> dict[str, list[str]]:
    if by == "persona":
        names = [p.id for p in journey.personas]
        if not any(p.segment is not None for p in journey.personas):
            raise AnalyticsError("--by persona: no persona in the journey has a 'segment' rule")
        found = personas_of(events, journey)
        everyone = to_arrow(events.select("customer_id").distinct())
        groups: dict[str, list[str]] = {}
        for c in everyone.column("customer_id").to_pylist():
            label = names[found[c]] if c in found else NONE_LABEL
            groups.setdefault(label, []).append(c)
        return {k: sorted(v) for k, v in sorted(groups.items())}
    kind, _, key = by.partition(":")
    if kind not in ("property", "first", "last", "all") or not key:
        raise AnalyticsError(f"--by {by!r}: expected {BY_HELP}")
    if kind == "all":
        return _every_value(events, key)
    t = events.mutate(_group=_as_text(events, key))
    if kind == "property":
        t = t.mutate(_rank=ibis.ifelse(t._group.isnull(), 1, 0))
    else:
        t = t.mutate(_rank=ibis.literal(0))
    # The first (last: latest) row per customer by (has the value, time, name, properties):
    # deterministic on ties.
    when = ibis.desc(t.timestamp) if kind == "last" else t.timestamp
    order = [t._rank, when, t.event, t.properties]
    ranked = t.mutate(_n=ibis.row_number().over(group_by=t.customer_id, order_by=order))
    first = to_arrow(ranked.filter(ranked._n == 0).select("customer_id", "_group"))
    out: dict[str, list[str]] = {}
    labels = first.column("_group").to_pylist()
    for c, label in zip(first.column("customer_id").to_pylist(), labels, strict=True):
        out.setdefault(NONE_LABEL if label is None else str(label), []).append(c)
    return {k: sorted(v) for k, v in sorted(out.items())}


def _every_value(events: ir.Table, key: str) -> dict[str, list[str]]:
    """Each value ``key`` takes on any event -> the customers with it; ``(none)``: no value."""
    t = to_arrow(events.select("customer_id", _group=_as_text(events, key)).distinct())
    out: dict[str, set[str]] = {}
    valued: set[str] = set()
    for c, label in zip(
        t.column("customer_id").to_pylist(), t.column("_group").to_pylist(), strict=True
    ):
        if label is not None:
            out.setdefault(str(label), set()).add(c)
            valued.add(c)
    for c in t.column("customer_id").to_pylist():
        if c not in valued:
            out.setdefault(NONE_LABEL, set()).add(c)
    return {k: sorted(v) for k, v in sorted(out.items())}


def parse_step_by(by: str, k_steps: int) -> tuple[int, str] | None:
    """``step:N:KEY`` as (0-based step, key); None for any other ``by``."""
    if not by.startswith("step:"):
        return None
    _, n, key = [*by.split(":", 2), "", ""][:3]
    if not n.isdigit() or not key or not 1 <= int(n) <= k_steps:
        raise AnalyticsError(
            f"--by {by!r}: expected step:N:KEY with N a step of the path (1 to {k_steps})"
        )
    return int(n) - 1, key


def step_values(
    events: ir.Table,
    rule: EventRule,
    key: str,
    customers: Sequence[str],
    times_us: np.ndarray,
) -> dict[str, list[str]]:
    """Group label -> customer ids by ``key`` on the event that served a step: the event at
    the customer's time of the step (``times_us``, NONE: not reached, ``(none)``) that meets
    the step's rule; of several at that time, the first by name, then properties."""
    reached = times_us != NONE
    served = ibis.memtable(
        pa.table(
            {
                "_c": pa.array(np.asarray(customers, dtype=object)[reached], pa.string()),
                "_t": pa.array(times_us[reached], pa.timestamp("us")),
            }
        )
    )
    t = events.filter(compile_rule(events, rule))
    t = t.join(served, [t.customer_id == served._c, t.timestamp == served._t])
    t = t.mutate(_group=_as_text(t, key))
    order = [t.event, t.properties]
    ranked = t.mutate(_n=ibis.row_number().over(group_by=t.customer_id, order_by=order))
    first = to_arrow(ranked.filter(ranked._n == 0).select("customer_id", "_group"))
    label_of = dict(
        zip(
            first.column("customer_id").to_pylist(), first.column("_group").to_pylist(), strict=True
        )
    )
    out: dict[str, list[str]] = {}
    for c in customers:
        label = label_of.get(c)
        out.setdefault(NONE_LABEL if label is None else str(label), []).append(c)
    return {k: sorted(v) for k, v in sorted(out.items())}


def members_where(
    events: ir.Table, journey: Journey, where: Sequence[str], *, now: datetime | None = None
) -> set[str] | None:
    """The customers every ``BY=LABEL`` of ``where`` holds for (``persona=team``,
    ``property:plan=pro``, ``all:utm=ads``): the ``BY`` breakdown's group ``LABEL``, so a filter
    and a breakdown never disagree on who is in a group. None: no filter."""
    kept: set[str] | None = None
    for text in where:
        by, eq, label = text.partition("=")
        if not eq or not by.strip() or by.strip().startswith("step:"):
            raise AnalyticsError(
                f"--where {text!r}: expected BY=LABEL with BY one of persona, property:KEY, "
                "first:KEY, last:KEY, all:KEY (e.g. persona=team, property:plan=pro)"
            )
        groups = breakdowns(events, journey, by.strip(), now=now)
        if label not in groups:
            known = ", ".join(list(groups)[:10])
            raise AnalyticsError(f"--where {text!r}: no customer has {label!r}; there are: {known}")
        mine = set(groups[label])
        kept = mine if kept is None else kept & mine
    return kept


_EPOCH = datetime(1970, 1, 1)


def cohort_bounds(text: str) -> tuple[int, int]:
    """``2024-03`` (a month) or ``2024-W10`` (an ISO week) as [start, end) in UTC microseconds."""
    us = timedelta(microseconds=1)
    month = re.fullmatch(r"(\d{4})-(\d{2})", text.strip())
    week = re.fullmatch(r"(\d{4})-W(\d{2})", text.strip(), flags=re.IGNORECASE)
    try:
        if month:
            y, m = int(month[1]), int(month[2])
            start = datetime(y, m, 1)
            end = datetime(y + m // 12, m % 12 + 1, 1)
        elif week:
            start = datetime.combine(
                date.fromisocalendar(int(week[1]), int(week[2]), 1), datetime.min.time()
            )
            end = start + timedelta(weeks=1)
        else:
            raise ValueError("no match")
    except ValueError:
        raise AnalyticsError(
            f"--cohort {text!r}: expected a month YYYY-MM (2024-03) or an ISO week YYYY-Www "
            "(2024-W10)"
        ) from None
    return (start - _EPOCH) // us, (end - _EPOCH) // us


def aggregated(events: ir.Table, by: str) -> tuple[ir.Table, int]:
    """The events with ``customer_id`` replaced by the id ``by`` (``property:KEY``, e.g. a group
    or session id) names, as text, and how many events lack it (left out: they have no unit)."""
    kind, _, key = by.partition(":")
    if kind != "property" or not key:
        raise AnalyticsError(
            f"--aggregate-by {by!r}: expected property:KEY (a group or session id on the events)"
        )
    unit = _as_text(events, key)
    missing = int(events.filter(unit.isnull()).count().execute())
    return events.mutate(customer_id=unit).filter(unit.notnull()), missing
