"""journeykit: customer and community journeys as code, measured against event data."""

from typing import TYPE_CHECKING, Any

from journeykit.errors import JourneyFileError, JourneykitError

if TYPE_CHECKING:
    from journeykit.journey import Journey, lint, load_journey, parse_journey

__version__ = "0.1.0"

__all__ = [
    "Journey",
    "JourneyFileError",
    "JourneykitError",
    "__version__",
    "lint",
    "load_journey",
    "parse_journey",
]
# Imported when first used: the journey model (pydantic) is a tenth of a second that commands
# such as `sync` never need.
_JOURNEY = ("Journey", "lint", "load_journey", "parse_journey")


def __getattr__(name: str) -> Any:
    if name in _JOURNEY:
        import journeykit.journey

        return getattr(journeykit.journey, name)
    raise AttributeError(f"module 'journeykit' has no attribute {name!r}")
