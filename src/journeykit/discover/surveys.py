"""Survey tools' answer exports: one column per question becomes one answer per row.

Typeform, Google Forms and SurveyMonkey export a CSV with one row per respondent and one column
per question, beside columns about the response (dates, network, collector). Each question
column of each row becomes one answer, with the question's text and the respondent; the stage
comes from a column the user names (a hidden field or a question such as "Where are you in the
course?"). The layouts (which columns are about the response, how many header rows) are the ones
each tool's CSV download writes; SurveyMonkey's second header row names a question's
sub-answer ("Response", "Open-Ended Response", or an option of a matrix).

Column names are matched without regard to case (Google Forms has written both "Email Address"
and "Email address"); SurveyMonkey's "Custom Data 1", "Custom Data 2", ... are all about the
response. Without a stage column named, a column called "stage" (a hidden field, say) is the
stage.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from journeykit.discover.answers import AnswerColumns, Answers, RawRow, build_answers
from journeykit.discover.errors import AnswerFileError
from journeykit.discover.text import Language
from journeykit.errors import did_you_mean


@dataclass(frozen=True)
class SurveyLayout:
    title: str
    respondent: str | None  # the column naming the respondent, when the export has one
    meta: tuple[str, ...]  # columns about the response, not answers
    header_rows: int = 1


SURVEYS = {
    "typeform": SurveyLayout(
        "Typeform responses (CSV download)",
        "#",
        (
            "#",
            "Response Type",
            "Start Date (UTC)",
            "Stage Date (UTC)",
            "Submit Date (UTC)",
            "Network ID",
            "Tags",
            "Ending",
        ),
    ),
    "google-forms": SurveyLayout(
        "Google Forms responses (CSV download of the response sheet)",
        "Email Address",
        ("Timestamp", "Email Address", "Score"),
    ),
    "surveymonkey": SurveyLayout(
        "SurveyMonkey all responses (CSV, expanded)",
        "Respondent ID",
        (
            "Respondent ID",
            "Collector ID",
            "Start Date",
            "End Date",
            "IP Address",
            "Email Address",
            "First Name",
            "Last Name",
            "Custom Data 1",
        ),
        header_rows=2,
    ),
}
_WHOLE = {"", "Response", "Open-Ended Response"}
_CUSTOM_DATA = re.compile(r"custom data \d+")


def _is_meta(layout: SurveyLayout, name: str) -> bool:
    folded = name.strip().casefold()
    return folded in {m.casefold() for m in layout.meta} or (
        layout is SURVEYS["surveymonkey"] and _CUSTOM_DATA.fullmatch(folded) is not None
    )


def _named(names: list[str], wanted: str | None) -> str | None:
    """The file's own spelling of column ``wanted`` (matched regardless of case)."""
    if wanted is None:
        return None
    return next((n for n in names if n.strip().casefold() == wanted.casefold()), None)


def read_survey(
    path: Path | str,
    survey: str,
    *,
    stage: str | None = None,
    default_language: Language = "en",
) -> Answers:
    """Answers from a survey tool's CSV export, one per question and respondent."""
    path = Path(path)
    if survey not in SURVEYS:
        raise AnswerFileError(path, f"unknown survey {survey!r}{did_you_mean(survey, SURVEYS)}")
    layout = SURVEYS[survey]
    try:
        with path.open(newline="", encoding="utf-8-sig") as fh:
            reader = csv.reader(fh)
            headers = [next(reader, None) for _ in range(layout.header_rows)]
            if any(h is None for h in headers):
                raise AnswerFileError(path, f"the {survey} export has no header")
            names = _names([h for h in headers if h is not None])
            _check(path, survey, layout, names, stage)
            stage = stage if stage is not None else _named(names, "stage")
            raw = list(_unpivot(reader, names, layout, stage))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise AnswerFileError(path, f"cannot be read: {exc}") from exc
    columns = AnswerColumns(
        text="answer",
        respondent="respondent",
        question="question",
        stage="stage" if stage else None,
    )
    return build_answers(raw, columns, path, default_language)


def _names(headers: list[list[str]]) -> list[str]:
    """One name per column; a second header row adds a sub-answer's label to its question
    (a question's text is written over its first column only)."""
    names, question = [], ""
    for i, top in enumerate(headers[0]):
        question = top.strip() or question
        sub = headers[1][i].strip() if len(headers) > 1 and i < len(headers[1]) else ""
        names.append(question if sub in _WHOLE else f"{question} — {sub}")
    return names


def _check(
    path: Path, survey: str, layout: SurveyLayout, names: list[str], stage: str | None
) -> None:
    if _named(names, layout.meta[0]) is None:
        raise AnswerFileError(
            path,
            f"the {survey} preset ({layout.title}) needs the column {layout.meta[0]!r}; "
            f"the file has: {', '.join(names)}",
        )
    if stage is not None and stage not in names:
        raise AnswerFileError(
            path, f"no column {stage!r} for the stage{did_you_mean(stage, names)}"
        )


def _unpivot(reader: Any, names: list[str], layout: SurveyLayout, stage: str | None) -> Any:
    questions = [i for i, n in enumerate(names) if not _is_meta(layout, n) and n != stage]
    respondent = _named(names, layout.respondent)
    row = 0
    line = reader.line_num + 1
    for n, fields in enumerate(reader):
        if len(fields) != len(names):
            yield (row, line, None, f"expected {len(names)} fields, found {len(fields)}")
            row += 1
        else:
            values = dict(zip(names, fields, strict=True))
            who = (values.get(respondent) or "").strip() if respondent else ""
            for i in questions:
                record = {
                    "respondent": who or f"row {n + 1}",
                    "question": names[i],
                    "answer": fields[i],
                    "stage": values.get(stage) if stage else None,
                }
                raw: RawRow = (row, line, record, None)
                yield raw
                row += 1
        line = reader.line_num + 1
