"""The web app's errors. Each declares its HTTP status; the app translates the whole
``JourneykitError`` tree in one handler, reading ``http_status`` (400 unless a class says)."""

from __future__ import annotations

from typing import ClassVar

from journeykit.errors import JourneykitError


class NotFound(JourneykitError):
    """A journey, revision, customer or file the request names does not exist."""

    http_status: ClassVar[int] = 404


class Conflict(JourneykitError):
    """What the request would create exists already."""

    http_status: ClassVar[int] = 409


class FilterError(JourneykitError):
    """A dashboard filter that cannot be used."""


class UserError(JourneykitError):
    """A user name, role or password that cannot be used."""


class UserExists(UserError):
    """A user of that name exists already."""

    http_status: ClassVar[int] = 409


class UploadError(JourneykitError):
    """An upload that cannot be imported."""


class StoreError(JourneykitError):
    """The app's state file cannot be used: damaged, on a full disk, or held too long."""

    http_status: ClassVar[int] = 503
