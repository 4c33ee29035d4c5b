"""journeykit: customer and community journeys as code, measured against event data.

The journey names load on first use (PEP 562): the journey schema and pydantic cost a tenth of a
CPU second that a script fitting a CLV model, or any command not reading a journey, need not pay.
"""

from typing import TYPE_CHECKING

from journeykit._lazy import lazy_exports
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

__getattr__ = lazy_exports(
    __name__, dict.fromkeys(("Journey", "lint", "load_journey", "parse_journey"), "journey")
)
