"""Themes at 50,000 answers: time and peak memory, TF-IDF path and embedding path.

Texts: the Banking77 5,000-text sample (seed 0) of ``discover_banking77.py``, each written ten
ways (a greeting, a sign-off, ...), so 50,000 distinct answers with known intents. Embedding
path: the variants' vectors are the cached MiniLM vector of the original text plus small
Gaussian noise (cosine about 0.95 to it), written into a fresh cache first, so the timed run
has every embedding cached, as in the Banking77 bench; encoding speed is measured separately on
the first 500 sample texts. Each measured run is a child process, so peak memory (ru_maxrss)
is that run's own.

    python bench/discover_scale.py [--n 50000] [--themes 77|auto]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT / ".." / "shared" / "data" / "banking77" / "train.csv"
OUT = ROOT / "bench" / "out"
TEMPLATES = (
    "{}", "Hi, {}", "{} Thanks!", "Quick question: {}", "Hello there. {}", "{} Please help.",
    "Hey, {}", "{} Thank you in advance.", "Good morning! {}", "{} Cheers",
)  # fmt: skip


def corpus(n: int) -> tuple[list[str], list[str], list[int]]:
    """``n`` answers, their gold intents, and the index of the sample text each one rewrites."""
    df = pd.read_csv(SHARED).sample(n=5000, random_state=0).reset_index(drop=True)
    texts, gold, source = [], [], []
    for t, template in enumerate(TEMPLATES):
        for i, (text, intent) in enumerate(zip(df["text"], df["category"], strict=True)):
            body = text if t == 0 else text[:1].lower() + text[1:]
            texts.append(template.format(body))
            gold.append(str(intent))
            source.append(i)
    order = np.random.default_rng(0).permutation(len(texts))[:n]
    return [texts[i] for i in order], [gold[i] for i in order], [source[i] for i in order]


def fill_cache(texts: list[str], source: list[int], cache: Path) -> None:
    from journeykit.discover import vectors

    originals = pd.read_csv(SHARED).sample(n=5000, random_state=0)["text"].tolist()
    base = vectors.embed(originals, cache_dir=OUT / "embeddings")
    noise = np.random.default_rng(1).normal(0.0, 0.0168, (len(texts), base.shape[1]))
    noisy = vectors._unit_rows((base[source] + noise).astype(np.float32))
    folder = cache / vectors._model_key(vectors.model_path(vectors.DEFAULT_MODEL))
    store = vectors.EmbeddingCache(folder)
    store.add([vectors._text_key(t) for t in texts], noisy)


def encode_rate(cache: Path) -> float:
    from journeykit.discover.vectors import embed

    texts = pd.read_csv(SHARED).sample(n=5000, random_state=0)["text"].tolist()[:500]
    start = time.perf_counter()
    embed([t + " (rate)" for t in texts], cache_dir=cache)
    return 500 / (time.perf_counter() - start)


def one(method: str, n: int, k: int | None, cache: Path) -> dict[str, Any]:
    from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

    from journeykit.discover import answers_from_records, find_themes

    texts, gold, _ = corpus(n)
    start, cpu = time.perf_counter(), time.process_time()
    answers = answers_from_records([{"answer": t} for t in texts])
    read = time.perf_counter() - start
    result = find_themes(answers, k=k, method=method, cache_dir=cache)  # type: ignore[arg-type]
    got = [str(t) for _, t in result.assignments]
    return {
        "method": method, "answers": n, "themes": len(result.themes),
        "seconds_total": round(time.perf_counter() - start, 1),
        "seconds_read_answers": round(read, 1),
        "cpu_seconds": round(time.process_time() - cpu, 1),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "nmi": round(float(normalized_mutual_info_score(gold, got)), 4),
        "ari": round(float(adjusted_rand_score(gold, got)), 4),
    }  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=50_000)
    parser.add_argument("--themes", default="77")
    parser.add_argument("--methods", default="tfidf,embeddings")
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    k = None if args.themes == "auto" else int(args.themes)
    cache = OUT / f"scale-embeddings-{args.n}"
    if args.child:
        print(json.dumps(one(args.child, args.n, k, cache)))
        return
    texts, _, source = corpus(args.n)
    fill_cache(texts, source, cache)
    report: dict[str, Any] = {"encode_texts_per_second": round(encode_rate(cache), 1)}
    for method in args.methods.split(","):
        cmd = [sys.executable, __file__, "--n", str(args.n), "--themes", args.themes]
        run = subprocess.run([*cmd, "--child", method], capture_output=True, text=True, check=True)
        report[method] = json.loads(run.stdout.strip().splitlines()[-1])
        print(json.dumps(report[method]), flush=True)
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / f"discover_scale_{args.n}_{args.themes}.json").write_text(json.dumps(report, indent=2))
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
