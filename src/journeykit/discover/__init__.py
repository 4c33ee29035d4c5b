"""Discovery: the question kit, answers in, themes, highs and lows, and a draft journey."""

from journeykit.discover.answers import AnswerColumns, Answers, answers_from_records, read_answers
from journeykit.discover.edits import Edit, ThemeEdits, load_edits, save_edits
from journeykit.discover.questions import QuestionKit, question_kit
from journeykit.discover.sentiment import Sentiment, sentiment
from journeykit.discover.themes import Quote, Theme, ThemeResult, find_themes

__all__ = [
    "AnswerColumns",
    "Answers",
    "Edit",
    "QuestionKit",
    "Quote",
    "Sentiment",
    "Theme",
    "ThemeEdits",
    "ThemeResult",
    "answers_from_records",
    "find_themes",
    "load_edits",
    "question_kit",
    "read_answers",
    "save_edits",
    "sentiment",
]
