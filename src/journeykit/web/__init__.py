"""The web app (``journeykit serve``); needs the ``web`` extra."""

from journeykit._optional import require

require("fastapi", extra="web")
