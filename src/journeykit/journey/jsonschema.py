"""The JSON Schema of the journey file, for editor completion and for other tools."""

from __future__ import annotations

import json
from typing import Any

from journeykit.journey.schema import Journey

SCHEMA_ID = "https://journeykit.dev/schema/journey.schema.json"


def journey_json_schema() -> dict[str, Any]:
    """The schema of a journey file as people write it (shorthands included)."""
    schema = Journey.model_json_schema(by_alias=True, mode="validation")
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        **schema,
    }


def journey_json_schema_text() -> str:
    return json.dumps(journey_json_schema(), indent=2, ensure_ascii=False) + "\n"
