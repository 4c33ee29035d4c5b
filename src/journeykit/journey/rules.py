"""``when`` rules: the small predicate language that recognises a milestone in events.

A rule names events (any of), conditions on their properties and value, or any of other rules.
Property keys are literal top-level keys of the event's properties.
"""

from __future__ import annotations

from typing import Annotated, Any, Self

from pydantic import (
    BeforeValidator,
    Field,
    GetJsonSchemaHandler,
    SerializerFunctionWrapHandler,
    WithJsonSchema,
    field_validator,
    model_serializer,
    model_validator,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema

from journeykit.journey.types import Scalar, Strict, _drop_empty


class Condition(Strict):
    """A test on one property or on the event value; several operators must all hold."""

    eq: Scalar | None = None
    ne: Scalar | None = None
    in_: tuple[Scalar, ...] | None = Field(None, alias="in")
    not_in: tuple[Scalar, ...] | None = None
    gt: float | None = None
    gte: float | None = None
    lt: float | None = None
    lte: float | None = None
    exists: bool | None = None

    @model_validator(mode="after")
    def _has_an_operator(self) -> Self:
        if not self.model_fields_set:
            raise ValueError(
                "a condition needs an operator: eq, ne, in, not_in, gt, gte, lt, lte or exists"
            )
        return self

    @model_serializer(mode="wrap")
    def _shorthand(self, handler: SerializerFunctionWrapHandler) -> Any:
        data = _drop_empty(handler(self))
        if not isinstance(data, dict):
            return data
        if list(data) == ["eq"]:
            return data["eq"]
        if list(data) == ["in"]:
            return list(data["in"])
        return data

    @classmethod
    def __get_pydantic_json_schema__(
        cls, core_schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        full = handler(core_schema)
        scalar = {"type": ["string", "number", "boolean"]}
        return {"anyOf": [scalar, {"type": "array", "items": scalar}, full]}


def _condition_shorthand(value: Any) -> Any:
    if isinstance(value, str | bool | int | float):
        return {"eq": value}
    if isinstance(value, list | tuple):
        return {"in": list(value)}
    return value


ConditionField = Annotated[Condition, BeforeValidator(_condition_shorthand)]


class EventRule(Strict):
    """Which events reach a milestone (or mark a persona): all given parts must hold.

    ``event`` is one name or a list (any of them); ``properties`` tests event properties;
    ``value`` tests the event value; ``any`` holds when at least one sub-rule holds. The rule
    compiles to a query expression, so it runs on every engine.
    """

    event: Annotated[
        tuple[str, ...] | None,
        WithJsonSchema(
            {
                "anyOf": [
                    {"type": "string", "minLength": 1},
                    {"type": "array", "items": {"type": "string", "minLength": 1}, "minItems": 1},
                ]
            }
        ),
    ] = None
    properties: dict[str, ConditionField] = Field(default_factory=dict)
    value: ConditionField | None = None
    any_of: tuple[EventRule, ...] | None = Field(None, alias="any")

    @field_validator("event", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return (value,) if isinstance(value, str) else value

    @field_validator("event")
    @classmethod
    def _names_not_blank(cls, value: tuple[str, ...] | None) -> tuple[str, ...] | None:
        if value is not None and (not value or any(not v.strip() for v in value)):
            raise ValueError("expected one or more non-empty event names")
        return value

    @field_validator("properties")
    @classmethod
    def _keys_readable(cls, value: dict[str, Condition]) -> dict[str, Condition]:
        # Every other key is read as written (docs/metrics.md); no query text can hold a NUL.
        for key in value:
            if "\x00" in key:
                raise ValueError(f"property key {key!r}: a key cannot contain the NUL character")
        return value

    @model_validator(mode="after")
    def _not_empty(self) -> Self:
        if not (self.event or self.properties or self.value or self.any_of):
            raise ValueError("a rule needs at least one of: event, properties, value, any")
        return self

    @model_serializer(mode="wrap")
    def _shorthand(self, handler: SerializerFunctionWrapHandler) -> Any:
        data = _drop_empty(handler(self))
        if not isinstance(data, dict):
            return data
        if "event" in data and len(data["event"]) == 1:
            data["event"] = data["event"][0]
        if list(data) == ["event"]:
            return data["event"]
        return data

    @classmethod
    def __get_pydantic_json_schema__(
        cls, core_schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        full = handler(core_schema)
        names = {"type": "array", "items": {"type": "string"}, "minItems": 1}
        return {"anyOf": [{"type": "string"}, names, full]}

    def event_names(self) -> set[str]:
        """Every event name the rule can match (empty when it matches on properties alone)."""
        names = set(self.event or ())
        for sub in self.any_of or ():
            names |= sub.event_names()
        return names


def _rule_shorthand(value: Any) -> Any:
    if isinstance(value, str | list | tuple):
        return {"event": value}
    return value


RuleField = Annotated[EventRule, BeforeValidator(_rule_shorthand)]
