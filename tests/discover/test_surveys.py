"""Survey tools' exports: one answer per question and respondent, with the question and the
stage; a file that is not the named tool's export is refused naming the tool and the column."""

from __future__ import annotations

from pathlib import Path

import pytest

from journeykit.discover.errors import AnswerFileError
from journeykit.discover.surveys import read_survey

SURVEYS = Path(__file__).resolve().parents[1] / "data" / "surveys"
JOINING = "What almost stopped you from joining?"


def rows(answers):  # type: ignore[no-untyped-def]
    t = answers.table
    return list(
        zip(
            t["line"],
            t["respondent"],
            t["question"],
            t["text"],
            t["stage"],
            t["status"],
            strict=True,
        )
    )


def test_typeform_with_a_stage_column() -> None:
    answers = read_survey(SURVEYS / "typeform.csv", "typeform", stage="stage")
    assert answers.rejected.empty
    got = rows(answers)
    assert len(got) == 4  # 2 respondents x 2 questions; the stage column is not a question
    assert got[0] == (2, "5kd9x2ve1gq8n3lq5kd9xa0k4m2ok1s2", JOINING,
                      "The price, honestly. I wasn't sure it would pay off.", "enrolled", "answer")  # fmt: skip
    question, text, stage, status = got[3][2:]
    assert (question, stage, status) == (
        "What changed for you since the first lesson?",
        "lesson_1",
        "empty",
    )
    assert not isinstance(text, str)  # an empty cell is an empty answer, counted, no text


def test_google_forms_keeps_non_answers_counted_but_apart() -> None:
    answers = read_survey(SURVEYS / "google-forms.csv", "google-forms")
    got = rows(answers)
    assert [(r[1], r[2]) for r in got] == [
        ("ana@example.com", JOINING),
        ("ana@example.com", "What would you tell a friend who is thinking about it?"),
        ("ben@example.com", JOINING),
        ("ben@example.com", "What would you tell a friend who is thinking about it?"),
    ]
    assert [r[5] for r in got] == ["answer", "answer", "non-answer", "answer"]
    assert len(answers.answered) == 3


def test_surveymonkey_reads_its_second_header_row() -> None:
    answers = read_survey(SURVEYS / "surveymonkey.csv", "surveymonkey")
    got = rows(answers)
    assert [r[2] for r in got[:3]] == [
        JOINING, "How sure are you about finishing?",
        "How sure are you about finishing? — Other (please specify)",
    ]  # fmt: skip
    assert got[3][:4] == (4, "114227503321", JOINING, "My English is not very good.")
    assert len(got) == 6


def test_another_tools_export_is_refused_with_the_preset_and_column() -> None:
    with pytest.raises(AnswerFileError, match=r"the typeform preset .* needs the column '#'"):
        read_survey(SURVEYS / "google-forms.csv", "typeform")
    with pytest.raises(
        AnswerFileError, match=r"no column 'stag' for the stage; did you mean 'stage'\?"
    ):
        read_survey(SURVEYS / "typeform.csv", "typeform", stage="stag")
