"""Before and after: the pain and the pleasure parts of a member's story, in English and Spanish.

A story is told in clauses. Each clause leans towards *before* or *after* by signals added up:
time words ("used to", "before", "antes", "solía" say before; "now", "today", "since", "ahora",
"hoy", "por fin" say after; twice as much when they open the clause), the member's framing of a
worry ("I was afraid", "me daba miedo") or an outcome ("I got hired", "gracias a"), in Spanish the
tense (the imperfect tells a state that was, the preterite what happened), and the clause's
sentiment (``discover.sentiment``). The story turns at the one place where what comes before
leans most to the before and what comes after most to the after (or it does not turn: all pain,
or all pleasure), with a head start for a turn at a new sentence or a "but". Measured on a
labelled set (docs/benchmarks.md, "Stories").
"""

from __future__ import annotations

import functools
import itertools
import re
from dataclasses import dataclass

from journeykit.discover.sentiment import score_text
from journeykit.discover.text import Language, strip_accents

# Clause boundaries: the end of a sentence, or a contrast that turns the story ("..., but now").
_SENTENCE = re.compile(r"(?<=[.!?;:])\s+")
_TURN = re.compile(
    r",?\s+(?=(?:but|however|yet|pero|sin embargo|aunque)\b)|,\s+(?=(?:and now|y ahora|so now)\b)",
    re.IGNORECASE,
)
# Words at the start of an after part that belong to the turn, not to the pleasure.
_LEADING = re.compile(r"^(?:but|however|yet|and|so|pero|sin embargo|aunque|y|así que)\b[\s,]*",
                      re.IGNORECASE)  # fmt: skip

# Time words frame a clause: before (< 0) or after (> 0); at the start of a clause they frame all
# of it, so they count twice there.
TIME: dict[Language, dict[str, float]] = {
    "en": {
        "used to": -2, "before": -1.5, "back then": -2, "at first": -1, "in the past": -2,
        "now": 2, "today": 2, "these days": 2, "since": 1.5, "finally": 1.5, "at last": 1.5,
    },
    "es": {
        "antes": -1.5, "solía": -2, "al principio": -1, "en el pasado": -2,
        "ahora": 2, "hoy": 2, "hoy en día": 2, "desde que": 1.5, "por fin": 1.5, "al final": 1,
        "finalmente": 1.5,
    },
}  # fmt: skip
# How a member frames a worry or an outcome.
FRAMES: dict[Language, dict[str, float]] = {
    "en": {
        "i was afraid": -2, "i was scared": -2, "was terrified": -2, "i worried": -2,
        "i was worried": -2, "my biggest fear": -2, "i thought": -1.5, "i felt": -1,
        "felt like": -1, "never": -1, "kept": -1, "could not": -1, "couldn't": -1,
        "did not": -1, "didn't": -1, "no time": -1, "was": -0.5, "were": -0.5, "had": -0.5,
        "not one": -1, "no one": -1, "nobody": -1,
        "thanks to": 2, "got hired": 2, "was hired": 2, "got me": 1.5, "landed": 2,
        "i found": 1, "i got": 1.5, "gave me": 1.5, "let me": 1.5, "helped": 1.5, "signed": 1,
        "saved me": 2, "fixed": 1.5, "i could": 1, "i finished": 1.5, "difference": 1.5,
        "i have": 1, "i am": 1, "i'm": 1, "i work": 1, "there is": 0.5,
    },
    "es": {
        "tenía miedo": -2, "me daba miedo": -2, "me preocupaba": -2, "mi mayor miedo": -2,
        "pensaba": -1.5, "creía": -1.5, "me sentía": -1, "me parecía": -1, "nunca": -1,
        "no sabía": -1, "no tenía": -1, "ninguna": -1, "ningún": -1, "nadie": -1,
        "gracias a": 2, "me contrataron": 2, "cambió todo": 1.5,
        "diferencia": 1.5, "tengo": 1, "trabajo como": 1, "trabajo en": 1, "pude": 1,
        "así que": 0.5,
    },
}  # fmt: skip
# Spanish tells the before in the imperfect (estudiaba, tenía) and the outcome in the preterite
# (conseguí, encontré, me ayudó): the verb's ending is a cue of its own.
_IMPERFECT = re.compile(
    r"\b(?:\w+(?:aba|abas|ábamos|aban)|era|eran|estaba|estaban|tenía|tenían|podía|podían|"
    r"sabía|creía|parecía|sentía|quería|había|hacía|pedía|pedían)\b"
)
_PRETERITE = re.compile(r"\b\w+(?:é|ó|í|aron|ieron)\b")
_NOT_PRETERITE = frozenset({
    "mí", "sí", "aquí", "allí", "ahí", "así", "qué", "sé", "café", "bebé", "también", "aún",
    "más", "jamás", "después", "está", "según",
})  # fmt: skip
_SENTIMENT_WEIGHT = 3.0
SPLIT_PRIOR = 1.5


