"""Grouping answers: spectral embedding of a k-nearest-neighbour graph, then Ward.

Why this and not k-means on the embeddings: short answers sit on a few dense, curved regions of
embedding space that k-means cuts badly. A cosine kNN graph keeps only close neighbours; its
leading eigenvectors (Ng-Jordan-Weiss, rows normalised) turn those regions into compact blobs, and
Ward's agglomeration groups them without a random start. A final neighbour vote moves boundary
answers to the theme most of their neighbours are in. Measured on HWU64 and Banking77 samples
(docs/benchmarks.md, "Issue 25") this is above plain Ward on the same embeddings on every set
(+0.03 to +0.06 NMI) and above BERTopic with k-means on UMAP (+0.002 to +0.007), and does not
depend on the seed: the seed only changes the eigen-solver's start vector. Large surveys group
a sample (``GRAPH_LIMIT``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numba as nb
import numpy as np

from journeykit._optional import require

WARD_DENSE_LIMIT = 8000  # above this, Ward follows the kNN graph (memory grows as n^2 otherwise)
# Above this, group a fixed sample this size and assign the rest (see cluster). 5,000 keeps a run
# on all 11,036 HWU64 texts at 0.26-0.41x BERTopic's CPU time (2.2-2.7 s) with NMI above it
# (0.793 vs 0.791); a sample of 8,000 gives 0.7932 for twice the time (docs/benchmarks.md,
# "Second pass").
GRAPH_LIMIT = 5_000
GRAPH_WEIGHTS_TFIDF = 0.25  # weight of the word-overlap graph next to the embedding graph
DIMS_PER_THEME = 0.8  # eigenvectors per theme; measured best between 0.7 and 0.9
# ARPACK's tolerance. 1e-4 gives the same themes as machine precision on both Banking77 samples
# with ~30% less CPU; 1e-3 lets seeds disagree (seed-to-seed ARI 0.92). docs/benchmarks.md.
EIGEN_TOL = 1e-4


# Extra weight of mutual neighbours. A one-way pair is often a crowded answer's neighbour
# reaching across a theme border (a "hub"); weighing mutual pairs 2.8x one-way ones instead of 2x
# lifted NMI on all eight sets but one, which stayed level (-0.0001), with embeddings (mean
# 0.8163 -> 0.8178); 0.5-1.0 lifted the mean as much but lowered some HWU64 set by up to 0.004
# (docs/benchmarks.md, "Second pass").
MUTUAL_BONUS = 0.4

NEIGHBOURS = 15  # measured on 3 HWU64 + 4 Banking77 sets (issue 25; docs/benchmarks.md)


def neighbours(n: int) -> int:
    """15 neighbours, fewer only below 120 answers; at least 5 so a small survey's graph does not
    fall apart into pairs (3 neighbours split a 30-answer survey into 6 themes instead of 4).

    10 neighbours were chosen on one Banking77 sample and were the best there; over three HWU64
    and four Banking77 sets 15 is better on average (NMI 0.820 vs 0.815) and on HWU64 by
    0.004-0.016, at most 0.007 worse on a Banking77 set (docs/benchmarks.md, "Issue 25").
    """
    return int(min(NEIGHBOURS, max(5, n // 8), n - 1))


def knn_graph(x: Any, nn: int, chunk: int = 1024) -> tuple[Any, Any]:
    """Symmetric cosine-similarity graph of each row's ``nn`` nearest neighbours (scipy CSR),
    and the similarities of its mutual pairs (each in the other's ``nn``; see ``combined_graph``).

    Rows must be unit length (dense embeddings or sparse TF-IDF). Exact search by blocks of
    dot products: for up to ~50k answers this is faster than building an index. In the graph a
    mutual pair weighs its similarity, a one-way pair half of it.
    """
    sp = require("scipy.sparse", extra="discover")
    n = x.shape[0]
    cols = np.empty((n, nn), dtype=np.int64)
    sims = np.empty((n, nn), dtype=np.float32)
    # Transpose once: a sparse product would otherwise convert x.T on every block.
    xt = x.T.tocsr() if hasattr(x, "tocsr") else x.T
    # Most TF-IDF similarities are exactly 0. A fixed jitter far below any real similarity breaks
    # those ties in an order that does not depend on the seed, so an answer sharing no word with
    # 15 others links to scattered answers (at weight 1e-3), not always to the first rows.
    jitter = np.random.default_rng(0).random(n).astype(np.float32) * np.float32(1e-6)
    for start in range(0, n, chunk):
        block = x[start : start + chunk] @ xt
        block = np.asarray(block.toarray() if hasattr(block, "toarray") else block, np.float32)
        block += jitter
        rows = np.arange(block.shape[0])
        block[rows, rows + start] = -np.inf  # not your own neighbour
        _top_k(block, cols[start : start + chunk], sims[start : start + chunk])
    weights = np.clip(sims, 1e-3, 1.0).ravel()  # keep an edge even at 0 similarity
    g = sp.csr_matrix((weights, (np.repeat(np.arange(n), nn), cols.ravel())), shape=(n, n))
    return (g + g.T) * 0.5, g.multiply(g.T > 0)


@nb.njit(cache=True)
def _top_k(block: np.ndarray, cols: np.ndarray, sims: np.ndarray) -> None:
    """Each row's ``cols.shape[1]`` largest values and their columns, largest last.

    One pass with a small sorted buffer per row: ten times faster than numpy's ``argpartition``
    on 5,000-column blocks (0.45 s of a 2.7 s run on 5,000 answers; docs/benchmarks.md), and it
    picks the same neighbours.
    """
    nn = cols.shape[1]
    for r in range(block.shape[0]):
        vals = np.full(nn, -np.inf, dtype=block.dtype)
        idx = np.zeros(nn, dtype=np.int64)
        row = block[r]
        for j in range(row.shape[0]):
            v = row[j]
            if v > vals[0]:
                p = 0
                while p + 1 < nn and vals[p + 1] < v:
                    vals[p] = vals[p + 1]
                    idx[p] = idx[p + 1]
                    p += 1
                vals[p] = v
                idx[p] = j
        cols[r] = idx
        sims[r] = vals


def spectral_rows(graph: Any, dims: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Leading eigenvectors of the normalised graph (without the trivial one), rows unit-length.

    A graph in several pieces keeps the first one too: its eigenvalue 1 is then repeated, the
    solver returns any basis of those vectors, and dropping one of them merged two pieces (four
    separate groups with 15 neighbours became three).
    """
    sp = require("scipy.sparse", extra="discover")
    csgraph = require("scipy.sparse.csgraph", extra="discover")
    linalg = require("scipy.sparse.linalg", extra="discover")
    n = graph.shape[0]
    dims = max(1, min(dims, n - 2))
    degree = np.asarray(graph.sum(axis=1)).ravel()
    scale = sp.diags(1.0 / np.sqrt(np.maximum(degree, 1e-12)))
    start = np.random.default_rng(seed).uniform(0.5, 1.5, n)
    if n <= 400:
        dense = (scale @ graph @ scale).toarray()
        values, vectors = np.linalg.eigh(dense)
        values, vectors = values[-(dims + 1) :], vectors[:, -(dims + 1) :]
    else:
        values, vectors = linalg.eigsh(
            scale @ graph @ scale, k=dims + 1, which="LA", v0=start, tol=EIGEN_TOL
        )
    order = np.argsort(-values)
    pieces, _ = csgraph.connected_components(graph, directed=False)
    rows = vectors[:, order][:, 1:] if pieces == 1 else vectors[:, order]
    return _unit(rows), values[order]


def _unit(x: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    out: np.ndarray = x / np.where(norms == 0, 1.0, norms)
    return out


def ward(rows: np.ndarray, k: int, graph: Any | None = None) -> np.ndarray:
    """Ward's agglomeration cut at ``k`` groups.

    Up to ``WARD_DENSE_LIMIT`` rows the full tree (``_ward_tree``); above it, Ward follows the
    kNN graph (scikit-learn), as the full tree's distances would need n^2 / 2 floats.
    """
    k = max(1, min(k, rows.shape[0]))
    if rows.shape[0] > WARD_DENSE_LIMIT:
        cluster = require("sklearn.cluster", extra="discover")
        model = cluster.AgglomerativeClustering(n_clusters=k, linkage="ward", connectivity=graph)
        labels: np.ndarray = model.fit_predict(rows)
        return labels
    if rows.shape[0] < 2:
        return np.zeros(rows.shape[0], dtype=np.int64)
    hierarchy = require("scipy.cluster.hierarchy", extra="discover")
    tree = _ward_tree(rows)
    cut: np.ndarray = hierarchy.fcluster(tree, k, criterion="maxclust") - 1
    if int(cut.max()) + 1 < k:  # merges at equal heights: fcluster stops short, cut_tree does not
        cut = hierarchy.cut_tree(tree, n_clusters=k).ravel()
    return cut.astype(np.int64)


def neighbour_vote(graph: Any, labels: np.ndarray, rounds: int = 10) -> np.ndarray:
    """Move each answer to the theme with most neighbour weight, until nothing moves."""
    sp = require("scipy.sparse", extra="discover")
    n, k = len(labels), int(labels.max()) + 1
    g = graph + sp.eye(n)
    for _ in range(rounds):
        onehot = sp.csr_matrix((np.ones(n), (np.arange(n), labels)), shape=(n, k))
        moved = (g @ onehot).toarray().argmax(axis=1)  # dense: sparse argmax is 10x slower
        if np.array_equal(moved, labels):
            break
        labels = moved
    return _dense_ids(labels)


def _dense_ids(labels: np.ndarray) -> np.ndarray:
    _, dense = np.unique(labels, return_inverse=True)
    out: np.ndarray = dense.astype(np.int64)
    return out


def combined_graph(views: Sequence[tuple[Any, float]], n: int) -> tuple[Any, Any]:
    """The weighted sum of the kNN graphs of several views (embeddings, TF-IDF): the graph to
    group on, where mutual pairs weigh ``1 + MUTUAL_BONUS`` times their similarity, and the
    plain one to count themes on.

    Why two: the extra weight on mutual pairs sharpens theme borders, but modularity (the theme
    count's criterion, measured on the plain graph) then over-splits small surveys: a 30-answer
    survey with 4 hand-written themes got 6, with any bonus from 0.1 up (docs/benchmarks.md).
    """
    nn = neighbours(n)
    plain, mutual = 0, 0
    for x, weight in views:
        g, m = knn_graph(x, nn)
        plain, mutual = plain + weight * g, mutual + weight * m
    return plain + MUTUAL_BONUS * mutual, plain


def settings(n: int, method: str) -> dict[str, Any]:
    """The grouping settings a run on ``n`` answers uses, recorded in every theme result.

    They depend on the number of answers only (neighbours below 120 answers, sampling above
    ``GRAPH_LIMIT``), never on the data set: tests/discover/test_themes.py checks that two
    different sets get the same settings.
    """
    out: dict[str, Any] = {
        "neighbours": neighbours(n) if n > 1 else 0,
        "dims_per_theme": DIMS_PER_THEME,
        "eigen_tol": EIGEN_TOL,
        "mutual_bonus": MUTUAL_BONUS,
        "sampled": n > GRAPH_LIMIT,
        "graph_limit": GRAPH_LIMIT,
    }
    if method == "embeddings":
        out["tfidf_weight"] = GRAPH_WEIGHTS_TFIDF
    return out


def modularity(graph: Any, labels: np.ndarray) -> float:
    """Newman's modularity of a grouping on a weighted graph: the share of edge weight inside
    groups minus the share expected if edges fell at random with the same degrees."""
    sp = require("scipy.sparse", extra="discover")
    n, k = len(labels), int(labels.max()) + 1
    onehot = sp.csr_matrix((np.ones(n), (np.arange(n), labels)), shape=(n, k))
    degree = np.asarray(graph.sum(axis=1)).ravel()
    total = degree.sum()
    inside = float((onehot.T @ graph @ onehot).diagonal().sum())
    return float(inside / total - float((((onehot.T @ degree) / total) ** 2).sum()))


def choose_k_by_modularity(graph: Any, k_max: int, seed: int) -> int:
    """The theme count whose Ward cut has the highest modularity on the answer graph.

    One Ward tree on ``DIMS_PER_THEME * k_max`` spectral dimensions, cut at every count from 2
    to ``k_max`` (ties: the smaller count). Measured against the gold count (docs/benchmarks.md,
    "Choosing the number of themes"): with embeddings it chose 49-74 themes on HWU64 sets (64
    intents) and 65-75 on Banking77 (77), where the eigengap chose anywhere from 46 to 94; on
    TF-IDF alone 49-75, where the eigengap chose 2-13. A graph in separate pieces is the
    exception: there the eigengap counts the pieces exactly (one eigenvalue 1 each), while
    Ward cuts of many dimensions split pieces before they separate them.
    """
    hierarchy = require("scipy.cluster.hierarchy", extra="discover")
    csgraph = require("scipy.sparse.csgraph", extra="discover")
    if csgraph.connected_components(graph, directed=False)[0] > 1:
        return choose_k(spectral_rows(graph, dims=k_max + 1, seed=seed)[1], k_max)
    rows, _ = spectral_rows(graph, dims=max(2, round(DIMS_PER_THEME * k_max)), seed=seed)
    tree = _ward_tree(rows)
    best, best_q = 1, -np.inf
    for k in range(2, k_max + 1):
        q = modularity(graph, hierarchy.fcluster(tree, k, criterion="maxclust") - 1)
        if q > best_q + 1e-12:
            best, best_q = k, q
    return best


def _ward_tree(rows: np.ndarray) -> np.ndarray:
    """Ward's full merge tree from fastcluster: the same tree as scipy's and scikit-learn's in
    about two thirds of the time (0.93 s against 1.43 s of CPU on 5,000 x 62 rows).

    The distances are given, not left to fastcluster: ``_distances`` takes 0.11 s where its
    own (scipy's ``pdist``) took 0.45 s of a 2.7 s run, and the trees cut the same.
    """
    fastcluster = require("fastcluster", extra="discover")
    x = np.asarray(rows, dtype=np.float64)
    if rows.shape[0] > WARD_DENSE_LIMIT:  # the stored-distance tree would need n^2 / 2 floats
        tree: np.ndarray = fastcluster.linkage_vector(x, method="ward")
        return tree
    tree = fastcluster.linkage(_distances(x), method="ward", preserve_input=False)
    return tree


def _distances(x: np.ndarray, chunk: int = 512) -> np.ndarray:
    """Euclidean distances between all pairs of rows, condensed like ``pdist``'s, from BLAS
    products (|a|^2 + |b|^2 - 2 a.b; rows are near unit length, so no cancellation to fear:
    1e-12 from ``pdist`` on 5,000 spectral rows)."""
    n = x.shape[0]
    squares = np.einsum("ij,ij->i", x, x)
    out = np.empty(n * (n - 1) // 2)
    pos = 0
    for start in range(0, n, chunk):
        end = min(n, start + chunk)
        block = -2.0 * (x[start:end] @ x[start:].T)
        block += squares[start:end, None] + squares[None, start:]
        np.sqrt(np.maximum(block, 0.0, out=block), out=block)
        for i in range(end - start):
            width = n - (start + i) - 1
            out[pos : pos + width] = block[i, i + 1 :]
            pos += width
    return out


def choose_k(eigenvalues: np.ndarray, k_max: int) -> int:
    """The theme count after which the graph's spectrum drops most (the eigengap).

    The normalised graph has one eigenvalue near 1 per well-separated group of answers; the
    largest drop between neighbouring eigenvalues is where the groups end. Measured against
    silhouette over Ward cuts, which kept choosing the largest count it was offered (8 themes
    on the 5-theme test surveys, 100 on a 20-intent Banking77 subset; eigengap: 5, 5 and 22).
    """
    values = np.sort(np.asarray(eigenvalues))[::-1]
    k_max = min(k_max, len(values) - 1)
    if k_max < 2:
        return 1
    gaps = values[1:k_max] - values[2 : k_max + 1]  # gaps[j]: drop after the (j + 2)-th
    return int(np.argmax(gaps)) + 2


def cluster(
    views: Sequence[tuple[Any, float]], *, k: int | None, seed: int
) -> tuple[np.ndarray, int]:
    """Theme ids 0..k-1 for each row, and k; ``k=None`` chooses the count by modularity.

    Above ``GRAPH_LIMIT`` answers the graph is built on a sample of that size and every other
    answer joins the theme of its nearest sampled neighbours. Why: the exact kNN graph grows
    as n^2, and at 50,000 TF-IDF answers it falls apart into ~150 pieces on which the
    eigen-solver crawls (1,476 s measured; docs/benchmarks.md). The sample is drawn with a fixed
    generator, not ``seed``, so seeds still differ only in the eigen-solver's start.

    BLAS runs on one thread here: the products are small (n x ~125 in the eigen-solver), and on a
    busy machine OpenBLAS's spinning threads doubled the wall time and tripled the CPU time of a
    5,000-answer run (measured, docs/benchmarks.md).
    """
    threadpoolctl = require("threadpoolctl", extra="discover")
    with threadpoolctl.threadpool_limits(1, user_api="blas"):
        return _cluster(views, k=k, seed=seed)


def _cluster(
    views: Sequence[tuple[Any, float]], *, k: int | None, seed: int
) -> tuple[np.ndarray, int]:
    n = views[0][0].shape[0]
    if n < 3:
        return np.zeros(n, dtype=np.int64), 1
    if n > GRAPH_LIMIT:
        return _cluster_sample(views, k=k, seed=seed)
    graph, plain = combined_graph(views, n)
    k_max = max(2, min(100, n // 4))
    if k is None:
        k = choose_k_by_modularity(plain, k_max, seed)
    k = max(1, min(k, n))
    rows, _ = spectral_rows(graph, dims=max(2, round(DIMS_PER_THEME * k)), seed=seed)
    labels = neighbour_vote(graph, ward(rows, k, graph))
    return labels, int(labels.max()) + 1


def _cluster_sample(
    views: Sequence[tuple[Any, float]], *, k: int | None, seed: int
) -> tuple[np.ndarray, int]:
    n = views[0][0].shape[0]
    sample = np.sort(np.random.default_rng(0).choice(n, GRAPH_LIMIT, replace=False))
    rest = np.setdiff1d(np.arange(n), sample)
    labels = np.empty(n, dtype=np.int64)
    labels[sample], found = _cluster([(x[sample], w) for x, w in views], k=k, seed=seed)
    labels[rest] = assign(
        [(x[rest], x[sample], w) for x, w in views], labels[sample], neighbours(GRAPH_LIMIT)
    )
    return _dense_ids(labels), found


def assign(
    views: Sequence[tuple[Any, Any, float]], labels: np.ndarray, nn: int, chunk: int = 2048
) -> np.ndarray:
    """The theme of each new row: a similarity-weighted vote of its ``nn`` nearest grouped rows.

    ``views`` holds (new rows, grouped rows, weight) per view, rows unit length; the similarity
    is the views' weighted sum, as in the graph the groups came from.
    """
    n, k = views[0][0].shape[0], int(labels.max()) + 1
    transposed = [(x, g.T.tocsr() if hasattr(g, "tocsr") else g.T, w) for x, g, w in views]
    out = np.empty(n, dtype=np.int64)
    for start in range(0, n, chunk):
        sims = sum(w * _dense_block(x[start : start + chunk] @ gt) for x, gt, w in transposed)
        assert isinstance(sims, np.ndarray)
        top = np.empty((sims.shape[0], nn), dtype=np.int64)
        best = np.empty((sims.shape[0], nn), dtype=np.float32)
        _top_k(np.ascontiguousarray(sims, dtype=np.float32), top, best)
        votes = np.zeros((sims.shape[0], k))
        rows = np.arange(sims.shape[0])[:, None]
        np.add.at(votes, (rows, labels[top]), np.clip(best, 1e-3, None))
        out[start : start + chunk] = votes.argmax(axis=1)
    return out


def _dense_block(x: Any) -> np.ndarray:
    return np.asarray(x.toarray() if hasattr(x, "toarray") else x, dtype=np.float32)
