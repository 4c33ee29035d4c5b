"""Themes on every public intent set, against the plain baseline and BERTopic in the same run.

Sets (gold labels from ``../shared/data``, see each folder's ``SOURCE.md``):

- ``hwu64_s0..s2``: HWU64, ``numpy.random.default_rng(s).permutation(n)[:5000]``, sorted (issue 25);
- ``hwu64_full``: all 11,036 HWU64 texts (above ``GRAPH_LIMIT``: the sampled path);
- ``b77_s0..s2``: Banking77 ``train.csv``, ``DataFrame.sample(n=5000, random_state=s)``;
- ``b77_test``: Banking77 ``test.csv`` (3,080 texts).

Per set, all with the same cached MiniLM embeddings and the gold number of themes:

- ``ward``: the plain baseline (unit rows, scikit-learn Ward, nothing else);
- ``ours``: ``find_themes`` with its defaults (embeddings), seeds 0 and 1;
- ``ours_tfidf``: the light path (no extra), seeds 0 and 1;
- ``ours_auto``: ``find_themes`` without ``k`` (the theme count it chooses vs the gold count);
- ``bertopic_kmeans``: BERTopic with KMeans(k) on UMAP, seeds 0 and 1;
- ``bertopic_default``: BERTopic's defaults (HDBSCAN; its own count), seeds 0 and 1.

NMI and ARI are seed 0's against the gold labels; ``seed_ari`` is seed 0 vs seed 1; times are the
faster seed's wall and CPU seconds (ours: the whole ``find_themes`` call, embeddings read from the
cache; BERTopic: ``fit_transform`` with the embeddings given, after one untimed warm-up so numba's
compilation is not counted).

    HF_HUB_OFFLINE=1 python bench/discover_themes.py [--sets hwu64_s0,b77_s0] [--skip-bertopic]

Writes ``bench/out/discover_themes.json`` and prints a Markdown table.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

from journeykit.discover import answers_from_records, find_themes
from journeykit.discover.vectors import embed

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / ".." / "shared" / "data"
OUT = ROOT / "bench" / "out"


def load_sets() -> dict[str, pd.DataFrame]:
    """Every set as a frame with ``text`` and ``label``."""
    hwu = pd.read_csv(DATA / "hwu64" / "hwu64.csv").rename(columns={"intent": "label"})
    train = pd.read_csv(DATA / "banking77" / "train.csv").rename(columns={"category": "label"})
    test = pd.read_csv(DATA / "banking77" / "test.csv").rename(columns={"category": "label"})
    out = {}
    for s in (0, 1, 2):
        rows = np.sort(np.random.default_rng(s).permutation(len(hwu))[:5000])
        out[f"hwu64_s{s}"] = hwu.iloc[rows].reset_index(drop=True)
    out["hwu64_full"] = hwu
    for s in (0, 1, 2):
        out[f"b77_s{s}"] = train.sample(n=5000, random_state=s).reset_index(drop=True)
    out["b77_test"] = test
    return out


def timed(run: Callable[[], list[Any]]) -> tuple[list[Any], float, float]:
    start, cpu = time.perf_counter(), time.process_time()
    labels = run()
    return labels, time.perf_counter() - start, time.process_time() - cpu


def ours(texts: list[str], k: int | None, seed: int, method: str) -> list[Any]:
    answers = answers_from_records([{"answer": t} for t in texts])
    result = find_themes(answers, k=k, seed=seed, method=method)  # type: ignore[arg-type]
    return [str(t) for _, t in result.assignments]


def bertopic(texts: list[str], emb: np.ndarray, k: int | None, seed: int) -> list[Any]:
    from bertopic import BERTopic
    from sklearn.cluster import KMeans
    from umap import UMAP

    umap = UMAP(n_neighbors=15, n_components=5, min_dist=0.0, metric="cosine", random_state=seed)
    extra: dict[str, Any] = {} if k is None else {"hdbscan_model": KMeans(k, random_state=seed)}
    topics, _ = BERTopic(umap_model=umap, **extra).fit_transform(texts, embeddings=emb)
    return list(topics)


def ward(emb: np.ndarray, k: int) -> list[Any]:
    from sklearn.cluster import AgglomerativeClustering

    return list(AgglomerativeClustering(n_clusters=k, linkage="ward").fit_predict(emb))


def two_seeds(gold: pd.Series, run: Callable[[int], list[Any]]) -> dict[str, Any]:
    runs = [timed(lambda s=s: run(s)) for s in (0, 1)]  # type: ignore[misc]
    labels = runs[0][0]
    return {
        **scores(gold, labels),
        "seed_ari": round(float(adjusted_rand_score(labels, runs[1][0])), 4),
        "seconds": round(min(r[1] for r in runs), 2),
        "cpu_seconds": round(min(r[2] for r in runs), 2),
        "themes": len(set(labels)),
    }


def scores(gold: pd.Series, labels: list[Any]) -> dict[str, float]:
    return {
        "nmi": round(float(normalized_mutual_info_score(gold, labels)), 4),
        "ari": round(float(adjusted_rand_score(gold, labels)), 4),
    }


def one_set(df: pd.DataFrame, peers: bool) -> dict[str, Any]:
    texts, gold = df["text"].astype(str).tolist(), df["label"]
    k, emb = int(gold.nunique()), embed(texts)  # fills the cache once; later runs read it
    out: dict[str, Any] = {"n": len(texts), "gold_themes": k}
    start = time.perf_counter()
    out["ward"] = {**scores(gold, ward(emb, k)), "seconds": round(time.perf_counter() - start, 2)}
    out["ours"] = two_seeds(gold, lambda s: ours(texts, k, s, "embeddings"))
    out["ours_tfidf"] = two_seeds(gold, lambda s: ours(texts, k, s, "tfidf"))
    auto, seconds, _ = timed(lambda: ours(texts, None, 0, "embeddings"))
    out["ours_auto"] = {
        **scores(gold, auto),
        "themes": len(set(auto)),
        "seconds": round(seconds, 2),
    }
    if peers:
        out["bertopic_kmeans"] = two_seeds(gold, lambda s: bertopic(texts, emb, k, s))
        out["bertopic_default"] = two_seeds(gold, lambda s: bertopic(texts, emb, None, s))
        for key, name in (("seconds", "time_ratio"), ("cpu_seconds", "cpu_ratio")):
            out[name] = round(out["ours"][key] / out["bertopic_kmeans"][key], 3)
    return out


def table(report: dict[str, Any]) -> str:
    head = (
        "| set | n | k | Ward NMI | ours NMI / ARI | seed ARI | s | BERTopic+KMeans NMI / ARI "
        "| seed ARI | s | ratio wall (CPU) | BERTopic default NMI | TF-IDF NMI / ARI "
        "| auto themes (NMI) |\n" + "|---" * 14 + "|\n"
    )
    rows = []
    for name, r in report.items():
        o, b, d, t = r["ours"], r.get("bertopic_kmeans"), r.get("bertopic_default"), r["ours_tfidf"]
        peer = (
            f"{b['nmi']:.3f} / {b['ari']:.3f} | {b['seed_ari']:.3f} | {b['seconds']:.2f} "
            f"| {r['time_ratio']:.3f} ({r['cpu_ratio']:.3f}) | {d['nmi']:.3f}"
            if b and d
            else "- | - | - | - | -"
        )
        rows.append(
            f"| {name} | {r['n']} | {r['gold_themes']} | {r['ward']['nmi']:.3f} "
            f"| {o['nmi']:.3f} / {o['ari']:.3f} | {o['seed_ari']:.3f} | {o['seconds']:.2f} "
            f"| {peer} | {t['nmi']:.3f} / {t['ari']:.3f} "
            f"| {r['ours_auto']['themes']} ({r['ours_auto']['nmi']:.3f}) |"
        )
    return head + "\n".join(rows)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sets", default="", help="Comma-separated names (default: all).")
    parser.add_argument("--skip-bertopic", action="store_true")
    args = parser.parse_args()
    sets = load_sets()
    chosen = [s for s in args.sets.split(",") if s] or list(sets)
    peers = not args.skip_bertopic
    if peers:  # numba's one-off compilation, not timed (UMAP compiles its search above 4,096)
        first = sets[chosen[0]]
        texts = first["text"].astype(str).tolist()
        bertopic(texts, embed(texts), int(first["label"].nunique()), 2)
    report = {}
    for name in chosen:
        report[name] = one_set(sets[name], peers)
        print(name, json.dumps(report[name]), flush=True)
    OUT.mkdir(parents=True, exist_ok=True)
    suffix = "" if not args.sets else "_" + "_".join(chosen)
    (OUT / f"discover_themes{suffix}.json").write_text(json.dumps(report, indent=2))
    print(table(report))


if __name__ == "__main__":
    main()
