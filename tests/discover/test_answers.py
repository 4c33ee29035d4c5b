from pathlib import Path

import pytest

from journeykit.discover import AnswerColumns, read_answers
from journeykit.discover.errors import AnswerFileError
from journeykit.discover.text import detect_language, non_answer_reason

from .conftest import load


def test_non_answers_are_kept_and_counted() -> None:
    answers, _ = load("en")
    assert answers.counts() == {
        "read": 39,
        "answers": 35,
        "empty": 1,
        "non_answers": 3,
        "rejected": 0,
    }
    assert set(answers.table.loc[answers.table["status"] != "answer", "row"]) == {35, 36, 37, 38}


@pytest.mark.parametrize(
    "text", ["n/a", "N/A", "don't know", "no sé", "No lo sé.", "nada", "-", "?"]
)
def test_non_answer_phrases(text: str) -> None:
    assert non_answer_reason(text) == "non-answer"


def test_real_answers_are_not_non_answers() -> None:
    assert non_answer_reason("No, the price was too high") is None
    assert non_answer_reason("   ") == "empty"


def test_language_is_detected_when_absent() -> None:
    answers, _ = load("es")
    assert set(answers.answered["language"]) == {"es"}
    assert detect_language("The onboarding webinar was great") == "en"
    assert detect_language("Los entrenadores me animan") == "es"


def test_bad_rows_are_rejected_with_line_and_reason(tmp_path: Path) -> None:
    path = tmp_path / "a.jsonl"
    path.write_text(
        '{"answer": "good webinar", "tenure": 2}\n'
        "not json\n"
        '{"answer": "too expensive", "tenure": "soon"}\n'
        '{"answer": "hola", "lang": "fr"}\n'
        '{"answer": ""}\n',
        encoding="utf-8",
    )
    answers = read_answers(path, AnswerColumns(tenure="tenure", language="lang"))
    assert answers.counts()["rejected"] == 3
    assert list(answers.rejected["line"]) == [2, 3, 4]
    assert "not valid JSON" in answers.rejected["reason"][0]
    assert "tenure" in answers.rejected["reason"][1]
    assert list(answers.table["row"]) == [0, 4]
    assert list(answers.table["status"]) == ["answer", "empty"]


def test_csv_row_with_wrong_field_count_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "a.csv"
    path.write_text(
        'answer,stage\n"multi\nline",convert\nbroken,row,extra\nfine,deliver\n', "utf-8"
    )
    answers = read_answers(path, AnswerColumns(stage="stage"))
    assert list(answers.rejected["line"]) == [4]
    assert list(answers.table["row"]) == [0, 2]
    assert list(answers.table["line"]) == [2, 5]


def test_xlsx(tmp_path: Path) -> None:
    pd = pytest.importorskip("pandas")
    pytest.importorskip("openpyxl")
    path = tmp_path / "a.xlsx"
    pd.DataFrame({"answer": ["great coach", None], "stage": ["deliver", "convert"]}).to_excel(
        path, index=False
    )
    answers = read_answers(path, AnswerColumns(stage="stage"))
    assert list(answers.table["status"]) == ["answer", "empty"]


def test_unknown_column_names_the_file_and_columns(tmp_path: Path) -> None:
    path = tmp_path / "a.csv"
    path.write_text("text\nhello\n", "utf-8")
    with pytest.raises(AnswerFileError, match=r"a.csv: no column 'answer'; the file has: text"):
        read_answers(path)
