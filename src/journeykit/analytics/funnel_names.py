"""The funnel options' names (semantics, ClickHouse modes, trend intervals): light enough
for the CLI to list without loading the kernels."""

from __future__ import annotations

from typing import Literal

__all__ = ["CLICKHOUSE_MODES", "INTERVALS", "SEMANTICS", "Interval", "Semantics"]

Semantics = Literal["journeykit", "posthog", "clickhouse"]
SEMANTICS: tuple[str, ...] = ("journeykit", "posthog", "clickhouse")
# windowFunnel's options (strict_order is also what mode "strict" means in ClickHouse semantics).
CLICKHOUSE_MODES: tuple[str, ...] = (
    "strict_order",
    "strict_deduplication",
    "strict_increase",
    "allow_reentry",
)

Interval = Literal["day", "week", "month"]  # funnel trends: conversion per entry period
INTERVALS: tuple[str, ...] = ("day", "week", "month")
