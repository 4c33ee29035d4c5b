"""Exports of a package imported on first use (PEP 562), so one command pays for its own imports.

A package lists ``{public name: submodule}`` and calls ``lazy_exports``; ``from package import
name`` then imports only that submodule. Where a submodule and its main function share a name
(``analytics.funnel``), the package attribute stays the function even after the submodule is
imported, as it was when packages imported everything eagerly.
"""

from __future__ import annotations

import importlib
import sys
import types
from collections.abc import Callable, Mapping
from typing import Any


def lazy_exports(package: str, exports: Mapping[str, str]) -> Callable[[str], Any]:
    """The module ``__getattr__`` for ``package``; also keeps shadowed names bound to functions."""
    module = sys.modules[package]

    def __getattr__(name: str) -> Any:
        where = exports.get(name)
        if where is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(f"{package}.{where}"), name)
        setattr(module, name, value)
        return value

    class _Package(types.ModuleType):
        def __setattr__(self, name: str, value: Any) -> None:
            if isinstance(value, types.ModuleType) and exports.get(name) == name:
                value = getattr(value, name)  # the import system binding submodule `name`
            super().__setattr__(name, value)

    module.__class__ = _Package
    return __getattr__
