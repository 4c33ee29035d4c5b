"""Events that satisfy a milestone's ``when`` rule: the simulator's way to hit every milestone.

``sample_rule`` returns an (event, properties, value) that the rule matches; ``rule_holds`` is the
reading of a rule used to check each sample (a missing property fails every operator except
``exists: false``, as a NULL does in SQL).
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from typing import Any

from journeykit.events.errors import EventsError
from journeykit.journey.schema import Condition, EventRule

Scalar = str | bool | int | float
_NEUTRAL_EVENT = "activity"
_MISSING = object()


@dataclass(frozen=True)
class Sample:
    event: str
    properties: dict[str, Any] = field(default_factory=dict)
    value: float | None = None


def sample_rule(rule: EventRule, rng: random.Random, *, tries: int = 50) -> Sample:
    """An event the rule matches; raises when none is found (a contradictory rule)."""
    for _ in range(tries):
        candidate = _draw(rule, rng)
        if candidate is not None and rule_holds(rule, candidate):
            return candidate
    raise EventsError(
        f"cannot make an event that matches the rule {rule.model_dump(by_alias=True)}"
    )


def _draw(rule: EventRule, rng: random.Random) -> Sample | None:
    base = _draw(rng.choice(rule.any_of), rng) if rule.any_of else None
    names = list(rule.event or ())
    if base is not None and names and base.event not in names:
        return None
    event = base.event if base else (rng.choice(names) if names else _NEUTRAL_EVENT)
    props = dict(base.properties) if base else {}
    for key, cond in rule.properties.items():
        drawn = draw_condition(cond, rng)
        if drawn is _MISSING:
            props.pop(key, None)
        else:
            props[key] = drawn
    value = base.value if base else None
    if rule.value is not None:
        drawn = draw_condition(rule.value, rng, numeric=True)
        value = None if drawn is _MISSING else float(drawn)
    return Sample(event, props, value)


def draw_condition(cond: Condition, rng: random.Random, *, numeric: bool = False) -> Any:
    """A value for which every operator of ``cond`` holds (``_MISSING`` for exists: false)."""
    if cond.exists is False:
        return _MISSING
    if cond.eq is not None:
        return cond.eq
    if cond.in_:
        return rng.choice(cond.in_)
    if any(b is not None for b in (cond.gt, cond.gte, cond.lt, cond.lte)) or numeric:
        return _number_between(cond, rng)
    banned = {cond.ne, *(cond.not_in or ())}
    return next(f"other_{i}" for i in range(len(banned) + 1) if f"other_{i}" not in banned)


def _number_between(cond: Condition, rng: random.Random) -> float:
    lo = cond.gte if cond.gte is not None else (cond.gt + 1e-6 if cond.gt is not None else None)
    hi = cond.lte if cond.lte is not None else (cond.lt - 1e-6 if cond.lt is not None else None)
    lo = lo if lo is not None else (hi - 100 if hi is not None else 1.0)
    hi = hi if hi is not None else lo + 100
    whole = list(range(math.ceil(lo), math.floor(hi) + 1))
    return float(rng.choice(whole[:100])) if whole else (lo + hi) / 2


def rule_holds(rule: EventRule, s: Sample) -> bool:
    if rule.event and s.event not in rule.event:
        return False
    for key, cond in rule.properties.items():
        if not condition_holds(cond, s.properties.get(key, _MISSING)):
            return False
    if rule.value is not None and not condition_holds(
        rule.value, _MISSING if s.value is None else s.value
    ):
        return False
    return not rule.any_of or any(rule_holds(sub, s) for sub in rule.any_of)


def condition_holds(cond: Condition, value: Any) -> bool:
    if value is _MISSING:
        return cond.exists is False
    number = value if isinstance(value, int | float) and not isinstance(value, bool) else None
    checks = [
        cond.exists is not False,
        cond.eq is None or value == cond.eq,
        cond.ne is None or value != cond.ne,
        cond.in_ is None or value in cond.in_,
        cond.not_in is None or value not in cond.not_in,
    ]
    for bound, test in ((cond.gt, "gt"), (cond.gte, "gte"), (cond.lt, "lt"), (cond.lte, "lte")):
        if bound is not None:
            checks.append(number is not None and _compare(number, test, bound))
    return all(checks)


def _compare(x: float, op: str, bound: float) -> bool:
    return {"gt": x > bound, "gte": x >= bound, "lt": x < bound, "lte": x <= bound}[op]
