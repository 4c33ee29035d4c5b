"""Errors of acting on plays: each names the play and the field (or option) at fault."""

from __future__ import annotations

from typing import ClassVar

from journeykit.errors import JourneykitError


class ActError(JourneykitError):
    """A play cannot be run as asked."""


class UnknownPlayError(ActError):
    http_status: ClassVar[int] = 404


class TemplateError(ActError):
    """A message template that cannot be rendered for a customer."""


class DeliveryError(ActError):
    """A delivery target that cannot be used; the entries stay pending for the next run."""

    http_status: ClassVar[int] = 502


class ConcurrentActError(ActError):
    """Another ``act`` entered the same customers first; this run changed nothing."""

    http_status: ClassVar[int] = 409
