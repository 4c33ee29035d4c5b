"""Themes: recurring ideas in members' answers, with a label, quotes, stages and sentiment.

``find_themes`` is the one entry point. It embeds the answers (sentence embeddings with the
``discover`` extra, TF-IDF without), groups them (``cluster.py``), applies the team's saved edits
(``edits.py``) and describes each group: keywords by class-based TF-IDF, 3-5 quotes chosen to be
central and different from each other, the stages where the theme comes up, and its moment.
"""

from __future__ import annotations

import hashlib
import itertools
import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Literal, cast

import numpy as np
import pandas as pd

from journeykit.discover import cluster as clustering
from journeykit.discover.answers import Answers
from journeykit.discover.edits import ThemeEdits, apply_edits, text_hash
from journeykit.discover.quality import GroupQuality, group_quality, least_sure
from journeykit.discover.sentiment import Moment, Sentiment, moment_of, sentiment
from journeykit.discover.text import content_words
from journeykit.discover.vectors import DEFAULT_MODEL, embed, embeddings_available, tfidf

Method = Literal["auto", "embeddings", "tfidf"]


@dataclass(frozen=True)
class Quote:
    row: int
    text: str
    moment: Moment
    stage: str | None = None
    respondent: str | None = None


@dataclass(frozen=True)
class UnsureAnswer:
    """An answer the theme is least sure of: ``margin`` is its similarity to its own theme's
    centre minus that to the nearest other theme's (``nearer``); below 0 it sits closer to
    the other theme."""

    row: int
    text: str
    margin: float
    nearer: str


