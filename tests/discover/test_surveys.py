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


@pytest.mark.parametrize(
    ("survey", "text", "respondents"),
    [
        (  # Typeform's current layout: response type, stage date, tags, ending; a hidden field
            "typeform",
            "#,Response Type,What almost stopped you from joining?,How did you hear about us?,"
            "stage,Start Date (UTC),Stage Date (UTC),Submit Date (UTC),Network ID,Tags,Ending\n"
            "tok1,completed,The price.,A friend,enrolled,2024-02-01 09:12:44,,"
            "2024-02-01 09:15:02,a1b2,,default\n"
            "tok2,partial,Time.,,lesson_1,2024-02-02 18:40:10,2024-02-02 18:41:00,,f6e5,vip,\n",
            ["tok1", "tok1", "tok2", "tok2"],
        ),
        (  # Google Forms' newer sheet: "Email address" and a quiz's Score
            "google-forms",
            "Timestamp,Email address,Score,What almost stopped you from joining?,"
            "How did you hear about us?,Stage\n"
            "2/1/2024 9:15:02,ana@example.com,3 / 5,The price.,A friend,enrolled\n"
            "2/3/2024 20:02:41,ben@example.com,4 / 5,Time.,,lesson_1\n",
            ["ana@example.com", "ana@example.com", "ben@example.com", "ben@example.com"],
        ),
        (  # SurveyMonkey's condensed export: an empty second header row, more custom data
            "surveymonkey",
            "Respondent ID,Collector ID,Start Date,End Date,IP Address,Custom Data 1,"
            "Custom Data 2,What almost stopped you from joining?,How did you hear about us?,stage\n"
            ",,,,,,,,,\n"
            "114227486542,431238977,02/01/2024 09:12:44 AM,02/01/2024 09:15:02 AM,203.0.113.7,"
            "x,y,The price.,A friend,enrolled\n"
            "114227503321,431238977,02/02/2024 06:40:10 PM,02/02/2024 06:44:55 PM,198.51.100.23,"
            ",,Time.,,lesson_1\n",
            ["114227486542", "114227486542", "114227503321", "114227503321"],
        ),
    ],
)
def test_each_tools_current_export_gives_one_answer_per_question(
    tmp_path: Path, survey: str, text: str, respondents: list[str]
) -> None:
    path = tmp_path / f"{survey}.csv"
    path.write_text(text)
    answers = read_survey(path, survey)  # the stage column is found by its name
    assert answers.rejected.empty
    got = rows(answers)
    assert [r[1] for r in got] == respondents
    assert [r[2] for r in got] == [JOINING, "How did you hear about us?"] * 2
    assert [r[3] for r in got][:3] == ["The price.", "A friend", "Time."]
    assert [r[4] for r in got] == ["enrolled", "enrolled", "lesson_1", "lesson_1"]
