"""journeykit: customer and community journeys as code, measured against event data."""

from journeykit.errors import JourneyFileError, JourneykitError
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
