"""What members wrote on their way: the text of testimonial and review events, for stories.

A testimonial or survey milestone (``kind: testimonial`` or ``survey``) whose events carry a text
property (``text`` by default) is a member telling the journey in their own words. One query per
call, on any engine: only the events of those milestones, with the property read through the
same JSON access every rule uses (``analytics.compile``).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

import ibis
import pyarrow as pa

from journeykit.analytics.compile import _Scalar, compile_rule
from journeykit.analytics.fetch import to_arrow
from journeykit.journey.schema import Journey

if TYPE_CHECKING:
    import ibis.expr.types as ir

STORY_KINDS = ("testimonial", "survey")
TEXT_COLUMNS = ("customer_id", "milestone", "timestamp", "text", "consent")


def story_milestones(journey: Journey) -> list[str]:
    """The measurable testimonial and survey (review) milestones, in file order."""
    return [m.id for m in journey.milestones if m.kind in STORY_KINDS and m.when is not None]


def milestone_texts(
    events: ir.Table,
    journey: Journey,
    milestones: Sequence[str] | None = None,
    *,
    text_key: str = "text",
    consent_key: str = "consent",
    now: datetime | None = None,
) -> pa.Table:
    """Per event of ``milestones`` (default: the story milestones) with text in ``text_key``:
    customer_id, milestone, timestamp, text and the raw ``consent_key`` value as text (None when
    absent), ordered by time then customer."""
    chosen = story_milestones(journey) if milestones is None else list(milestones)
    empty = pa.table({c: pa.array([], pa.string()) for c in TEXT_COLUMNS})
    rules = [(mid, rule) for mid in chosen if (rule := journey.milestone(mid).when) is not None]
    if not rules:
        return empty
    t = events if now is None else events.filter(events.timestamp <= now)
    which = ibis.cases(*[(compile_rule(t, rule), mid) for mid, rule in rules],
                       else_=ibis.null("string"))  # fmt: skip
    text = _Scalar(t, text_key).text
    consent = _Scalar(t, consent_key)
    consent_text = ibis.coalesce(
        consent.text, consent.flag.cast("string"), consent.number.cast("string")
    )
    picked = t.select(
        "customer_id", milestone=which, timestamp=t.timestamp, text=text, consent=consent_text
    )
    picked = picked.filter(picked.milestone.notnull() & picked.text.notnull())
    out = to_arrow(picked.order_by(["timestamp", "customer_id"]))
    return out.select(list(TEXT_COLUMNS))
