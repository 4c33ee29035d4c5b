"""The question kit: open questions to ask members at each stage and milestone of a journey.

Questions come from the catalog's question bank (goal, highs, lows, last accomplishment, next
step, the 3-5 year hope) and from the journey's own milestones. Each question keeps the catalog's
``reveals`` tag, so answers imported later know whether they describe a high or a low.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from functools import cache
from typing import Any

import pandas as pd

from journeykit.discover.errors import UnknownStageError
from journeykit.discover.text import Language
from journeykit.errors import did_you_mean
from journeykit.journey import Journey, Milestone
from journeykit.journey.catalog import Reveals, question_bank

# Asked about one milestone; ``{title}`` is the milestone's title, lower-cased at the start.
MILESTONE_QUESTIONS: tuple[tuple[str, Reveals, dict[str, str]], ...] = (
    ("went_well", "high", {
        "en": "What went well when you reached '{title}'?",
        "es": "¿Qué salió bien cuando llegaste a '{title}'?",
    }),
    ("nearly_stopped", "low", {
        "en": "What nearly stopped you before '{title}'?",
        "es": "¿Qué casi te detuvo antes de '{title}'?",
    }),
)  # fmt: skip
STAGE_HEADINGS = {"en": "Stage", "es": "Etapa"}
MILESTONE_HEADINGS = {"en": "Milestone", "es": "Hito"}


@dataclass(frozen=True)
class KitQuestion:
    """One question to paste into a survey tool."""

    id: str
    stage: str | None
    milestone: str | None
    reveals: Reveals
    text: str


@dataclass(frozen=True)
class QuestionKit:
    """The questions for one journey in one language, grouped by stage then milestone."""

    journey: str
    language: Language
    questions: tuple[KitQuestion, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "journey": self.journey,
            "language": self.language,
            "questions": [asdict(q) for q in self.questions],
        }

    def to_pandas(self) -> pd.DataFrame:
        return pd.DataFrame([asdict(q) for q in self.questions], columns=list(_FIELDS))

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=2)

    def to_csv(self) -> str:
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=list(_FIELDS), lineterminator="\n")
        writer.writeheader()
        writer.writerows(asdict(q) for q in self.questions)
        return buffer.getvalue()

    def to_markdown(self) -> str:
        lines = [f"# {self.journey}", ""]
        heading: tuple[str | None, str | None] | None = None
        for q in self.questions:
            if (q.stage, q.milestone) != heading:
                heading = (q.stage, q.milestone)
                lines += ["", self._heading(q.stage, q.milestone), ""]
            lines.append(f"- {q.text}")
        return "\n".join(lines).replace("\n\n\n", "\n\n").strip() + "\n"

    def _heading(self, stage: str | None, milestone: str | None) -> str:
        if milestone is not None:
            return f"### {MILESTONE_HEADINGS[self.language]}: {milestone}"
        return f"## {STAGE_HEADINGS[self.language]}: {stage or '-'}"


_FIELDS = ("id", "stage", "milestone", "reveals", "text")


def question_kit(
    journey: Journey, *, stage: str | None = None, language: Language = "en"
) -> QuestionKit:
    """Questions per stage (the catalog) and per milestone (the journey's own).

    ``stage`` keeps one stage, or one milestone when it names a milestone id.
    """
    _check_stage(journey, stage)
    questions = tuple(
        q
        for q in _all_questions(journey, language)
        if stage is None or stage in (q.stage, q.milestone)
    )
    return QuestionKit(journey=journey.id, language=language, questions=questions)


def _check_stage(journey: Journey, stage: str | None) -> None:
    known = {s.id for s in journey.stages} | {m.id for m in journey.milestones}
    if stage is not None and stage not in known:
        raise UnknownStageError(
            f"journey {journey.id!r} has no stage or milestone {stage!r}"
            f"{did_you_mean(stage, known)}"
        )


def _all_questions(journey: Journey, language: Language) -> Iterator[KitQuestion]:
    staged = {m.stage for m in journey.milestones}
    for s in journey.stages:
        if s.id not in staged:
            continue
        for q in question_bank():
            yield KitQuestion(f"{s.id}.{q.id}", s.id, None, q.reveals, q.text[language])
        for m in journey.milestones:
            if m.stage == s.id:
                yield from _milestone_questions(m, language)
    unstaged = [m for m in journey.milestones if m.stage is None]
    if unstaged:
        for q in question_bank():
            yield KitQuestion(q.id, None, None, q.reveals, q.text[language])
    for m in unstaged:
        yield from _milestone_questions(m, language)


def _milestone_questions(m: Milestone, language: Language) -> Iterator[KitQuestion]:
    for qid, reveals, texts in MILESTONE_QUESTIONS:
        text = texts[language].format(title=m.title[:1].lower() + m.title[1:])
        yield KitQuestion(f"{m.id}.{qid}", m.stage, m.id, reveals, text)


@cache
def _known_reveals() -> dict[str, Reveals]:
    known: dict[str, Reveals] = {}
    for q in question_bank():
        known[q.id] = q.reveals
        for text in q.text.values():
            known[_norm(text)] = q.reveals
    for qid, reveals, _ in MILESTONE_QUESTIONS:
        known[qid] = reveals
    return known


_LOW_HINTS = ("not worked", "hasn't worked", "hardest", "difficult", "frustrat", "nearly stopped",
              "no ha funcionado", "difícil", "dificil", "casi te detuvo", "problem")  # fmt: skip
_HIGH_HINTS = ("accomplish", "has worked", "went well", "excited", "proud", "lograste",
               "salió bien", "funcionado hasta", "entusiasma")  # fmt: skip


def _norm(text: str) -> str:
    return " ".join(text.lower().split())


def reveals_of(question: str | None) -> Reveals | None:
    """What a question asks for: a catalog id or text, a kit id (``stage.id``), or by its words."""
    if question is None:
        return None
    known = _known_reveals()
    norm = _norm(question)
    for key in (norm, norm.rsplit(".", 1)[-1]):
        if key in known:
            return known[key]
    if any(h in norm for h in _LOW_HINTS):
        return "low"
    if any(h in norm for h in _HIGH_HINTS):
        return "high"
    return None
