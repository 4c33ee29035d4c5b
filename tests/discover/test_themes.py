from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from journeykit.discover import Answers, Edit, ThemeEdits, find_themes

from .conftest import load

pytest.importorskip("sklearn")


def _agreement(answers: Answers, expected: pd.Series, result) -> float:  # type: ignore[no-untyped-def]
    from sklearn.metrics import adjusted_rand_score

    got = dict(result.assignments)
    rows = [i for i in range(len(expected)) if isinstance(expected[i], str)]
    return float(adjusted_rand_score([expected[i] for i in rows], [str(got[i]) for i in rows]))


def test_tfidf_finds_the_hand_written_themes(survey: tuple[Answers, pd.Series]) -> None:
    answers, expected = survey
    result = find_themes(answers, k=5, method="tfidf")
    assert result.method == "tfidf"
    assert _agreement(answers, expected, result) >= 0.8
    assert len(result.themes) == 5
    for theme in result.themes:
        assert 3 <= len(theme.quotes) <= 5
        assert theme.label


def test_non_answers_have_no_theme(survey: tuple[Answers, pd.Series]) -> None:
    answers, expected = survey
    got = dict(find_themes(answers, k=5, method="tfidf").assignments)
    for row in range(len(expected)):
        if not isinstance(expected[row], str):
            assert got[row] is None


def test_json_shape() -> None:
    from .conftest import load

    answers, _ = load("en")
    data = find_themes(answers, k=5, method="tfidf").to_dict()
    assert {"id", "label", "size", "moment", "quotes"} <= set(data["themes"][0])
    assert [a["row"] for a in data["assignments"]] == list(range(39))


def test_highs_and_lows_per_theme() -> None:
    from .conftest import load

    answers, _ = load("en")
    result = find_themes(answers, k=5, method="tfidf")
    by_word = {t.keywords[0]: t.moment for t in result.themes}
    assert by_word["onboarding"] == "celebrate"
    assert by_word["roadmap"] == "celebrate"
    assert by_word["expensive"] == "breakdown"


def test_timeline_follows_stage_order() -> None:
    from .conftest import load

    answers, _ = load("en")
    order = {"acquire": 0, "nurture": 1, "convert": 2, "deliver": 3, "maintain": 8}
    timeline = find_themes(answers, k=5, method="tfidf", stage_order=order).timeline()
    assert timeline[0].keywords[0] == "onboarding"
    assert "meetings" in timeline[-1].label or "status" in timeline[-1].label


def test_deterministic_and_seed_stable() -> None:
    from .conftest import load

    answers, _ = load("es")
    a = find_themes(answers, k=5, method="tfidf", seed=0)
    assert a == find_themes(answers, k=5, method="tfidf", seed=0)
    b = find_themes(answers, k=5, method="tfidf", seed=7)
    assert a.assignments == b.assignments


def test_edits_merge_rename_split_pin_survive_reruns(tmp_path: Path) -> None:
    from journeykit.discover import load_edits, save_edits
    from journeykit.discover.edits import text_hash

    from .conftest import load

    answers, _ = load("en")
    first = find_themes(answers, k=5, method="tfidf")
    a, b, c = (t.id for t in first.themes[:3])
    members = tuple(
        text_hash(str(t))
        for r, t in zip(answers.table["row"], answers.table["text"], strict=True)
        if dict(first.assignments)[r] == c
    )
    edits = (
        ThemeEdits()
        .add(Edit("merge", (a, b), label="merged"))
        .add(Edit("pin", (c,), label="pinned one", members=members))
        .add(Edit("rename", ("no-such-theme",), label="x"))
    )
    path = tmp_path / "answers.themes.edits.yaml"
    save_edits(edits, path)
    again = find_themes(answers, k=5, method="tfidf", edits=load_edits(path))
    labels = {t.label: t for t in again.themes}
    assert labels["merged"].size == first.themes[0].size + first.themes[1].size
    assert labels["pinned one"].id == c and labels["pinned one"].pinned
    assert any("no-such-theme" in n for n in again.edit_notes)
    split = find_themes(answers, k=5, method="tfidf", edits=ThemeEdits().add(Edit("split", (a,))))
    assert len(split.themes) == 6


def test_automatic_theme_count_matches_the_hand_written_themes(
    survey: tuple[Answers, pd.Series],
) -> None:
    """Both shipped surveys have 5 themes by hand; automatic must not over-split them."""
    answers, expected = survey
    result = find_themes(answers, method="tfidf")
    assert len(result.themes) == expected.dropna().nunique() == 5
    assert _agreement(answers, expected, result) >= 0.85


def test_automatic_count_on_a_30_answer_survey_does_not_over_split() -> None:
    """4 themes by hand; TF-IDF alone sees 3 (equipment and cost share words), never 6+."""
    from .conftest import load_makerspace

    answers, expected = load_makerspace()
    assert answers.counts()["answers"] == 30 and expected.nunique() == 4
    result = find_themes(answers, method="tfidf")
    assert 3 <= len(result.themes) <= 4
    assert result.counts["outliers"] == 0


