"""The choices the CLV functions take, kept apart so the CLI can list them without importing
pandas and the analytics (``journeykit --help`` stays fast)."""

from __future__ import annotations

from typing import Literal

Unit = Literal["days", "weeks"]
UNITS: dict[str, str] = {"days": "D", "weeks": "W"}
GROUPINGS: tuple[str, ...] = ("persona", "path", "cohort")
