"""Which persona a story speaks to: the fear, frustration or desire it answers, by TF-IDF.

Every fear, frustration, desire and job of every persona is one short document; a story is
compared with each by cosine similarity, half on words (stop words of both languages out) and
half on character 3-5-grams within words (so "hired" meets "hiring" and "ahorros" "ahorro"). The
story's persona is the one whose best item is closest; that item is what it answers. Works on a
plain install (scikit-learn); measured on a labelled set (docs/benchmarks.md, "Stories").
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from journeykit.discover.text import content_words
from journeykit.discover.vectors import char_tfidf, tfidf
from journeykit.journey.schema import Journey

FIELDS = (("fears", "fear"), ("frustrations", "frustration"), ("desires", "desire"),
          ("jobs", "job"))  # fmt: skip
# Below this similarity a story shares too little with every persona to name one.
MIN_SCORE = 0.05


@dataclass(frozen=True)
class PersonaMatch:
    """The persona a text answers, which of its items (``field``: fear, frustration, desire or
    job) and how closely (cosine similarity, 0 to 1); persona None when none is close enough."""

    persona: str | None
    field: str | None
    item: str | None
    score: float

    def to_dict(self) -> dict[str, object]:
        return dict(vars(self))


def persona_items(journey: Journey) -> list[tuple[str, str, str]]:
    """(persona id, field, text) for every fear, frustration, desire and job."""
    return [
        (p.id, name, item)
        for p in journey.personas
        for attr, name in FIELDS
        for item in getattr(p, attr)
    ]


def _prepared(text: str) -> str:
    return " ".join(content_words(text)) or text.lower()


def match_personas(texts: Sequence[str], journey: Journey) -> list[PersonaMatch]:
    """The persona each text answers (one vector space for the texts and the items, so the
    words members use weigh what they share with the personas)."""
    items = persona_items(journey)
    if not texts:
        return []
    if not items:
        return [PersonaMatch(None, None, None, 0.0) for _ in texts]
    docs = [_prepared(t) for _, _, t in items] + [_prepared(t) for t in texts]
    n = len(items)
    sim = np.zeros((len(texts), n))
    for matrix in (tfidf(docs), char_tfidf(docs)):
        sim += 0.5 * (matrix[n:] @ matrix[:n].T).toarray()
    out = []
    for row in sim:
        best = int(np.argmax(row))
        score = float(row[best])
        if score < MIN_SCORE:
            out.append(PersonaMatch(None, None, None, round(score, 4)))
        else:
            persona, field, item = items[best]
            out.append(PersonaMatch(persona, field, item, round(score, 4)))
    return out
