"""The user's cache folder: what journeykit keeps between runs only to save work.

A cache is a saving, not a store: every failure to read or write it is ignored (the caller does
the work instead), an entry is written whole or not at all, and the oldest entries go first.
"""

from __future__ import annotations

import hashlib
import os
import threading
import time
from pathlib import Path


def user_cache(kind: str) -> Path | None:
    """``$XDG_CACHE_HOME/journeykit/KIND`` (``~/.cache`` by default); None when there is no
    home folder to put it in (a cache is then not kept)."""
    base = os.environ.get("XDG_CACHE_HOME")
    if not base or not os.path.isabs(base):  # the XDG rule: a relative path is ignored
        try:
            base = str(Path.home() / ".cache")
        except RuntimeError:
            return None
    return Path(base) / "journeykit" / kind


def entry_file(kind: str, *key: str) -> Path | None:
    """Where the entry for ``key`` (its parts hashed together) is kept; None without a folder."""
    folder = user_cache(kind)
    if folder is None:
        return None
    digest = hashlib.sha256("\0".join(key).encode()).hexdigest()
    return folder / f"{digest[:40]}.json"


def read_entry(file: Path | None) -> bytes | None:
    if file is None:
        return None
    try:
        return file.read_bytes()
    except OSError:
        return None


def write_entry(file: Path | None, text: str, entries: int) -> None:
    """Keep ``text`` in ``file`` and at most ``entries`` entries in its folder, the least
    recently written dropped first. The text goes to a partial file named by process and thread
    (two threads may write one entry at once) and is renamed into place."""
    if file is None:
        return
    try:
        file.parent.mkdir(parents=True, exist_ok=True)
        partial = file.with_name(f"{file.stem}.{os.getpid()}.{threading.get_ident()}.tmp")
        partial.write_text(text, encoding="utf-8")
        os.replace(partial, file)
        kept = sorted(file.parent.glob("*.json"), key=lambda f: f.stat().st_mtime)
        for old in kept[: max(0, len(kept) - entries)]:
            old.unlink(missing_ok=True)
        for left in file.parent.glob("*.tmp"):  # a write killed half-way, an hour ago or more
            if left.stat().st_mtime < time.time() - 3600:
                left.unlink(missing_ok=True)
    except OSError:
        return
