"""A person's edits to themes: merge, split, rename and pin, saved to a file and replayed.

Edits name themes by id. Ids come from content (top keywords and a hash of the members' texts),
so the same answers give the same ids on every run and the saved edits find their themes again.
A pin also stores its members (as short text hashes): on a re-run those answers go to the pinned
theme before anything is grouped, so a theme a person accepted never moves. Other edits store
``anchors``, the text hashes of each named theme's answers when the edit was made: when new answers
change a theme's id, the edit follows the theme that shares most of those answers (at least half,
by Jaccard). An edit whose theme cannot be found is reported, not silently dropped.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from ruamel.yaml import YAML

from journeykit.discover.errors import DiscoverError, ThemeEditsError

if TYPE_CHECKING:
    from journeykit.discover.answers import Answers
    from journeykit.discover.themes import ThemeResult

Op = Literal["merge", "split", "rename", "pin"]
OPS: tuple[Op, ...] = ("merge", "split", "rename", "pin")
Groups = dict[str, list[int]]
Splitter = Callable[[list[int], int], list[list[int]]]
IdOf = Callable[[list[int]], str]


def text_hash(text: str) -> str:
    return hashlib.sha1(text.strip().encode("utf-8")).hexdigest()[:12]


@dataclass(frozen=True)
class Edit:
    """One operation; ``themes`` holds one id (split, rename, pin) or several (merge)."""

    op: Op
    themes: tuple[str, ...]
    label: str | None = None
    into: int = 2
    members: tuple[str, ...] = ()  # pin only: text hashes of the pinned answers
    anchors: dict[str, tuple[str, ...]] = field(default_factory=dict, hash=False)  # id -> hashes

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"op": self.op, "themes": list(self.themes)}
        if self.label is not None:
            out["label"] = self.label
        if self.op == "split":
            out["into"] = self.into
        if self.members:
            out["members"] = list(self.members)
        if self.anchors:
            out["anchors"] = {t: list(h) for t, h in self.anchors.items()}
        return out


@dataclass(frozen=True)
class ThemeEdits:
    edits: tuple[Edit, ...] = field(default=())

    def add(self, edit: Edit) -> ThemeEdits:
        return replace(self, edits=(*self.edits, edit))

    def pinned_rows(self, hashes: list[str]) -> dict[int, str]:
        """Answer index -> pinned theme id, for answers whose text a pin holds."""
        owner = {h: e.themes[0] for e in self.edits if e.op == "pin" for h in e.members}
        return {i: owner[h] for i, h in enumerate(hashes) if h in owner}

    def to_yaml(self) -> str:
        buffer = io.StringIO()
        YAML(typ="safe", pure=True).dump({"edits": [e.to_dict() for e in self.edits]}, buffer)
        return buffer.getvalue()


def record_edit(
    answers: Answers,
    result: ThemeResult,
    op: Op,
    theme_ids: tuple[str, ...],
    label: str | None = None,
    into: int = 2,
) -> Edit:
    """The edit a person made to this run's themes, with what later runs need to find them.

    A pin keeps its theme's answers (as text hashes) as members; the other edits keep them as
    anchors, so the edit still finds its theme after new answers change the theme's id.
    """
    if op not in OPS:
        raise DiscoverError(f"operation: expected one of {', '.join(OPS)}, got {op!r}")
    if op == "merge" and len(set(theme_ids)) < 2:
        raise DiscoverError("merge: expected two or more different themes")
    if not theme_ids:
        raise DiscoverError(f"{op}: expected a theme")
    anchors = _theme_answers(answers, result, theme_ids)
    missing = [t for t in theme_ids if not anchors[t]]
    if missing:
        raise DiscoverError(f"no theme {missing[0]!r} in this run")
    if op == "rename" and not (label or "").strip():
        raise DiscoverError("rename: expected a new label")
    members = anchors[theme_ids[0]] if op == "pin" else ()
    kept = {} if op == "pin" else anchors
    return Edit(op, theme_ids, label, into, members, kept)


def _theme_answers(
    answers: Answers, result: ThemeResult, theme_ids: tuple[str, ...]
) -> dict[str, tuple[str, ...]]:
    """Text hashes of the answers in each named theme, as this run grouped them."""
    theme_of = dict(result.assignments)
    table = answers.table
    pairs = [
        (theme_of.get(int(r)), str(t)) for r, t in zip(table["row"], table["text"], strict=True)
    ]
    return {tid: tuple(text_hash(t) for theme, t in pairs if theme == tid) for tid in theme_ids}


def edits_path(answers: Path) -> Path:
    """Where the edits of an answers file are kept by default: beside it, for every tool."""
    return answers.with_name(answers.stem + ".themes.edits.yaml")


def load_edits(path: Path | str) -> ThemeEdits:
    """Edits from a YAML file; a missing file means no edits yet."""
    path = Path(path)
    if not path.exists():
        return ThemeEdits()
    data = YAML(typ="safe", pure=True).load(path.read_text("utf-8")) or {}
    items = data.get("edits", []) if isinstance(data, dict) else None
    if not isinstance(items, list):
        raise ThemeEditsError(path, "expected a mapping with a list under 'edits'")
    return ThemeEdits(tuple(_edit(item, i, path) for i, item in enumerate(items)))


def save_edits(edits: ThemeEdits, path: Path | str) -> None:
    Path(path).write_text(edits.to_yaml(), encoding="utf-8")


def _edit(item: Any, index: int, path: Path | None) -> Edit:
    if not isinstance(item, dict) or item.get("op") not in OPS:
        raise ThemeEditsError(path, f"edits[{index}]: expected 'op' to be one of {', '.join(OPS)}")
    themes = item.get("themes", item.get("theme"))
    themes = [themes] if isinstance(themes, str) else themes
    if not isinstance(themes, list) or not themes or not all(isinstance(t, str) for t in themes):
        raise ThemeEditsError(path, f"edits[{index}]: expected 'themes': a list of theme ids")
    if item["op"] == "merge" and len(themes) < 2:
        raise ThemeEditsError(path, f"edits[{index}]: merge needs two or more themes")
    into = item.get("into", 2)
    if not isinstance(into, int) or into < 2:
        raise ThemeEditsError(path, f"edits[{index}]: 'into' must be a whole number >= 2")
    label = item.get("label")
    anchors = item.get("anchors", {})
    if not isinstance(anchors, dict) or not all(isinstance(v, list) for v in anchors.values()):
        raise ThemeEditsError(path, f"edits[{index}]: 'anchors' maps theme ids to lists")
    return Edit(item["op"], tuple(themes), None if label is None else str(label), into,
                tuple(str(m) for m in item.get("members", ())),
                {str(t): tuple(map(str, h)) for t, h in anchors.items()})  # fmt: skip


ANCHOR_MATCH = 0.5  # Jaccard overlap of answers for an edit to follow a theme whose id changed


@dataclass
class _State:
    groups: Groups
    ids: dict[str, str]
    labels: dict[str, str]
    notes: list[str]
    hashes: list[str]
    made: int = 0

    def key_of(self, theme: str, anchor: tuple[str, ...] = ()) -> str | None:
        exact = next((k for k, i in self.ids.items() if i == theme), None)
        if exact is not None or not anchor:
            return exact
        saved = set(anchor)
        best, score = None, 0.0
        for key, members in sorted(self.groups.items()):
            now = {self.hashes[m] for m in members}
            overlap = len(now & saved) / len(now | saved)
            if overlap > score:
                best, score = key, overlap
        if best is None or score < ANCHOR_MATCH:
            return None
        self.notes.append(f"{theme} is now {self.ids[best]} ({score:.0%} of its answers)")
        return best

    def new_key(self) -> str:
        self.made += 1
        return f"e{self.made}"


def apply_edits(
    groups: Groups,
    edits: ThemeEdits,
    id_of: IdOf,
    ids: dict[str, str],
    split: Splitter,
    hashes: list[str] | None = None,
) -> tuple[Groups, dict[str, tuple[str, str | None]], list[str]]:
    """Replay edits over grouped answers: groups, key -> (id, label or None), notes.

    ``hashes`` (text hash of each answer index) lets edits with anchors find moved themes.
    """
    state = _State(dict(groups), dict(ids), {}, [], hashes or [])
    for e in edits.edits:
        keys = [state.key_of(t, e.anchors.get(t, ()) if hashes else ()) for t in e.themes]
        missing = [t for t, k in zip(e.themes, keys, strict=True) if k is None]
        if missing:
            state.notes.append(f"{e.op}: no theme {missing[0]!r} in this run; edit not applied")
            continue
        _APPLY[e.op](state, e, [k for k in keys if k is not None], id_of, split)
    names = {k: (state.ids[k], state.labels.get(k)) for k in state.groups}
    return state.groups, names, state.notes


def _merge(state: _State, e: Edit, keys: list[str], id_of: IdOf, split: Splitter) -> None:
    members = sorted({m for k in keys for m in state.groups.pop(k)})
    key = state.new_key()
    state.groups[key], state.ids[key] = members, id_of(members)
    if e.label:
        state.labels[key] = e.label


def _split(state: _State, e: Edit, keys: list[str], id_of: IdOf, split: Splitter) -> None:
    for part in split(state.groups.pop(keys[0]), e.into):
        if part:
            key = state.new_key()
            state.groups[key], state.ids[key] = part, id_of(part)


def _rename(state: _State, e: Edit, keys: list[str], id_of: IdOf, split: Splitter) -> None:
    if e.label:
        state.labels[keys[0]] = e.label


_APPLY: dict[str, Callable[[_State, Edit, list[str], IdOf, Splitter], None]] = {
    "merge": _merge, "split": _split, "rename": _rename, "pin": _rename,
}  # fmt: skip