@dataclass(frozen=True)
class Theme:
    """A recurring idea: ``stages`` counts where it is raised; ``position`` orders the timeline.

    ``cohesion`` and ``separation`` say how sure the theme is (``quality.py``): cohesion, the
    answers' mean cosine similarity to the theme's centre; separation, their mean margin over
    the nearest other theme (near 0 or below: it blurs into a neighbour). ``unsure`` lists the
    answers with the lowest margins, where a reviewer should look first.
    """

    id: str
    label: str
    keywords: tuple[str, ...]
    size: int
    moment: Moment
    score: float
    quotes: tuple[Quote, ...]
    stages: tuple[tuple[str, int], ...] = ()
    position: float | None = None
    pinned: bool = False
    cohesion: float | None = None
    separation: float | None = None
    unsure: tuple[UnsureAnswer, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["keywords"] = list(self.keywords)
        out["quotes"] = [asdict(q) for q in self.quotes]
        out["unsure"] = [asdict(u) for u in self.unsure]
        out["stages"] = [{"stage": s, "count": c} for s, c in self.stages]
        return out


@dataclass(frozen=True)
class ThemeResult:
    """Themes, and for every data row of the input the theme it joined (None: a non-answer, an
    outlier or a rejected row)."""

    themes: tuple[Theme, ...]
    assignments: tuple[tuple[int, str | None], ...]
    counts: dict[str, int]
    method: str
    seed: int
    edit_notes: tuple[str, ...] = ()
    rejected: tuple[dict[str, Any], ...] = field(default=())
    settings: dict[str, Any] = field(default_factory=dict)

    def theme(self, theme_id: str) -> Theme:
        for t in self.themes:
            if t.id == theme_id:
                return t
        raise KeyError(theme_id)

    def timeline(self) -> tuple[Theme, ...]:
        """Themes in the order members raise them: by stage or tenure, unplaced themes last."""
        return tuple(sorted(self.themes, key=lambda t: (t.position is None, t.position or 0.0)))

    def to_dict(self) -> dict[str, Any]:
        return {
            "themes": [t.to_dict() for t in self.themes],
            "assignments": [{"row": r, "theme": t} for r, t in self.assignments],
            "timeline": [t.id for t in self.timeline()],
            "counts": dict(self.counts),
            "method": self.method,
            "seed": self.seed,
            "edit_notes": list(self.edit_notes),
            "rejected": list(self.rejected),
            "settings": dict(self.settings),
        }

    def to_pandas(self) -> pd.DataFrame:
        """One row per theme: id, label, size, moment, score, position, cohesion, separation,
        keywords, quotes, unsure (the answers it is least sure of)."""
        rows = [
            {"id": t.id, "label": t.label, "size": t.size, "moment": t.moment, "score": t.score,
             "position": t.position, "cohesion": t.cohesion, "separation": t.separation,
             "keywords": ", ".join(t.keywords), "quotes": " | ".join(q.text for q in t.quotes),
             "unsure": " | ".join(u.text for u in t.unsure)}
            for t in self.themes
        ]  # fmt: skip
        cols = ["id", "label", "size", "moment", "score", "position", "cohesion", "separation",
                "keywords", "quotes", "unsure"]  # fmt: skip
        return pd.DataFrame(rows, columns=cols)


def find_themes(
    answers: Answers,
    *,
    k: int | None = None,
    seed: int = 0,
    method: Method = "auto",
    model: str = DEFAULT_MODEL,
    cache_dir: Path | None = None,
    edits: ThemeEdits | None = None,
    stage_order: dict[str, int] | None = None,
) -> ThemeResult:
    """Group answers into themes and describe them.

    Parameters
    ----------
    k: the number of themes, or None to choose it (the most modular cut; cluster.py).
    seed: only the eigen-solver's start; the same seed always gives the same themes.
    method: "embeddings" (the ``discover`` extra), "tfidf", or "auto" (embeddings when installed).
    model: "minilm" (the packaged MiniLM) or the folder of any local sentence-transformers model.
    edits: merges, splits, renames and pins saved by a person; applied after grouping.
    stage_order: stage (or milestone) id -> position, to order themes on the timeline.
    """
    table = answers.answered
    texts = table["text"].astype(str).tolist()
    used = _method(method)
    edits = edits or ThemeEdits()
    hashes = [text_hash(t) for t in texts]
    pinned = edits.pinned_rows(hashes)
    vectors, views = _views(texts, used, model, cache_dir)
    labels = clustering.cluster(views, k=k, seed=seed)[0] if texts else np.zeros(0, np.int64)
    # Ids come from the grouping before any edit, so a re-run finds the themes edits name.
    groups = _groups(labels, len(texts))
    ids = _ids(groups, texts)
    groups, ids = _pin(groups, ids, pinned)
    groups, names, notes = apply_edits(
        groups, edits, lambda members: theme_id(members, texts), ids, _spectral_split(vectors),
        hashes,
    )  # fmt: skip
    # With a consent column, only answers whose authors said yes are quoted (the proof library's
    # rule, so a quote never shows what a story may not).
    consented = table["consent"].map(lambda v: v is True).to_numpy(dtype=bool)
    quotable = None if answers.columns.consent is None else consented
    keyed = _describe(groups, names, pinned, table, vectors, stage_order or {}, quotable)
    result = _result(keyed, groups, table, answers, used, seed, notes)
    return replace(result, settings=clustering.settings(len(texts), used))


def _method(method: Method) -> str:
    if method == "auto":
        return "embeddings" if embeddings_available() else "tfidf"
    return method


def _views(
    texts: list[str], method: str, model: str, cache_dir: Path | None
) -> tuple[Any, list[tuple[Any, float]]]:
    words = tfidf(texts) if texts else None
    if method == "embeddings" and texts:
        vectors = embed(texts, model=model, cache_dir=cache_dir)
        return vectors, [(vectors, 1.0), (words, clustering.GRAPH_WEIGHTS_TFIDF)]
    return words, [(words, 1.0)]


def _groups(labels: np.ndarray, n: int) -> dict[str, list[int]]:
    """Member indices per group; singletons are outliers (no theme) unless the survey is tiny."""
    groups: dict[str, list[int]] = {}
    for i in range(n):
        groups.setdefault(f"c{labels[i]}", []).append(i)
    min_size = 2 if n >= 10 else 1
    return {k: v for k, v in groups.items() if len(v) >= min_size}


def _ids(groups: dict[str, list[int]], texts: list[str]) -> dict[str, str]:
    return {key: theme_id(members, texts) for key, members in groups.items()}


def _pin(
    groups: dict[str, list[int]], ids: dict[str, str], pinned: dict[int, str]
) -> tuple[dict[str, list[int]], dict[str, str]]:
    """Move pinned answers into their pinned themes, which keep their saved ids."""
    if not pinned:
        return groups, ids
    out = {k: [i for i in v if i not in pinned] for k, v in groups.items()}
    for i, theme in sorted(pinned.items()):
        out.setdefault(f"pin:{theme}", []).append(i)
    ids = {k: ids.get(k) or k.removeprefix("pin:") for k in out if out[k]}
    return {k: v for k, v in out.items() if v}, ids


def theme_id(members: Sequence[int], texts: list[str]) -> str:
    """A stable id: the two top keywords and a hash of the members' texts (order-free)."""
    words = [
        w for w, _ in Counter(w for i in members for w in content_words(texts[i])).most_common(2)
    ]
    digest = hashlib.sha1("\n".join(sorted(texts[i] for i in members)).encode()).hexdigest()[:6]
    stem = "-".join(_slug(w) for w in words) or "theme"
    return f"{stem}-{digest}"


def _slug(word: str) -> str:
    from journeykit.discover.text import strip_accents

    return "".join(c for c in strip_accents(word) if c.isalnum())[:20] or "w"


def _spectral_split(vectors: Any) -> Any:
    def split(members: list[int], parts: int) -> list[list[int]]:
        sub = vectors[members]
        if len(members) <= parts:
            return [[m] for m in members]
        labels, _ = clustering.cluster([(sub, 1.0)], k=parts, seed=0)
        return [
            [m for m, lab in zip(members, labels, strict=True) if lab == p] for p in range(parts)
        ]

    return split


def _describe(
    groups: dict[str, list[int]],
    names: dict[str, tuple[str, str | None]],
    pinned: dict[int, str],
    table: pd.DataFrame,
    vectors: Any,
    stage_order: dict[str, int],
    quotable: np.ndarray | None = None,
) -> list[tuple[str, Theme]]:
    keywords = class_keywords(groups, table["text"].astype(str).tolist())
    sure = group_quality(groups, vectors)
    keys = list(groups)
    cols = table[["text", "language", "reveals"]].itertuples(index=False)
    moods = [sentiment(str(t), lang, r if isinstance(r, str) else None) for t, lang, r in cols]
    pinned_keys = {f"pin:{p}" for p in pinned.values()}
    keyed = []
    for key, members in groups.items():
        tid, label = names[key]
        words = keywords[key]
        theme = _theme(tid, label or short_label(words), tuple(words), members, table, vectors,
                       stage_order, [moods[i] for i in members],
                       pinned=key in pinned_keys, quotable=quotable)  # fmt: skip
        if key in sure:
            theme = _with_quality(theme, sure[key], members, keys, names, table, quotable)
        keyed.append((key, theme))
    return sorted(keyed, key=lambda kt: (-kt[1].size, kt[1].id))


def _with_quality(
    theme: Theme, sure: GroupQuality, members: list[int], keys: list[str],
    names: dict[str, tuple[str, str | None]], table: pd.DataFrame,
    quotable: np.ndarray | None = None,
) -> Theme:  # fmt: skip
    n = 3 if quotable is None else len(members)  # with consent, the least sure quotable ones
    shown = [
        (pos, margin, other) for pos, margin, other in least_sure(sure, n)
        if quotable is None or quotable[members[pos]]
    ][:3]  # fmt: skip
    unsure = tuple(
        UnsureAnswer(
            int(cast(int, table.at[members[pos], "row"])), str(table.at[members[pos], "text"]),
            round(margin, 4), names[keys[other]][0],
        )
        for pos, margin, other in shown
    )  # fmt: skip
    return replace(theme, cohesion=sure.cohesion, separation=sure.separation, unsure=unsure)


def short_label(keywords: Sequence[str], n: int = 3) -> str:
    """Up to three keywords that do not repeat each other's words ("price", not "price went")."""
    picked: list[str] = []
    seen: set[str] = set()
    for term in keywords:
        words = set(term.split())
        if not words & seen:
            picked.append(term)
            seen |= words
        if len(picked) == n:
            break
    return " · ".join(picked)


def class_keywords(
    groups: dict[str, list[int]], texts: list[str], top: int = 5
) -> dict[str, list[str]]:
    """Top words of each group by class-based TF-IDF: frequent here, rare in other groups."""
    counts = {key: Counter(_terms(texts, members)) for key, members in groups.items()}
    spread: Counter[str] = Counter()
    for c in counts.values():
        spread.update(c.keys())
    groups_n = max(1, len(groups))
    out = {}
    for key, c in counts.items():
        total = sum(c.values()) or 1
        weight = {t: (f / total) * math.log(1 + groups_n / spread[t]) for t, f in c.items()}
        out[key] = [t for t, _ in sorted(weight.items(), key=lambda kv: (-kv[1], kv[0]))[:top]]
    return out


def _terms(texts: list[str], members: list[int]) -> list[str]:
    terms: list[str] = []
    for i in members:
        words = content_words(texts[i])
        terms.extend(dict.fromkeys(words))
        terms.extend(dict.fromkeys(f"{a} {b}" for a, b in itertools.pairwise(words)))
    return terms


def _theme(
    tid: str, label: str, words: tuple[str, ...], members: list[int], table: pd.DataFrame,
    vectors: Any, stage_order: dict[str, int], scores: list[Sentiment], *, pinned: bool,
    quotable: np.ndarray | None = None,
) -> Theme:  # fmt: skip
    rows = table.iloc[members]
    may_quote = members if quotable is None else [i for i in members if quotable[i]]
    mean = float(np.mean([s.score for s in scores])) if scores else 0.0
    prior = _majority([r for r in rows["reveals"] if isinstance(r, str)])
    quotes = tuple(
        Quote(
            int(cast(int, table.at[i, "row"])),
            str(table.at[i, "text"]),
            scores[members.index(i)].moment,
            _opt(table.at[i, "stage"]),
            _opt(table.at[i, "respondent"]),
        )
        for i in (representative(may_quote, vectors) if may_quote else [])
    )  # fmt: skip
    return Theme(
        id=tid, label=label, keywords=words, size=len(members), moment=moment_of(mean, prior),
        score=round(mean, 4), quotes=quotes, stages=_stage_counts(rows, stage_order),
        position=_position(rows, stage_order), pinned=pinned,
    )  # fmt: skip


def _opt(value: Any) -> str | None:
    return None if value is None or (isinstance(value, float) and math.isnan(value)) else str(value)


def _majority(values: list[str]) -> str | None:
    if not values:
        return None
    top, count = Counter(values).most_common(1)[0]
    return top if count * 2 > len(values) else None


def representative(
    members: list[int], vectors: Any, n_max: int = 5, balance: float = 0.7
) -> list[int]:
    """3-5 quotes: the most central first, then each one close to the centre but unlike those
    already chosen (maximal marginal relevance).

    Sparse TF-IDF rows stay sparse: a 5,000-answer theme over a 30,000-word vocabulary would
    otherwise need a 1 GB dense block.
    """
    x = vectors[members]
    centre = np.asarray(x.mean(axis=0)).ravel()
    relevance = _dense(x @ centre).ravel() / (np.linalg.norm(centre) or 1.0)
    chosen = [int(np.argmax(relevance))]
    while len(chosen) < min(n_max, len(members)):
        similarity = _dense(x @ x[chosen].T).max(axis=1)
        mmr = balance * relevance - (1 - balance) * similarity
        mmr[chosen] = -np.inf
        chosen.append(int(np.argmax(mmr)))
    return [members[c] for c in chosen]


def _dense(x: Any) -> np.ndarray:
    out: np.ndarray = x.toarray() if hasattr(x, "toarray") else np.asarray(x)
    return out


def _stage_counts(rows: pd.DataFrame, order: dict[str, int]) -> tuple[tuple[str, int], ...]:
    counts = Counter(str(s) for s in rows["stage"] if isinstance(s, str))
    return tuple(sorted(counts.items(), key=lambda sc: (order.get(sc[0], 10**6), sc[0])))


def _position(rows: pd.DataFrame, order: dict[str, int]) -> float | None:
    """Median stage position (by the journey's order) or, without stages, median tenure."""
    placed = [order[s] for s in rows["stage"] if isinstance(s, str) and s in order]
    if placed:
        return float(np.median(placed))
    tenure = rows["tenure"].dropna()
    return float(tenure.median()) if len(tenure) else None


def _result(
    keyed: list[tuple[str, Theme]], groups: dict[str, list[int]], table: pd.DataFrame,
    answers: Answers, method: str, seed: int, notes: list[str],
) -> ThemeResult:  # fmt: skip
    themes = [t for _, t in keyed]
    of_index = {i: t.id for key, t in keyed for i in groups[key]}
    row_of = table["row"].to_numpy()  # one array, not 11,000 DataFrame.at calls (1.4 s)
    theme_of_row = {int(row_of[i]): tid for i, tid in of_index.items()}
    # Every data row of the input, rejected ones included (with no theme), so a consumer can
    # line the assignments up with its own copy of the file.
    rows = sorted([*map(int, answers.table["row"]), *map(int, answers.rejected["row"])])
    assignments = tuple((r, theme_of_row.get(r)) for r in rows)
    counts = answers.counts() | {"themes": len(themes), "outliers": len(table) - len(of_index)}
    rejected = tuple(
        cast(list[dict[str, Any]], answers.rejected[["row", "line", "reason"]].to_dict("records"))
    )
    return ThemeResult(tuple(themes), assignments, counts, method, seed, tuple(notes), rejected)
