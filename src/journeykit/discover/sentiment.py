"""Highs and lows: an offline sentiment scorer for English and Spanish, and the moment tag.

Word lists alone read "didn't work" as positive ("work") and miss "finally launched". So the
scorer adds three rules over a curated lexicon (package data):

- negation flips a sentiment word up to three tokens after "not", "didn't", "no", "nunca", "sin"
  (until punctuation or "but"/"pero"); "work"/"funcionar" count only when negated;
- achievement phrasing: "finally", "at last", "por fin", "al fin" lift the next words, and count
  as a high on their own ("finally got my first client");
- contrast: after "but"/"pero"/"aunque" a clause weighs more than before it.

The answer's moment combines the text score with what the question asked (``reveals``): an answer
to "what has not worked?" leans towards a breakdown even when its words are neutral.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Literal

from journeykit.discover.text import Language, strip_accents, tokens

Moment = Literal["celebrate", "breakdown", "neutral"]

NEGATORS = frozenset(
    [
        "not",
        "no",
        "never",
        "without",
        "nobody",
        "nothing",
        "none",
        "hardly",
        "barely",
        "cannot",
        "cant",
        "didnt",
        "dont",
        "doesnt",
        "isnt",
        "wasnt",
        "werent",
        "couldnt",
        "wont",
        "wouldnt",
        "havent",
        "hasnt",
        "hadnt",
        "shouldnt",
        "aint",
        "nunca",
        "jamas",
        "ni",
        "sin",
        "tampoco",
        "nada",
        "nadie",
    ]
)
CONTRAST = frozenset({"but", "however", "although", "though", "yet", "pero", "aunque", "sino"})
ACHIEVEMENT = frozenset({"finally", "finalmente"})
ACHIEVEMENT_PAIRS = frozenset({("at", "last"), ("por", "fin"), ("al", "fin")})
INTENSIFIERS = {
    "very": 1.3,
    "really": 1.3,
    "so": 1.2,
    "super": 1.4,
    "extremely": 1.5,
    "muy": 1.3,
    "tan": 1.2,
    "realmente": 1.3,
    "bastante": 1.2,
    "totally": 1.3,
}
# Words that are neutral alone ("I work at a bank") but a low when negated ("it didn't work").
NEGATED_ONLY = {
    "work": 1.5,
    "help": 1.0,
    "funcionar": 1.5,
    "funciona": 1.5,
    "funciono": 1.5,
    "sirvio": 1.5,
    "sirve": 1.5,
    "ayudo": 1.0,
    "happen": 0.5,
    "click": 1.0,
}
PHRASES = {
    # "felt like a risk": "like" compares here, it does not praise.
    ("felt", "like"): 0.0,
    ("feel", "like"): 0.0,
    ("feels", "like"): 0.0,
    ("dead", "end"): -2.0,
    ("gave", "up"): -2.0,
    ("give", "up"): -2.0,
    ("fell", "through"): -2.0,
    ("no", "way"): -1.0,
    ("me", "rendi"): -2.0,
    ("tire", "la", "toalla"): -2.0,
    ("lose", "weight"): 0.5,
    ("perder", "peso"): 0.5,
    ("bajar", "de", "peso"): 0.5,
}
NEGATION_SCOPE = 3
PRIOR = {"high": 0.35, "low": -0.35, "goal": 0.0, "next": 0.0}
THRESHOLD = 0.2
_CLAUSE_END = re.compile(r"[.!?;:,]")


@dataclass(frozen=True)
class Sentiment:
    """A text's score in [-1, 1] and its moment once the question's intent is added."""

    score: float
    moment: Moment


@cache
def _lexicon(language: Language) -> tuple[dict[str, float], tuple[tuple[str, float], ...]]:
    text = resources.files("journeykit.discover").joinpath("data", f"sentiment_{language}.txt")
    words: dict[str, float] = {}
    stems: list[tuple[str, float]] = []
    for line in text.read_text("utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            word, score = line.split()
            word = strip_accents(word)
            if word.endswith("*"):
                stems.append((word[:-1], float(score)))
            else:
                words[word] = float(score)
    stems.sort(key=lambda s: -len(s[0]))  # the longest stem wins
    return words, tuple(stems)


@cache
def word_score(word: str, language: Language) -> float:
    words, stems = _lexicon(language)
    if word in words:
        return words[word]
    return next((score for stem, score in stems if word.startswith(stem)), 0.0)


def _clauses(text: str) -> list[list[str]]:
    """Words per clause; a contrast word ("but", "pero") starts a clause of its own."""
    out: list[list[str]] = []
    for part in _CLAUSE_END.split(text):
        clause: list[str] = []
        for word in (strip_accents(t).replace("'", "") for t in tokens(part)):
            if word in CONTRAST and clause:
                out.append(clause)
                clause = []
            clause.append(word)
        out.append(clause)
    return [c for c in out if c]


def score_text(text: str, language: Language) -> float:
    """Sentiment of a text in [-1, 1]; 0 when it says nothing either way."""
    total = 0.0
    weight = 1.0
    for clause in _clauses(text):
        if clause[0] in CONTRAST:
            total *= 0.5  # what comes after "but" is what the member means
            weight = 1.5
        total += weight * _clause_score(clause, language)
    return total / math.sqrt(total * total + 6.0)


def _clause_score(words: list[str], language: Language) -> float:
    total, negated_until, boost, skip = 0.0, -1, 1.0, 0
    for i, word in enumerate(words):
        if skip:
            skip -= 1
            continue
        phrase = _phrase_at(words, i)
        if phrase is not None:
            total += phrase[0]
            skip = phrase[1] - 1
            continue
        if word in NEGATORS:
            negated_until = i + NEGATION_SCOPE
            continue
        if word in ACHIEVEMENT or tuple(words[i : i + 2]) in ACHIEVEMENT_PAIRS:
            total += 1.0  # "finally ..." reports something done
            boost = 1.5
            continue
        if word in INTENSIFIERS:
            boost = max(boost, INTENSIFIERS[word])
            continue
        total += _word_value(word, language, negated=i <= negated_until) * boost
    return total


def _word_value(word: str, language: Language, *, negated: bool) -> float:
    value = word_score(word, language)
    if negated:
        if value == 0.0:
            return -NEGATED_ONLY.get(word, 0.0)
        return -value if value > 0 else -0.5 * value  # "not bad" is mildly good
    return value


def _phrase_at(words: list[str], i: int) -> tuple[float, int] | None:
    for phrase, value in _PHRASES_BY_FIRST.get(words[i], ()):
        if tuple(words[i : i + len(phrase)]) == phrase:
            return value, len(phrase)
    return None


def _by_first_word() -> dict[str, tuple[tuple[tuple[str, ...], float], ...]]:
    out: dict[str, list[tuple[tuple[str, ...], float]]] = {}
    for phrase, value in PHRASES.items():
        out.setdefault(phrase[0], []).append((phrase, value))
    return {w: tuple(p) for w, p in out.items()}


_PHRASES_BY_FIRST = _by_first_word()  # one dict lookup per word, not a scan of every phrase


def moment_of(score: float, reveals: str | None) -> Moment:
    """celebrate / breakdown / neutral from a text score and the question's intent."""
    combined = score + PRIOR.get(reveals or "", 0.0)
    if combined >= THRESHOLD:
        return "celebrate"
    if combined <= -THRESHOLD:
        return "breakdown"
    return "neutral"


def sentiment(text: str, language: Language, reveals: str | None = None) -> Sentiment:
    """Score a text and tag its moment, given what its question asked."""
    value = score_text(text, language)
    return Sentiment(score=round(value, 4), moment=moment_of(value, reveals))
