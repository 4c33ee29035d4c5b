"""The user's cache folder: what journeykit keeps between runs only to save work."""

from __future__ import annotations

import os
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
