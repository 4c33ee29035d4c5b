"""The emotion curve from members' answers: discovery themes placed on the milestones."""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path

import pytest
from click.testing import CliRunner

from journeykit.cli import cli
from journeykit.discover import AnswerColumns, find_themes, read_answers
from journeykit.discover.draft import stage_order
from journeykit.journey import load_journey
from journeykit.report.emotion import MOMENT_SCORE, designed_months, theme_emotion
from journeykit.report.pages import map_svg
from tests.conftest import EXAMPLES, REPO

pytest.importorskip("sklearn", reason="themes need the discover-light extra")

ANSWERS = REPO / "tests" / "data" / "answers" / "en_answers.csv"
SAAS = next(p for p in EXAMPLES if p.stem == "saas-trial")


def _points(svg: str) -> dict[str, float | None]:
    """data-score of every emotion point; None for a milestone no answer reached."""
    out: dict[str, float | None] = {}
    for tag in re.findall(r'<circle class="emotion-point[^>]*>', svg):
        mid = re.search(r'data-milestone="([^"]+)"', tag)
        score = re.search(r'data-score="([^"]+)"', tag)
        assert mid is not None
        out[mid[1]] = float(score[1]) if score else None
    return out


def _cy(svg: str, mid: str) -> float:
    tag = re.search(rf'<circle class="emotion-point" data-milestone="{mid}"[^>]*>', svg)
    assert tag is not None
    found = re.search(r'cy="([\d.]+)"', tag[0])
    assert found is not None
    return float(found[1])


def test_curve_follows_the_themes_stage_by_stage() -> None:
    j = load_journey(SAAS)
    answers = read_answers(ANSWERS, AnswerColumns(stage="stage", question="question"))
    themes = find_themes(answers, seed=0, method="tfidf", stage_order=stage_order(j))
    # Oracle, row by row: each answer's theme moment lands on its stage's milestones.
    moment = {t.id: MOMENT_SCORE[t.moment] for t in themes.themes}
    of_row = dict(themes.assignments)
    by_stage: dict[str, list[str]] = defaultdict(list)
    for m in j.milestones:
        by_stage[m.stage or ""].append(m.id)
    sums: dict[str, list[float]] = defaultdict(list)
    for row, stage in zip(answers.answered["row"], answers.answered["stage"], strict=True):
        tid = of_row.get(int(row))
        if tid is None:
            continue
        for mid in by_stage[stage]:
            sums[mid].append(moment[tid])
    expected = {mid: sum(v) / len(v) for mid, v in sums.items()}
    emotion = theme_emotion(j, themes, "team")
    assert {k: e.score for k, e in emotion.by_milestone.items()} == pytest.approx(expected)
    assert {k: e.answers for k, e in emotion.by_milestone.items()} == {
        k: len(v) for k, v in sums.items()
    }
    design = map_svg(j)
    svg = map_svg(j, themes=themes)
    assert 'data-source="design"' in design and 'data-source="themes"' in svg
    shown = _points(svg)
    assert {k: v for k, v in shown.items() if v is not None} == pytest.approx(expected)
    # Milestones at stages nobody answered from have no point on the curve.
    assert {k for k, v in shown.items() if v is None} == {m.id for m in j.milestones} - set(
        expected
    )
    # The curve changed: a designed celebration members describe as a low, drawn lower.
    designed = {m.id: MOMENT_SCORE[m.moment] for m in j.milestones}
    assert any(designed[k] > 0 > v for k, v in expected.items())  # e.g. subscribed: pricing
    low = min(expected, key=lambda k: (expected[k], k))
    high = max(expected, key=lambda k: (expected[k], k))
    assert expected[low] < 0 < expected[high]
    assert _cy(svg, low) > _cy(svg, high)  # y grows downwards: lows sit lower
    turned = next(k for k, v in expected.items() if designed[k] > 0 > v)
    assert _cy(svg, turned) > _cy(design, turned)


def test_themes_without_stages_are_placed_by_tenure() -> None:
    j = load_journey(SAAS)
    answers = read_answers(ANSWERS, AnswerColumns(tenure="tenure"))
    themes = find_themes(answers, seed=0, method="tfidf")
    months = designed_months(j, "team")
    emotion = theme_emotion(j, themes, "team")
    expected: dict[str, list[tuple[float, int]]] = defaultdict(list)
    for t in themes.themes:
        assert not t.stages and t.position is not None
        nearest = min(months, key=lambda m: (abs(months[m] - t.position), m))  # type: ignore[operator]
        expected[nearest].append((MOMENT_SCORE[t.moment], t.size))
    assert set(emotion.by_milestone) == set(expected)
    for mid, parts in expected.items():
        total = sum(n for _, n in parts)
        assert emotion.by_milestone[mid].score == pytest.approx(
            sum(v * n for v, n in parts) / total
        )
        assert emotion.by_milestone[mid].answers == total


def test_map_and_report_take_answers(tmp_path: Path) -> None:
    from journeykit.events.simulate import SimulationOptions, simulate_to_file

    events = tmp_path / "ev.parquet"
    simulate_to_file(load_journey(SAAS), SimulationOptions(customers=300, seed=1), events)
    runner = CliRunner()
    common = ["--answers", str(ANSWERS), "--stage-column", "stage", "--method", "tfidf"]
    design = runner.invoke(cli, ["map", str(SAAS), *common, "-o", str(tmp_path / "m.svg")])
    assert design.exit_code == 0, design.output
    assert 'data-source="themes"' in (tmp_path / "m.svg").read_text("utf-8")
    rep = runner.invoke(cli, ["report", str(SAAS), "--events", str(events), *common,
                              "-o", str(tmp_path / "r.html")])  # fmt: skip
    assert rep.exit_code == 0, rep.output
    html = (tmp_path / "r.html").read_text("utf-8")
    assert 'data-source="themes"' in html
    assert html.count('<div class="theme">') >= 3 and "<blockquote>" in html
    bad = runner.invoke(cli, ["map", str(SAAS), "--answers", str(ANSWERS), "--stage-column",
                              "phase", "-o", str(tmp_path / "m.svg")])  # fmt: skip
    assert bad.exit_code == 1
    assert "no column 'phase'" in bad.output


def test_answers_without_stage_or_tenure_keep_the_designed_curve() -> None:
    j = load_journey(SAAS)
    themes = find_themes(read_answers(ANSWERS), seed=0, method="tfidf")
    assert theme_emotion(j, themes, "team").by_milestone == {}
    svg = map_svg(j, themes=themes)
    assert 'data-source="design"' in svg and "give --stage-column or --tenure-column" in svg
    assert _points(svg) == _points(map_svg(j))
