"""Optional parts are imported where they are used, with an error naming the extra."""

from __future__ import annotations

import importlib
from types import ModuleType

from journeykit.errors import MissingExtraError


def require(module: str, *, extra: str) -> ModuleType:
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise MissingExtraError(
            f"{module} is needed for this; install the '{extra}' extra: "
            f"pip install 'journeykit[{extra}]'"
        ) from exc
