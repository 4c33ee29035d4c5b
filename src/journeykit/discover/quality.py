"""How sure each theme is: cohesion, separation, and the answers it is least sure about.

Every answer is compared with the centre (mean vector) of its own theme and with the nearest
centre of any other theme, by cosine similarity, in the vectors the themes were grouped on
(sentence embeddings or TF-IDF):

- ``cohesion`` of a theme: the mean similarity of its answers to its own centre (how alike they
  are; 1 would be identical answers);
- ``margin`` of an answer: similarity to its own centre minus similarity to the nearest other
  centre; below 0 the answer sits closer to another theme than to its own;
- ``separation`` of a theme: the mean margin of its answers (a centroid form of the silhouette);
  near 0, the theme blurs into a neighbour and is worth a look;
- ``unsure``: the answers with the lowest margin, each with the theme it is nearly in.

docs/benchmarks.md ("Theme quality") measures how well these point at mistakes against gold
labels on Banking77 and HWU64.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from journeykit._optional import require


@dataclass(frozen=True)
class GroupQuality:
    cohesion: float
    separation: float
    margins: np.ndarray  # per member, in the order of the group's members
    nearest: np.ndarray  # per member: the key index (into ``keys``) of the nearest other theme


def group_quality(groups: dict[str, list[int]], vectors: Any) -> dict[str, GroupQuality]:
    """Cohesion, separation and per-answer margins of every group (see the module doc)."""
    sp = require("scipy.sparse", extra="discover")
    keys = list(groups)
    if not keys or vectors is None:
        return {}
    members = np.concatenate([np.asarray(groups[k], dtype=np.int64) for k in keys])
    group = np.repeat(np.arange(len(keys)), [len(groups[k]) for k in keys])
    x = vectors[members]
    onehot = sp.csr_matrix((np.ones(len(members)), (group, np.arange(len(members)))))
    centres = _dense(onehot @ x)
    norms = np.linalg.norm(centres, axis=1, keepdims=True)
    sims = _dense(x @ (centres / np.where(norms == 0, 1.0, norms)).T)  # answers x groups
    rows = np.arange(len(members))
    own = sims[rows, group].copy()
    sims[rows, group] = -np.inf
    nearest = sims.argmax(axis=1) if len(keys) > 1 else group
    margins = own - sims[rows, nearest] if len(keys) > 1 else own
    out = {}
    for g, key in enumerate(keys):
        mine = group == g
        out[key] = GroupQuality(
            round(float(own[mine].mean()), 4),
            round(float(margins[mine].mean()), 4),
            margins[mine],
            nearest[mine],
        )
    return out


def least_sure(quality: GroupQuality, n: int = 3) -> list[tuple[int, float, int]]:
    """Up to ``n`` (member position, margin, nearest other group) with the lowest margins."""
    order = np.argsort(quality.margins, kind="stable")[:n]
    return [(int(i), float(quality.margins[i]), int(quality.nearest[i])) for i in order]


def _dense(x: Any) -> np.ndarray:
    out = x.toarray() if hasattr(x, "toarray") else np.asarray(x)
    return np.asarray(out, dtype=np.float64)
