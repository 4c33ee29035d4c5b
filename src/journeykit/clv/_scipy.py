"""scipy is the `clv` extra: imported on first use, never when journeykit is imported."""

from __future__ import annotations

from types import ModuleType

from journeykit._optional import require


def special() -> ModuleType:
    return require("scipy.special", extra="clv")


def optimize() -> ModuleType:
    return require("scipy.optimize", extra="clv")