def test_eigengap_picks_the_drop() -> None:
    from journeykit.discover.cluster import choose_k

    assert choose_k(np.array([1.0, 0.99, 0.98, 0.5, 0.45, 0.4]), k_max=4) == 3
    assert choose_k(np.array([1.0, 0.3, 0.2]), k_max=5) == 2  # k_max clipped to the spectrum
    assert choose_k(np.array([1.0, 0.5]), k_max=5) == 1
    assert choose_k(np.array([1.0, 0.9, 0.2, 0.1]), k_max=3) == 2


def test_edits_follow_their_theme_when_new_answers_change_its_id(tmp_path: Path) -> None:
    from journeykit.discover import load_edits, read_answers, save_edits
    from journeykit.discover.edits import text_hash

    from .conftest import COLUMNS, DATA

    full = pd.read_csv(DATA / "en_answers.csv", keep_default_na=False)
    early = tmp_path / "early.csv"
    full.drop(index=[3, 4, 12]).to_csv(early, index=False)  # two onboarding, one price answer
    before = read_answers(early, COLUMNS)
    first = find_themes(before, k=5, method="tfidf")
    theme_of = dict(first.assignments)
    table = before.table

    def anchor(tid: str) -> tuple[str, ...]:
        return tuple(text_hash(str(t)) for r, t in zip(table["row"], table["text"], strict=True)
                     if theme_of[r] == tid)  # fmt: skip

    by_word = {t.keywords[0]: t.id for t in first.themes}
    webinar, price = by_word["onboarding"], by_word["expensive"]
    edits = (
        ThemeEdits()
        .add(Edit("rename", (webinar,), label="Onboarding", anchors={webinar: anchor(webinar)}))
        .add(Edit("rename", (price,), label="Price", anchors={price: anchor(price)}))
        .add(Edit("rename", (price,), label="Not followed"))  # no anchors: reported
    )
    save_edits(edits, tmp_path / "e.yaml")
    later = find_themes(read_answers(DATA / "en_answers.csv", COLUMNS), k=5, method="tfidf",
                        edits=load_edits(tmp_path / "e.yaml"))  # fmt: skip
    labels = {t.label: t for t in later.themes}
    assert labels["Onboarding"].id != webinar and labels["Onboarding"].keywords[0] == "onboarding"
    assert labels["Price"].id != price and labels["Price"].keywords[0] == "expensive"
    assert "Not followed" not in labels
    assert any(
        n.startswith(f"{webinar} is now {labels['Onboarding'].id}") for n in later.edit_notes
    )
    assert any(price in n and "not applied" in n for n in later.edit_notes)


def test_every_theme_says_how_sure_it_is(survey: tuple[Answers, pd.Series]) -> None:
    answers, _ = survey
    result = find_themes(answers, k=5, method="tfidf")
    ids = {t.id for t in result.themes}
    for theme in result.themes:
        assert theme.cohesion is not None and 0 < theme.cohesion <= 1
        assert theme.separation is not None and -1 <= theme.separation <= theme.cohesion
        margins = [u.margin for u in theme.unsure]
        assert 1 <= len(margins) <= 3 and margins == sorted(margins)
        assert all(u.nearer in ids - {theme.id} for u in theme.unsure)
    data = result.to_dict()["themes"][0]
    assert {"cohesion", "separation"} <= set(data)
    assert {"row", "text", "margin", "nearer"} == set(data["unsure"][0])


def test_an_answer_between_two_themes_is_the_one_its_theme_is_least_sure_of() -> None:
    from journeykit.discover import answers_from_records

    price = [f"the price is too expensive for {w}" for w in ("us", "a team", "startups", "me")]
    webinar = [f"the onboarding webinar helped {w}" for w in ("us", "a team", "startups", "me")]
    mixed = "the onboarding webinar price is too expensive"
    answers = answers_from_records([{"answer": t} for t in [*price, *webinar, mixed]])
    result = find_themes(answers, k=2, method="tfidf")
    holder = next(t for t in result.themes if mixed in {q.text for q in t.quotes} | {
        u.text for u in t.unsure})  # fmt: skip
    assert holder.unsure[0].text == mixed
    assert holder.unsure[0].margin < min(u.margin for u in holder.unsure[1:])
    assert all(t.separation is not None and t.separation > 0 for t in result.themes)


def test_default_settings_are_the_same_on_every_data_set() -> None:
    """No tuning to one set (issue 25): what a run records depends on its size, not its text."""
    from .conftest import load_makerspace

    runs = [load("en")[0], load("es")[0], load_makerspace()[0]]
    settings = [find_themes(a, k=4, method="tfidf").settings for a in runs]
    assert settings[0] == settings[1] == settings[2]
    assert settings[0]["neighbours"] == 5 and not settings[0]["sampled"]


def test_the_benchmark_runs_every_set_with_the_library_defaults() -> None:
    """bench/discover_themes.py may pass the set's gold count, a seed and the method, nothing
    that would tune the grouping to one set."""
    import ast

    bench = Path(__file__).resolve().parents[2] / "bench" / "discover_themes.py"
    calls = [
        node for node in ast.walk(ast.parse(bench.read_text()))
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "find_themes"
    ]  # fmt: skip
    assert calls
    assert all({kw.arg for kw in c.keywords} <= {"k", "seed", "method"} for c in calls)
