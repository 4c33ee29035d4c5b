"""Shared pieces of the act tests: a workspace with simulated saas-trial events."""

from __future__ import annotations

from pathlib import Path

import pytest

import tests.analytics.conftest  # noqa: F401  (registers the "analytics" hypothesis profile)
from journeykit.engine.workspace import import_files
from journeykit.events.simulate import SimulationOptions, simulate_to_file
from journeykit.journey import Journey, load_journey
from journeykit.workspace import Workspace, create_workspace


def make_workspace(root: Path, customers: int = 400, seed: int = 3) -> Workspace:
    ws = create_workspace(root, template="saas-trial")
    events = root / "events.csv"
    simulate_to_file(load_journey(ws.journey_file), SimulationOptions(customers, seed=seed), events)
    import_files(ws, [events])
    return ws


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    return make_workspace(tmp_path / "ws")


@pytest.fixture
def journey(ws: Workspace) -> Journey:
    return load_journey(ws.journey_file)
