import json
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from journeykit.cli import cli
from journeykit.discover import question_kit
from journeykit.discover.errors import UnknownStageError
from journeykit.journey import load_journey, parse_journey

ROOT = Path(__file__).resolve().parents[2]
SAAS = ROOT / "examples" / "saas-trial.yaml"
EN = ROOT / "tests" / "data" / "answers" / "en_answers.csv"
COLS = ["--stage-column", "stage", "--question-column", "question", "--method", "tfidf"]


def test_question_kit_has_catalog_and_milestone_questions() -> None:
    kit = question_kit(load_journey(SAAS), stage="nurture", language="es")
    texts = [q.text for q in kit.questions]
    assert "¿Dónde esperas estar dentro de 3 a 5 años?" in texts
    assert "¿Qué es lo último que lograste en el camino?" in texts
    assert any("webinar" in t.lower() for t in texts)  # the journey's own milestone
    assert {q.reveals for q in kit.questions} == {"goal", "high", "low", "next"}


def test_unknown_stage_suggests() -> None:
    with pytest.raises(UnknownStageError, match="did you mean 'nurture'"):
        question_kit(load_journey(SAAS), stage="nurtur")


@pytest.mark.parametrize("fmt", ["md", "csv", "json"])
def test_cli_questions(fmt: str) -> None:
    result = CliRunner().invoke(cli, ["discover", "questions", str(SAAS), "--format", fmt])
    assert result.exit_code == 0, result.output
    assert "What is your next step?" in result.output


def test_cli_themes_json(tmp_path: Path) -> None:
    args = ["discover", "themes", str(EN), "--text-column", "answer", "--themes", "5", *COLS]
    result = CliRunner().invoke(
        cli, [*args, "--format", "json", "--edits", str(tmp_path / "e.yaml")]
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert len(data["themes"]) == 5
    assert {a["row"] for a in data["assignments"] if a["theme"] is None} == {35, 36, 37, 38}
    assert {k: data["counts"][k] for k in ("answers", "empty", "non_answers", "outliers")} == {
        "answers": 35, "empty": 1, "non_answers": 3, "outliers": 0,
    }  # fmt: skip


def test_cli_themes_jsonl_with_a_bad_row_and_xlsx(tmp_path: Path) -> None:
    """Every data row has an assignment (a rejected one with no theme); XLSX reads the same."""
    frame = pd.read_csv(EN, keep_default_na=False)  # "n/a" stays text
    lines = [
        json.dumps({"answer": a, "stage": s})
        for a, s in zip(frame["answer"], frame["stage"], strict=True)
    ]
    lines.insert(3, "{not json")
    (tmp_path / "a.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    frame.to_excel(tmp_path / "a.xlsx", index=False)
    out = {}
    for name in ("a.jsonl", "a.xlsx"):
        args = ["discover", "themes", str(tmp_path / name), "--themes", "5", "--method", "tfidf"]
        result = CliRunner().invoke(cli, [*args, "--stage-column", "stage", "--format", "json"])
        assert result.exit_code == 0, result.output
        out[name] = json.loads(result.stdout)
    jsonl, xlsx = out["a.jsonl"], out["a.xlsx"]
    assert [a["row"] for a in jsonl["assignments"]] == list(range(40))
    assert jsonl["assignments"][3]["theme"] is None
    assert jsonl["rejected"] == [{"row": 3, "line": 4, "reason": jsonl["rejected"][0]["reason"]}]
    assert "not valid JSON" in jsonl["rejected"][0]["reason"]
    assert jsonl["counts"]["rejected"] == 1 and jsonl["counts"]["non_answers"] == 3
    # Same answers, same themes: the JSON lines rows after the bad line are shifted by one.
    shifted = [a["theme"] for a in jsonl["assignments"] if a["row"] != 3]
    assert shifted == [a["theme"] for a in xlsx["assignments"]]


def test_cli_draft_validates(tmp_path: Path) -> None:
    out = tmp_path / "draft.yaml"
    args = ["discover", "draft", str(EN), "--journey", str(SAAS), "-o", str(out), "--themes", "5"]
    cols = [*COLS, "--respondent-column", "respondent"]
    result = CliRunner().invoke(cli, [*args, *cols, "--edits", str(tmp_path / "e.yaml")])
    assert result.exit_code == 0, result.output
    journey = parse_journey(out.read_text("utf-8"))
    proposed = [m for m in journey.milestones if m.id.startswith("proposed_")]
    assert len(proposed) == 5
    assert {m.status for m in proposed} == {"proposed"}
    assert {m.status for m in journey.milestones if m not in proposed} == {"accepted"}
    checked = CliRunner().invoke(cli, ["validate", str(out)])
    assert checked.exit_code == 0
    assert checked.stderr.count("is proposed (from members' answers)") == 5
    # Evidence is members' own words, by the member who wrote them, and proposals stay out of
    # every measured path.
    said = {
        (r.respondent, r.answer) for r in pd.read_csv(EN).itertuples() if isinstance(r.answer, str)
    }
    for m in proposed:
        assert 1 <= len(m.evidence) <= 3
        assert {(e.respondent, e.quote) for e in m.evidence} <= said
        assert len({e.theme for e in m.evidence}) == 1 and m.evidence[0].theme in m.description
    measured = {s for p in journey.paths for s in p.milestone_ids}
    assert measured and not measured & {m.id for m in proposed}


def test_cli_edit_rename(tmp_path: Path) -> None:
    edits = tmp_path / "e.yaml"
    base = ["--themes", "5", *COLS, "--edits", str(edits)]
    data = json.loads(
        CliRunner().invoke(cli, ["discover", "themes", str(EN), *base, "--format", "json"]).stdout
    )
    first = data["themes"][0]["id"]
    result = CliRunner().invoke(
        cli, ["discover", "edit", str(EN), "rename", first, "--label", "Renamed", *base]
    )
    assert result.exit_code == 0, result.output
    again = json.loads(
        CliRunner().invoke(cli, ["discover", "themes", str(EN), *base, "--format", "json"]).stdout
    )
    assert again["themes"][0]["label"] == "Renamed"
    from journeykit.discover import load_edits

    saved = load_edits(edits).edits[0]
    assert len(saved.anchors[first]) == data["themes"][0]["size"]
    typo = CliRunner().invoke(cli, ["discover", "edit", str(EN), "rename", "nope", *base])
    assert typo.exit_code != 0 and "no theme 'nope'" in typo.output


def test_demo_prints_themes(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["demo", "--dir", str(tmp_path / "demo")])
    assert result.exit_code == 0, result.output
    assert "themes in members' answers" in result.output
