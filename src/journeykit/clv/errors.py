"""CLV errors; kept here (not in journeykit.errors) so parallel branches do not collide."""

from __future__ import annotations

from pathlib import Path

from journeykit.errors import JourneykitError


class RFMError(JourneykitError, ValueError):
    """A frequency/recency/T/monetary summary that cannot be used, with where it is wrong."""

    def __init__(
        self,
        message: str,
        *,
        column: str | None = None,
        row: int | None = None,
        path: Path | str | None = None,
        line: int | None = None,
    ) -> None:
        self.message, self.column, self.row, self.line = message, column, row, line
        self.path = Path(path) if path is not None else None
        super().__init__(str(self))

    def __str__(self) -> str:
        where = [self.path.name] if self.path is not None else []
        if self.line is not None:  # a line of a text file (the header is line 1)
            where.append(f"line {self.line}")
        elif self.row is not None:
            where.append(f"row {self.row}")
        if self.column is not None:
            where.append(f"column {self.column!r}")
        return f"{', '.join(where)}: {self.message}" if where else self.message


class ConvergenceError(JourneykitError):
    """A fit whose optimiser did not reach a usable optimum (only raised when asked to)."""


class NotFittedError(JourneykitError, AttributeError):
    """A prediction was asked of a model that has not been fitted or given parameters."""


class ModelFileError(JourneykitError, ValueError):
    """A saved model (JSON) that cannot be read back."""
