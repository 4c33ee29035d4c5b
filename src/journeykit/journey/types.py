"""The small types every part of the journey file shares: ids, durations, strict models."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    StringConstraints,
    WithJsonSchema,
)

from journeykit.journey.durations import DURATION_PATTERN, format_duration, parse_duration

Loc = tuple[str | int, ...]
Phase = Literal["pre", "core", "post"]
Moment = Literal["celebrate", "breakdown", "neutral"]
KindId = Literal[
    "opt_in", "download", "free_trial", "consultation", "demo", "quote", "webinar",
    "purchase", "survey", "repeat_purchase", "testimonial", "referral", "upsell", "renewal",
    "custom",
]  # fmt: skip
PHASE_ORDER: dict[str, int] = {"pre": 0, "core": 1, "post": 2}

Slug = Annotated[
    str,
    StringConstraints(pattern=r"^[a-z0-9][a-z0-9_\-]*$", max_length=64),
    Field(description="An id: lowercase letters, digits, '_' or '-', such as 'free_trial'."),
]


def _to_duration(value: Any) -> Any:
    # A bare number is refused rather than read as seconds: is `14` days or hours?
    return value if isinstance(value, timedelta) else parse_duration(value)


Duration = Annotated[
    timedelta,
    BeforeValidator(_to_duration),
    PlainSerializer(format_duration, return_type=str),
    WithJsonSchema(
        {"type": "string", "pattern": DURATION_PATTERN, "examples": ["14d", "36h", "2w"]}
    ),
]
Scalar = str | bool | int | float


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


def _drop_empty(data: Any) -> Any:
    # pydantic may hand an already-shortened value back through a wrapped field: pass it on.
    if not isinstance(data, dict):
        return data
    return {k: v for k, v in data.items() if v is not None and v != () and v != {} and v != []}
