"""The embedding cache: numpy only, no model needed."""

from pathlib import Path

import numpy as np

from journeykit.discover.vectors import EmbeddingCache


def _rows(*values: float) -> np.ndarray:
    return np.array([[v, -v] for v in values], dtype=np.float32)


def test_a_text_repeated_in_one_batch_does_not_shift_later_texts(tmp_path: Path) -> None:
    """Issue 25: the first cache stored a repeated text twice among vectors and once among keys,
    so every text added later was read back with its neighbour's vector."""
    EmbeddingCache(tmp_path).add(["a", "a", "b"], _rows(1, 1, 2))
    EmbeddingCache(tmp_path).add(["c", "d"], _rows(3, 4))
    got, missing = EmbeddingCache(tmp_path).lookup(["d", "b", "c", "a"])
    assert missing == []
    assert got is not None and np.array_equal(got, _rows(4, 2, 3, 1))


def test_a_writer_keeps_what_another_run_added_meanwhile(tmp_path: Path) -> None:
    first, second = EmbeddingCache(tmp_path), EmbeddingCache(tmp_path)
    first.add(["a"], _rows(1))
    second.add(["b"], _rows(2))
    got, missing = EmbeddingCache(tmp_path).lookup(["a", "b"])
    assert missing == [] and got is not None and np.array_equal(got, _rows(1, 2))


def test_the_old_two_file_layout_is_not_read(tmp_path: Path) -> None:
    np.save(tmp_path / "keys.npy", np.array(["a"], dtype="U16"))
    np.save(tmp_path / "vectors.npy", _rows(1, 1))
    got, missing = EmbeddingCache(tmp_path).lookup(["a"])
    assert got is None and missing == [0]
