"""Experiments run elsewhere: an assignments file (CSV or Parquet) with ``customer_id,
experiment, arm, entered_at``, measured against a milestone of the journey.

Every problem names the file, the line (CSV, counting the header as line 1) or row (Parquet)
and the field: an unknown arm, a customer entered twice into one experiment, a time that is
not a time or lies after ``now``. ``control`` is accepted for ``holdout``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np
import pyarrow as pa

from journeykit.errors import JourneykitError

REQUIRED = ("customer_id", "experiment", "arm", "entered_at")
Where = Callable[[int], str]
ARMS = {"treatment": "treatment", "holdout": "holdout", "control": "holdout"}


class AssignmentsError(JourneykitError):
    """An assignments file that cannot be measured as it is."""


@dataclass(frozen=True)
class Assignments:
    """Aligned columns; ``entered`` in microseconds since the epoch, arms normalised."""

    path: Path
    customer_id: np.ndarray
    experiment: np.ndarray
    arm: np.ndarray
    entered: np.ndarray

    def experiments(self) -> list[str]:
        return sorted(set(self.experiment.tolist()))


def read_assignments(path: Path, *, now_us: int | None = None) -> Assignments:
    """Read and check ``path``; times after ``now_us`` are refused (they cannot be judged)."""
    table = _read(path)
    missing = [c for c in REQUIRED if c not in table.column_names]
    if missing:
        raise AssignmentsError(
            f"{path}: missing column(s) {', '.join(missing)}; expected {', '.join(REQUIRED)} "
            f"(found {', '.join(table.column_names) or 'none'})"
        )
    where = _locator(path)
    cols = {c: table.column(c).to_pylist() for c in REQUIRED}
    for c in ("customer_id", "experiment", "arm"):
        for i, v in enumerate(cols[c]):
            if v is None or str(v).strip() == "":
                raise AssignmentsError(f"{where(i)}, field {c}: empty; every row needs a {c}")
    arms = []
    for i, v in enumerate(cols["arm"]):
        arm = ARMS.get(str(v).strip().lower())
        if arm is None:
            raise AssignmentsError(
                f"{where(i)}, field arm: unknown arm {v!r}; expected treatment or holdout "
                "(control is read as holdout)"
            )
        arms.append(arm)
    entered = np.array([_us(v, where(i)) for i, v in enumerate(cols["entered_at"])], np.int64)
    if now_us is not None and entered.size and entered.max() > now_us:
        i = int(np.argmax(entered > now_us))
        raise AssignmentsError(
            f"{where(i)}, field entered_at: {cols['entered_at'][i]} is after the events' end "
            f"({_iso(now_us)}); an entry in the future cannot be judged (or pass a later --now)"
        )
    cid = np.array([str(v).strip() for v in cols["customer_id"]], dtype=object)
    exp = np.array([str(v).strip() for v in cols["experiment"]], dtype=object)
    _no_duplicates(cid, exp, where)
    return Assignments(path, cid, exp, np.array(arms, dtype=object), entered)


def _read(path: Path) -> pa.Table:
    suffix = path.suffix.lower()
    try:
        if suffix == ".parquet":
            import pyarrow.parquet as pq

            return pq.read_table(path)
        if suffix in (".csv", ".txt"):
            from pyarrow import csv

            with csv.open_csv(path) as reader:
                names = reader.schema.names
            strings = {c: pa.string() for c in names}
            return csv.read_csv(path, convert_options=csv.ConvertOptions(column_types=strings))
    except (pa.ArrowInvalid, OSError) as exc:
        raise AssignmentsError(f"{path}: cannot be read: {exc}") from None
    raise AssignmentsError(f"{path}: expected a .csv or .parquet assignments file")


def _locator(path: Path) -> Where:
    csv = path.suffix.lower() != ".parquet"

    def where(i: int) -> str:
        return f"{path}, line {i + 2}" if csv else f"{path}, row {i + 1}"

    return where


def _us(value: object, where: str) -> int:
    if isinstance(value, datetime):
        moment = value
    else:
        try:
            moment = datetime.fromisoformat(str(value).strip())
        except ValueError:
            raise AssignmentsError(
                f"{where}, field entered_at: expected an ISO time such as 2024-03-31T09:00, "
                f"got {value!r}"
            ) from None
    if moment.tzinfo is not None:
        from datetime import UTC

        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return int(np.datetime64(moment, "us").astype(np.int64))


def _iso(us: int) -> str:
    return str(np.datetime64(us, "us"))


def _no_duplicates(cid: np.ndarray, exp: np.ndarray, where: Where) -> None:
    seen: dict[tuple[str, str], int] = {}
    for i, key in enumerate(zip(exp.tolist(), cid.tolist(), strict=True)):
        first = seen.setdefault(key, i)
        if first != i:
            raise AssignmentsError(
                f"{where(i)}, field customer_id: {key[1]!r} is already in experiment "
                f"{key[0]!r} ({where(first)}); a customer enters an experiment once"
            )
