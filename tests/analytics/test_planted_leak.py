"""A leak planted in the simulator (one step made much worse for one persona) comes first in that
persona's ranking, on every seed: the ranking finds what is there, not noise.

The planted steps lead to a purchase. A leak after the purchase whose later steps buy nothing
(coding-course's first project) is worth little by definition: those who got past it are worth
no more than those who did not (docs/metrics.md "Opportunities").
"""

from __future__ import annotations

import ibis
import pytest

from journeykit.events.errors import EventsError
from journeykit.events.simulate import Leak, SimulationOptions, parse_leak, simulate
from journeykit.journey import load_journey
from journeykit.measure import measure
from tests.conftest import EXAMPLES

SAAS = load_journey(next(p for p in EXAMPLES if p.stem == "saas-trial"))
CODING = load_journey(next(p for p in EXAMPLES if p.stem == "coding-course"))


def _ranking(journey, leak: Leak, seed: int, persona: str) -> list[str | None]:  # type: ignore[no-untyped-def]
    table = simulate(journey, SimulationOptions(customers=3000, seed=seed, leaks=(leak,)))
    events = ibis.duckdb.connect().create_table("events", table)
    decisions = measure(events, journey).decisions
    assert decisions is not None and decisions.opportunities.value_source is not None
    return [o.next for o in decisions.opportunities.ranked(persona)]


@pytest.mark.slow
@pytest.mark.parametrize("seed", [0, 1, 2, 3, 4])
@pytest.mark.parametrize(
    ("journey", "leak"),
    [
        (SAAS, Leak("invited_team", "team_lead", 0.15)),
        (SAAS, Leak("first_board", "solo_maker", 0.15)),
        (CODING, Leak("enrolled", "graduate", 0.15)),
    ],
    ids=["saas-invited_team", "saas-first_board", "coding-enrolled"],
)
def test_the_planted_leak_comes_first_for_its_persona(journey, leak: Leak, seed: int) -> None:  # type: ignore[no-untyped-def]
    assert leak.persona is not None
    ranked = _ranking(journey, leak, seed, leak.persona)
    assert ranked[0] == leak.milestone, ranked[:3]


def test_leak_options_are_checked() -> None:
    assert parse_leak("invited_team:team_lead:0.1") == Leak("invited_team", "team_lead", 0.1)
    assert parse_leak("invited_team") == Leak("invited_team", None, 0.2)
    with pytest.raises(EventsError, match="MILESTONE"):
        parse_leak("invited_team:team_lead:2")
    with pytest.raises(EventsError, match="unknown persona 'team_led'; did you mean 'team_lead'"):
        simulate(SAAS, SimulationOptions(customers=10, leaks=(Leak("invited_team", "team_led"),)))
    with pytest.raises(EventsError, match="unknown milestone"):
        simulate(SAAS, SimulationOptions(customers=10, leaks=(Leak("nowhere"),)))


def test_a_leak_changes_only_its_step_for_its_persona() -> None:
    plain = simulate(SAAS, SimulationOptions(customers=2000, seed=4))
    leaky = simulate(SAAS, SimulationOptions(customers=2000, seed=4,
                                             leaks=(Leak("invited_team", "team_lead", 0.0),)))  # fmt: skip

    def invited(t) -> int:  # type: ignore[no-untyped-def]
        return sum(1 for e in t.column("event").to_pylist() if e == "teammate_invited")

    assert invited(leaky) < invited(plain)

    def entrants(t) -> set[str]:  # type: ignore[no-untyped-def]
        return {
            c
            for c, e in zip(
                t.column("customer_id").to_pylist(), t.column("event").to_pylist(), strict=True
            )
            if e == "signed_up"
        }

    assert entrants(leaky) == entrants(plain)  # the steps before the leak are as they were
