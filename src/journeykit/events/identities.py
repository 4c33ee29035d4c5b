"""One customer under several names: an identity map applied to every analysis.

The payment system knows a customer by e-mail or ``cus_...``, the product by a user id. An
identity map file (CSV, two columns: a name a source uses, then the customer id it stands for)
is loaded into the workspace's ``identities`` table, and the ``events`` view reads every event's
``customer_id`` through it; ``source_customer_id`` keeps the name the source gave. Since every
analysis reads ``events``, every analysis sees the merged customers, and loading a new map
changes them all at once.

Chains are followed (``ana@x -> cus_1`` and ``cus_1 -> u9`` put all three under ``u9``). A group
whose names lead to two different customer ids is refused, naming the lines.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from journeykit.events.errors import EventFileError


@dataclass(frozen=True)
class IdentityReport:
    path: Path
    pairs: int  # rows read
    aliases: int  # names now read as another customer id
    customers: int  # customer ids they stand for

    def summary(self) -> str:
        return (
            f"{self.path.name}: {self.pairs:,} pairs; {self.aliases:,} names now count as "
            f"{self.customers:,} customers in every analysis"
        )


def read_identity_map(path: Path) -> dict[str, str]:
    """Each name that stands for another customer id -> that id (chains followed)."""
    pairs: list[tuple[int, str, str]] = []
    try:
        with path.open(newline="", encoding="utf-8-sig") as fh:
            reader = csv.reader(fh)
            header = next(reader, None)
            if header is None or len(header) != 2:
                raise EventFileError(
                    path, "expected a header with two columns: a name a source uses, then the "
                    "customer id it stands for (for example: email,customer_id)", line=1,
                )  # fmt: skip
            for row in reader:
                line = reader.line_num
                if len(row) != 2 or not row[0].strip() or not row[1].strip():
                    raise EventFileError(path, "expected two non-empty fields", line=line)
                pairs.append((line, row[0].strip(), row[1].strip()))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise EventFileError(path, f"cannot be read: {exc}") from None
    return _resolve(path, pairs)


def _resolve(path: Path, pairs: list[tuple[int, str, str]]) -> dict[str, str]:
    target: dict[str, tuple[int, str]] = {}
    for line, alias, customer in pairs:
        if alias == customer:
            continue
        earlier = target.get(alias)
        if earlier is not None and earlier[1] != customer:
            raise EventFileError(
                path, f"{alias!r} stands for {earlier[1]!r} (line {earlier[0]}) and for "
                f"{customer!r}; one name, one customer", line=line,
            )  # fmt: skip
        target[alias] = (line, customer)
    resolved: dict[str, str] = {}
    for alias in target:
        seen, name = [alias], target[alias][1]
        while name in target:
            if name in seen:
                lines = sorted(target[n][0] for n in seen)
                raise EventFileError(path, f"the names on lines {lines} stand for each other "
                                     "in a circle; which is the customer id?")  # fmt: skip
            seen.append(name)
            name = target[name][1]
        resolved[alias] = name
    return resolved


def store_identities(runner: Any, mapping: dict[str, str]) -> None:
    """Replace the workspace's identity map (inside the caller's transaction)."""
    runner.execute("DELETE FROM identities")
    if mapping:
        runner.execute(
            "INSERT INTO identities SELECT unnest($a), unnest($c)",
            {"a": list(mapping), "c": list(mapping.values())},
        )
