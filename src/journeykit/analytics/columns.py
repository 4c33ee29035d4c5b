"""Arrow columns to numpy and back without pandas.

pyarrow's own conversions (``to_numpy``, ``pa.array`` of a numpy array or a list) import pandas
to look for its types: 0.16 CPU s, a fifth of a workspace command that reads a stored milestone
log (docs/benchmarks.md, issue 22). Fixed-width columns are read from their buffers instead;
anything else (nulls with no fill, nested types) goes through pyarrow as before.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc


def to_numpy(values: pa.Array | pa.ChunkedArray, fill: Any = None) -> np.ndarray:
    """The column as numpy: numbers as their own dtype (timestamps as int64 of their unit,
    booleans as bool), strings as an object array of ``str``; nulls become ``fill`` when given."""
    array = values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values
    if array.null_count:
        if fill is None:
            return np.asarray(array.to_numpy(zero_copy_only=False))
        return _filled(array, fill)
    kind = array.type
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        return np.array(array.to_pylist(), dtype=object)
    if pa.types.is_boolean(kind):
        return to_numpy(pc.cast(array, pa.uint8())).astype(np.bool_)
    if pa.types.is_timestamp(kind) or pa.types.is_date64(kind):
        array = array.cast(pa.int64())
    elif pa.types.is_date32(kind):
        array = array.cast(pa.int32())
    if not (pa.types.is_integer(array.type) or pa.types.is_floating(array.type)):
        return np.asarray(array.to_numpy(zero_copy_only=False))
    dtype = np.dtype(array.type.to_pandas_dtype())
    data = array.buffers()[1]
    if data is None:
        return np.zeros(0, dtype=dtype)
    return np.frombuffer(data, dtype=dtype, count=len(array), offset=array.offset * dtype.itemsize)


def _filled(array: pa.Array, fill: Any) -> np.ndarray:
    """A column with nulls, as numpy with ``fill`` where the validity bitmap says null
    (``pc.fill_null`` makes a scalar of ``fill``, which imports pandas too)."""
    valid = np.unpackbits(
        np.frombuffer(array.buffers()[0], dtype=np.uint8), count=array.offset + len(array),
        bitorder="little",
    )[array.offset :].astype(np.bool_)  # fmt: skip
    kind = array.type
    if pa.types.is_string(kind) or pa.types.is_large_string(kind) or pa.types.is_boolean(kind):
        return np.asarray(array.to_numpy(zero_copy_only=False))
    out = to_numpy(_without_validity(array)).copy()
    out[~valid] = fill
    return out


def _without_validity(array: pa.Array) -> pa.Array:
    """The same values with no validity bitmap: what lies under the nulls is read as is."""
    buffers = [None, *array.buffers()[1:]]
    return pa.Array.from_buffers(array.type, len(array), buffers, 0, array.offset)


def from_numpy(values: np.ndarray) -> pa.Array:
    """A numeric numpy array as Arrow (for ``take``, a group-by), sharing its memory."""
    data = np.ascontiguousarray(values)
    kind = pa.from_numpy_dtype(data.dtype)
    return pa.Array.from_buffers(kind, len(data), [None, pa.py_buffer(data)])


def group_rows(table: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rows of a 2-d numeric array grouped by equal values: each row's group (0, 1, ... in order
    of first appearance) and each group's first row. Arrow's hashing dictionary encoder on the
    rows as fixed-size binary values: np.unique(axis=0) sorts (1.5 s for 650k rows of three
    keys), and Arrow's group-by loads its query engine and pandas first."""
    rows = np.ascontiguousarray(table)
    width = rows.dtype.itemsize * (rows.shape[1] if rows.ndim == 2 else 1)
    packed = pa.Array.from_buffers(pa.binary(width), len(rows), [None, pa.py_buffer(rows)])
    group = to_numpy(pc.dictionary_encode(packed).indices).astype(np.int64)
    # Codes come in order of first appearance: a group's first row is where the code is new.
    first = np.flatnonzero(group > np.r_[-1, np.maximum.accumulate(group)[:-1]])
    return group, first
