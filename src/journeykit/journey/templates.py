"""Complete example journeys shipped as package data, for ``journeykit init --template``."""

from __future__ import annotations

from importlib import resources
from importlib.resources.abc import Traversable

from journeykit.errors import UnknownTemplateError


def _folder() -> Traversable:
    return resources.files("journeykit").joinpath("templates")


def template_names() -> list[str]:
    return sorted(
        p.name.removesuffix(".yaml") for p in _folder().iterdir() if p.name.endswith(".yaml")
    )


def template_text(name: str) -> str:
    names = template_names()
    if name not in names:
        raise UnknownTemplateError(name, names)
    return _folder().joinpath(f"{name}.yaml").read_text("utf-8")