@dataclass(frozen=True)
class Span:
    """A part of a text: ``text[start:end]``."""

    start: int
    end: int
    text: str


@dataclass(frozen=True)
class Parts:
    before: Span | None
    after: Span | None

    @property
    def is_story(self) -> bool:
        """A pain-to-pleasure story has an after (a pleasure); the before may be left implicit."""
        return self.after is not None


def clauses(text: str) -> list[tuple[int, int, bool]]:
    """(start, end, opens) of each clause: sentences, split again where the story turns.
    ``opens``: the clause starts a new sentence or a turn ("..., but now"), where a story's
    after usually begins."""
    out: list[tuple[int, int, bool]] = []
    pos = 0
    for sentence in _SENTENCE.split(text):
        start = text.index(sentence, pos)
        new_sentence = text[:start].rstrip()[-1:] in (".", "!", "?")
        pos = start + len(sentence)
        cuts = [start + m.end() for m in _TURN.finditer(sentence)]
        bounds = [start, *cuts, pos]
        for i, (a, b) in enumerate(itertools.pairwise(bounds)):
            a, b = _trim(text, a, b)
            if a < b:
                out.append((a, b, new_sentence if i == 0 else True))
    return out


def _trim(text: str, a: int, b: int) -> tuple[int, int]:
    while a < b and (text[a].isspace() or text[a] == ","):
        a += 1
    while b > a and (text[b - 1].isspace() or text[b - 1] == ","):
        b -= 1
    return a, b


@functools.cache
def _cues(language: Language) -> tuple[tuple[tuple[str, re.Pattern[str], float], ...], ...]:
    """(accent-free phrase, its whole-word pattern, weight): the time words, then the frames."""

    def compiled(table: dict[str, float]) -> tuple[tuple[str, re.Pattern[str], float], ...]:
        out = []
        for phrase, weight in table.items():
            plain = strip_accents(phrase)
            out.append((plain, re.compile(r"(?<![\w'])" + re.escape(plain) + r"(?![\w'])"), weight))
        return tuple(out)

    return compiled(TIME[language]), compiled(FRAMES[language])


def lean(clause: str, language: Language) -> float:
    """Below 0: the clause tells the before; above 0: the after; 0: it does not say."""
    lower = clause.lower().replace("’", "'")
    plain = strip_accents(lower)
    cue = 0.0
    time_words, frames = _cues(language)
    # A substring test first: most cues are absent, and ``in`` is much cheaper than a search.
    for phrase, pattern, weight in time_words:
        if phrase in plain and (found := pattern.search(plain)):
            cue += weight * (2 if found.start() == 0 else 1)
    cue += sum(w for phrase, pattern, w in frames if phrase in plain and pattern.search(plain))
    if language == "es":
        cue -= len(_IMPERFECT.findall(lower))
        cue += 0.5 * sum(1 for w in _PRETERITE.findall(lower) if w not in _NOT_PRETERITE)
    return cue + _SENTIMENT_WEIGHT * score_text(clause, language)


def story_parts(text: str, language: Language = "en") -> Parts:
    """The before (pain) and after (pleasure) parts of ``text``; either may be None.

    The story turns once: of every place it could turn (or not at all), the one where what
    comes before leans most to the before and what comes after most to the after, with a
    head start for a turn at a new sentence or a "but" (``SPLIT_PRIOR``): a member who writes
    two sentences about their journey usually tells the before in the first.
    """
    spans = clauses(text)
    if not spans:
        return Parts(None, None)
    leans = [lean(text[a:b], language) for a, b, _ in spans]
    n = len(spans)
    # On a tie: a turn at a new sentence or a "but", then all before, all after, another turn.
    turns = [k for k in range(1, n) if spans[k][2]]
    candidates = [*turns, n, 0, *(k for k in range(1, n) if not spans[k][2])]
    scores = [
        sum(leans[k:]) - sum(leans[:k]) + (SPLIT_PRIOR if 0 < k < n and spans[k][2] else 0.0)
        for k in candidates
    ]
    k = candidates[max(range(len(candidates)), key=lambda i: (scores[i], -i))]
    before = _span(text, spans, 0, k - 1) if k > 0 else None
    after = _span(text, spans, k, n - 1, lead=True) if k < n else None
    return Parts(before, after)


def _span(
    text: str, spans: list[tuple[int, int, bool]], i: int, j: int, *, lead: bool = False
) -> Span:
    a, b = spans[i][0], spans[j][1]
    if lead:
        m = _LEADING.match(text[a:b])
        if m and m.end() < b - a:
            a += m.end()
    return Span(a, b, text[a:b])
