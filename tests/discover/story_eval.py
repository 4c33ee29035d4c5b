"""How well stories are read, against the labelled set (tests/data/stories): shared by the test
that holds the floor and bench/stories_accuracy.py that records the figures."""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path

from journeykit.journey import Journey, load_journey

DATA = Path(__file__).resolve().parents[1] / "data" / "stories"
_WORD = re.compile(r"\w+", re.UNICODE)


@dataclass(frozen=True)
class Labelled:
    respondent: str
    language: str
    persona: str
    stage: str
    consent: str
    text: str
    before: str
    after: str


def labelled(name: str = "labelled.csv") -> list[Labelled]:
    with (DATA / name).open(newline="", encoding="utf-8") as fh:
        return [
            Labelled(r["respondent"], r["language"], r["persona"], r["stage"], r["consent"],
                     r["answer"], r["before"], r["after"])
            for r in csv.DictReader(fh)
        ]  # fmt: skip


def journeys() -> dict[str, Journey]:
    return {lang: load_journey(DATA / f"journey_{lang}.yaml") for lang in ("en", "es")}


def tokens_in(text: str, part: str) -> set[int]:
    """Indices of the word tokens of ``text`` inside ``part`` (a substring of it)."""
    if not part:
        return set()
    start = text.index(part)
    end = start + len(part)
    return {i for i, m in enumerate(_WORD.finditer(text)) if m.start() >= start and m.end() <= end}


def span_f1(text: str, gold: str, got: str | None) -> float:
    """Token-level F1 of a found part against the labelled one; 1 when both are empty."""
    g, p = tokens_in(text, gold), tokens_in(text, got or "")
    if not g and not p:
        return 1.0
    if not g or not p:
        return 0.0
    hit = len(g & p)
    if not hit:
        return 0.0
    precision, recall = hit / len(p), hit / len(g)
    return 2 * precision * recall / (precision + recall)
