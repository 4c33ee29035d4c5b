"""The grouping's building blocks against brute-force oracles: neighbours, graph, distances."""

import numpy as np
import pytest
from scipy.spatial.distance import pdist

from journeykit.discover import cluster as clustering


def _unit_rows(n: int, d: int, seed: int) -> np.ndarray:
    x = np.random.default_rng(seed).normal(size=(n, d))
    out: np.ndarray = x / np.linalg.norm(x, axis=1, keepdims=True)
    return out


def test_top_k_finds_each_rows_largest_values() -> None:
    rng = np.random.default_rng(0)
    block = rng.random((40, 300), dtype=np.float32)
    block[3, :] = -np.inf
    block[3, [7, 50, 299]] = [0.1, 0.3, 0.2]  # fewer values than asked: the rest stay -inf
    cols = np.empty((40, 5), dtype=np.int64)
    sims = np.empty((40, 5), dtype=np.float32)
    clustering._top_k(block, cols, sims)
    for r in [r for r in range(40) if r != 3]:
        expected = np.argsort(-block[r], kind="stable")[:5]
        assert set(cols[r]) == set(expected), r
        assert np.array_equal(sims[r], block[r, cols[r]])
        assert np.all(np.diff(sims[r]) >= 0)  # largest last
    assert list(cols[3][-3:]) == [7, 299, 50] and np.all(np.isneginf(sims[3][:2]))


def test_knn_graph_weights_mutual_neighbours_more() -> None:
    """Brute force: each row's ``nn`` most similar others; a pair in both lists weighs
    ``(1 + MUTUAL_BONUS) * sim`` in the graph to group on (``sim`` in the plain one), a pair in
    one list ``sim / 2``, anything else 0."""
    x = _unit_rows(60, 8, 1)
    nn = clustering.neighbours(60)  # 7
    grouped, plain = clustering.combined_graph([(x, 1.0)], 60)
    graph, plain = grouped.toarray(), plain.toarray()
    sims = x @ x.T
    np.fill_diagonal(sims, -np.inf)
    near = [set(np.argsort(-sims[i])[:nn]) for i in range(60)]
    for i in range(60):
        for j in range(60):
            a, b = j in near[i], i in near[j]
            s = max(float(sims[i, j]), 1e-3) if i != j else 0.0
            expected = (1 + clustering.MUTUAL_BONUS) * s if a and b else s / 2 if a or b else 0
            assert graph[i, j] == pytest.approx(expected, abs=1e-5), (i, j)
            assert plain[i, j] == pytest.approx(s if a and b else s / 2 if a or b else 0, abs=1e-5)


def test_ward_distances_match_scipy() -> None:
    x = _unit_rows(700, 12, 2)
    got = clustering._distances(x, chunk=128)
    assert got.shape == (700 * 699 // 2,)
    assert np.allclose(got, pdist(x), atol=1e-9)


def test_ward_tree_is_scipys_ward_tree() -> None:
    from scipy.cluster.hierarchy import fcluster, linkage

    x = _unit_rows(500, 10, 3)
    ours, theirs = clustering._ward_tree(x), linkage(x, method="ward")
    assert np.allclose(ours[:, 2], theirs[:, 2])
    for k in (2, 7, 30):
        a = fcluster(ours, k, criterion="maxclust")
        b = fcluster(theirs, k, criterion="maxclust")
        assert np.array_equal(a, b)
