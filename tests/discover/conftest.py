from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from journeykit.discover import AnswerColumns, Answers, read_answers

DATA = Path(__file__).resolve().parents[1] / "data" / "answers"
SHARED = Path(__file__).resolve().parents[2] / ".." / "shared"
COLUMNS = AnswerColumns(text="answer", question="question", stage="stage", tenure="tenure")


def load(name: str) -> tuple[Answers, pd.Series]:
    path = DATA / f"{name}_answers.csv"
    return read_answers(path, COLUMNS), pd.read_csv(path)["expected_theme"]


def load_makerspace() -> tuple[Answers, pd.Series]:
    """30 answers, 4 hand-written themes: equipment, mentors, workshops, cost."""
    path = DATA / "en_makerspace30.csv"
    cols = AnswerColumns(text="answer", question="question", stage="stage")
    return read_answers(path, cols), pd.read_csv(path)["expected_theme"]


@pytest.fixture(params=["en", "es"])
def survey(request: pytest.FixtureRequest) -> tuple[Answers, pd.Series]:
    return load(request.param)


@pytest.fixture(scope="session")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("embeddings")
