"""Small text tools shared by discovery: tokens, stop words, language, non-answers.

Only English and Spanish are profiled. Language detection counts stop words of each language,
which is reliable on sentences of three or more words and needs no model; short or ambiguous
texts fall back to the caller's default.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Literal

Language = Literal["en", "es"]
LANGUAGES: tuple[Language, ...] = ("en", "es")

_TOKEN = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)?", re.UNICODE)

STOPWORDS: dict[str, frozenset[str]] = {
    "en": frozenset(
        [
            "a",
            "about",
            "above",
            "after",
            "again",
            "against",
            "all",
            "am",
            "an",
            "and",
            "any",
            "are",
            "as",
            "at",
            "be",
            "because",
            "been",
            "before",
            "being",
            "below",
            "between",
            "both",
            "but",
            "by",
            "can",
            "could",
            "did",
            "do",
            "does",
            "doing",
            "down",
            "during",
            "each",
            "few",
            "for",
            "from",
            "further",
            "had",
            "has",
            "have",
            "having",
            "he",
            "her",
            "here",
            "hers",
            "herself",
            "him",
            "himself",
            "his",
            "how",
            "i",
            "if",
            "in",
            "into",
            "is",
            "it",
            "its",
            "itself",
            "just",
            "me",
            "more",
            "most",
            "my",
            "myself",
            "no",
            "nor",
            "not",
            "now",
            "of",
            "off",
            "on",
            "once",
            "only",
            "or",
            "other",
            "our",
            "ours",
            "ourselves",
            "out",
            "over",
            "own",
            "same",
            "she",
            "should",
            "so",
            "some",
            "such",
            "than",
            "that",
            "the",
            "their",
            "theirs",
            "them",
            "themselves",
            "then",
            "there",
            "these",
            "they",
            "this",
            "those",
            "through",
            "to",
            "too",
            "under",
            "until",
            "up",
            "very",
            "was",
            "we",
            "were",
            "what",
            "when",
            "where",
            "which",
            "while",
            "who",
            "whom",
            "why",
            "will",
            "with",
            "would",
            "you",
            "your",
            "yours",
            "yourself",
            "yourselves",
            "i'm",
            "i've",
            "it's",
            "don't",
            "didn't",
            "can't",
            "won't",
            "i'd",
            "i'll",
            "that's",
            "there's",
            "what's",
            "get",
            "got",
            "also",
            "still",
            "really",
            "much",
            "many",
            "lot",
            "thing",
            "things",
            "way",
            "one",
            "per",
            "already",
            "even",
            "every",
            "since",
            "us",
            "let",
            "made",
            "make",
            "makes",
            "im",
            "ive",
        ]
    ),
    "es": frozenset(
        [
            "a",
            "al",
            "algo",
            "algunos",
            "ante",
            "antes",
            "como",
            "con",
            "contra",
            "cual",
            "cuando",
            "de",
            "del",
            "desde",
            "donde",
            "durante",
            "e",
            "el",
            "ella",
            "ellas",
            "ellos",
            "en",
            "entre",
            "era",
            "erais",
            "eran",
            "eras",
            "eres",
            "es",
            "esa",
            "esas",
            "ese",
            "eso",
            "esos",
            "esta",
            "estaba",
            "estado",
            "estamos",
            "estan",
            "estar",
            "estas",
            "este",
            "esto",
            "estos",
            "estoy",
            "fue",
            "fueron",
            "fui",
            "ha",
            "habia",
            "han",
            "has",
            "hasta",
            "hay",
            "he",
            "la",
            "las",
            "le",
            "les",
            "lo",
            "los",
            "me",
            "mi",
            "mis",
            "mucho",
            "muy",
            "mas",
            "más",
            "nada",
            "ni",
            "no",
            "nos",
            "nosotros",
            "o",
            "os",
            "otra",
            "otros",
            "para",
            "pero",
            "poco",
            "por",
            "porque",
            "que",
            "qué",
            "quien",
            "se",
            "sea",
            "ser",
            "si",
            "sí",
            "sido",
            "sin",
            "sobre",
            "sois",
            "somos",
            "son",
            "soy",
            "su",
            "sus",
            "también",
            "tanto",
            "te",
            "tengo",
            "tiene",
            "tienen",
            "todo",
            "todos",
            "tu",
            "tus",
            "un",
            "una",
            "uno",
            "unos",
            "vosotros",
            "y",
            "ya",
            "yo",
            "él",
            "está",
            "están",
            "estás",
            "mí",
            "ahora",
            "aún",
            "cosa",
            "cosas",
        ]
    ),
}

# Whole-text matches only: "no" alone is a non-answer, "no" inside a sentence is not.
NON_ANSWER_PHRASES: frozenset[str] = frozenset(
    {
        "n/a", "na", "n.a.", "none", "nothing", "no idea", "dunno", "don't know", "dont know",
        "do not know", "i don't know", "i dont know", "not sure", "unsure", "no comment", "nope",
        "nil", "null", "pass", "same as above", "nothing to add", "no answer", "idk", "-", "--",
        ".", "?", "...", "x", "ninguno", "ninguna", "nada", "no sé", "no se", "ni idea",
        "no lo sé", "no lo se", "no sabría decir", "no sabria decir", "no aplica", "no sabe",
        "no contesta", "ns/nc", "nsnc", "sin comentarios", "nada que añadir", "no", "n.s.",
    }
)  # fmt: skip


def tokens(text: str) -> list[str]:
    """Lower-case word tokens; apostrophes stay inside words (didn't, don't)."""
    return [t.replace("’", "'") for t in _TOKEN.findall(text.lower())]


def strip_accents(text: str) -> str:
    if text.isascii():  # most words: skip the Unicode decomposition (a third of sentiment's time)
        return text
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def detect_language(text: str, default: Language = "en") -> Language:
    """'en' or 'es' by stop-word share; ``default`` when the text gives no evidence."""
    words = tokens(text)
    if not words:
        return default
    scores = {lang: sum(w in STOPWORDS[lang] for w in words) for lang in LANGUAGES}
    scores["es"] += sum(c in "ñáéíóú¿¡" for c in text.lower())
    if scores["en"] == scores["es"]:
        return default
    return "en" if scores["en"] > scores["es"] else "es"


def non_answer_reason(text: str | None) -> str | None:
    """Why a text is not an answer ('empty' or 'non-answer'), or None for a real answer."""
    if text is None:
        return "empty"
    cleaned = " ".join(text.strip().lower().split())
    if not cleaned:
        return "empty"
    if cleaned.rstrip(".!¡¿?") in NON_ANSWER_PHRASES or cleaned in NON_ANSWER_PHRASES:
        return "non-answer"
    if not tokens(cleaned):
        return "non-answer"  # punctuation or digits only
    return None


def content_words(text: str) -> list[str]:
    """Tokens that can name a theme: no stop words of either language, no one-letter words."""
    stop = STOPWORDS["en"] | STOPWORDS["es"]
    return [t for t in tokens(text) if len(t) > 1 and t not in stop]
