"""Large surveys: above ``GRAPH_LIMIT`` answers a sample is grouped and the rest assigned.

The limit is lowered here so the path runs on small data; 50,000 answers are in bench/.
"""

import numpy as np
import pytest
from sklearn.metrics import adjusted_rand_score

from journeykit.discover import cluster as clustering

pytest.importorskip("sklearn")


def _blobs(n: int, k: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``k`` tight groups of unit vectors around orthogonal directions, in shuffled order."""
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, k, n)
    x = np.eye(k, 16)[truth] + rng.normal(0, 0.08, (n, 16))
    return x / np.linalg.norm(x, axis=1, keepdims=True), truth


def _brute_assign(new: np.ndarray, grouped: np.ndarray, labels: np.ndarray, nn: int) -> list[int]:
    out = []
    for row in new:
        sims = [float(row @ g) for g in grouped]
        top = sorted(range(len(sims)), key=lambda j: -sims[j])[:nn]
        votes: dict[int, float] = {}
        for j in top:
            votes[int(labels[j])] = votes.get(int(labels[j]), 0.0) + max(sims[j], 1e-3)
        out.append(max(sorted(votes), key=lambda lab: votes[lab]))
    return out


def test_assign_matches_a_brute_force_vote() -> None:
    x, _ = _blobs(300, 3)
    rng = np.random.default_rng(1)
    labels = rng.integers(0, 3, 200)  # noisy labels, so the vote (not just the nearest) matters
    got = clustering.assign([(x[200:], x[:200], 1.0)], labels, nn=7, chunk=32)
    assert got.tolist() == _brute_assign(x[200:], x[:200], labels, 7)


def test_large_input_groups_a_sample_and_assigns_the_rest(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    x, truth = _blobs(900, 4)
    monkeypatch.setattr(clustering, "GRAPH_LIMIT", 200)
    labels, k = clustering.cluster([(x, 1.0)], k=4, seed=0)
    assert k == 4 and len(labels) == 900
    assert adjusted_rand_score(truth, labels) == 1.0
    again, _ = clustering.cluster([(x, 1.0)], k=4, seed=3)
    assert adjusted_rand_score(labels, again) == 1.0
    auto, k_auto = clustering.cluster([(x, 1.0)], k=None, seed=0)
    assert k_auto == 4 and adjusted_rand_score(truth, auto) == 1.0


def test_sampled_path_on_a_hand_written_survey(monkeypatch: pytest.MonkeyPatch) -> None:
    from journeykit.discover import find_themes

    from .conftest import load

    answers, expected = load("en")
    monkeypatch.setattr(clustering, "GRAPH_LIMIT", 28)
    result = find_themes(answers, k=5, method="tfidf")
    got = dict(result.assignments)
    rows = [i for i in range(len(expected)) if isinstance(expected[i], str)]
    ari = adjusted_rand_score([expected[i] for i in rows], [str(got[i]) for i in rows])
    assert ari >= 0.6
    assert all(got[i] is None for i in range(len(expected)) if not isinstance(expected[i], str))
