"""Status lists: who to act on, in what order, and what should move them (`analytics/status.py`).

The status rule itself is specified case by case in `test_positions.py`; these are the lists
built on it, which `journeykit stuck`, the web lists and the report all print.
"""

from __future__ import annotations

import ibis
import numpy as np
import pytest

from journeykit.analytics import positions
from journeykit.analytics.results import iso_time, iso_times
from journeykit.analytics.status import STATUSES, status_list, status_rows, strays_text
from journeykit.journey import parse_journey
from tests.builders import events_for, to_arrow

JOURNEY = """\
id: s
title: S
transformation: {from: a, to: b}
milestones:
  - {id: a, title: A, phase: pre, when: a}
  - {id: b, title: B, phase: pre, when: b, expected_within: 2d}
  - {id: c, title: C, phase: core, when: c, expected_within: 2d}
touchpoints:
  - {from: a, to: b, channel: email, action: Nudge to b}
  - {from: a, to: c, channel: sms, action: Skip ahead}
  - {from: b, to: a, channel: call, action: Back to basics}
"""

LOG = {
    "zed": [("a", "2024-01-01")],  # waiting 9 days at a: stuck
    "amy": [("a", "2024-01-01")],  # the same wait: ties go by id
    "bo": [("a", "2024-01-05")],  # 5 days at a: stuck, less long
    "cy": [("a", "2024-01-01"), ("b", "2024-01-08")],  # 2 days at b: on track
    "di": [("a", "2024-01-01"), ("b", "2024-01-02")],  # 8 days at b: stuck
    "ed": [("a", "2024-01-01"), ("b", "2024-01-02"), ("c", "2024-01-03")],  # completed
    "fi": [("b", "2024-01-09"), ("a", "2024-01-09 12:00")],  # a after b, half a day ago: strayed
}


@pytest.fixture(scope="module")
def placed():  # type: ignore[no-untyped-def]
    journey = parse_journey(JOURNEY)
    return journey, positions(ibis.memtable(to_arrow(events_for(LOG))), journey)


def test_stuck_longest_first_and_ties_by_id(placed) -> None:  # type: ignore[no-untyped-def]
    journey, pos = placed
    got = status_list(pos, journey, "stuck")
    assert [c.customer_id for c in got.customers] == ["amy", "zed", "di", "bo"]
    assert (
        status_list(pos, journey, "stuck", top=2).to_dict()["customers"][1]["customer_id"] == "zed"
    )


def test_what_should_move_them_is_the_touchpoint_to_the_next_step(placed) -> None:  # type: ignore[no-untyped-def]
    journey, pos = placed
    by_id = {c["customer_id"]: c for c in status_list(pos, journey, "stuck").to_dict()["customers"]}
    # at a: the touchpoint designed from a to b, not the one that skips to c
    assert by_id["amy"]["next"] == "b"
    assert [t["action"] for t in by_id["amy"]["touchpoints"]] == ["Nudge to b"]
    # at b nothing leads to c: every touchpoint from b is offered instead
    assert by_id["di"]["next"] == "c"
    assert [t["action"] for t in by_id["di"]["touchpoints"]] == ["Back to basics"]
    rows = {r["customer_id"]: r for r in status_list(pos, journey, "stuck").rows()}
    assert rows["amy"]["touchpoints"] == "email: Nudge to b" and "strays" not in rows["amy"]


def test_other_statuses_by_id_with_their_strays(placed) -> None:  # type: ignore[no-untyped-def]
    journey, pos = placed
    assert [c.customer_id for c in status_list(pos, journey, "on_track").customers] == ["cy"]
    assert [c.customer_id for c in status_list(pos, journey, "completed").customers] == ["ed"]
    strayed = status_list(pos, journey, "strayed")
    assert strayed.rows()[0]["strays"] == "out_of_order:a>b; backwards:a>b"
    assert strayed.to_dict()["customers"][0]["next"] == "c"
    assert sum(len(status_rows(pos, s)) for s in STATUSES) == len(LOG)


def test_an_unknown_status_is_refused(placed) -> None:  # type: ignore[no-untyped-def]
    _, pos = placed
    with pytest.raises(ValueError, match="status must be one of"):
        status_rows(pos, "gone")


def test_column_built_dicts_equal_the_row_objects(placed) -> None:  # type: ignore[no-untyped-def]
    journey, pos = placed
    assert pos.to_dict()["customers"] == [c.to_dict() for c in pos.customers]
    assert [r["strays"] for r in pos.rows()] == [strays_text(c.strays) for c in pos.customers]
    for status in STATUSES:
        listed = status_list(pos, journey, status)
        assert [c["customer_id"] for c in listed.to_dict()["customers"]] == [
            c.customer_id for c in listed.customers
        ]
        assert [{k: v for k, v in c.items() if k not in ("next", "touchpoints")}
                for c in listed.to_dict()["customers"]] == [
            c.to_dict() for c in listed.customers
        ]  # fmt: skip


def test_times_formatted_at_once_as_one_by_one() -> None:
    rng = np.random.default_rng(7)
    first, last = -62135596800 * 10**6, 253402300799999999  # 0001-01-01, 9999-12-31 23:59:59.999999
    us = np.concatenate([rng.integers(first, last, 2000), rng.integers(0, 2 * 10**9, 500) * 10**6,
                         np.array([first, last, 0, -1, 1])])  # fmt: skip
    assert iso_times(us) == [iso_time(x) for x in us.tolist()]


def _lexsorted(placed, status: str) -> list[int]:  # type: ignore[no-untyped-def]
    """The order as status_rows wrote it before it used the log's id order."""
    rows = np.flatnonzero(placed.status == STATUSES.index(status))
    ids = placed.customer_ids[rows].astype(str)
    if status == "stuck":
        return list(rows[np.lexsort((ids, -placed.waiting_seconds[rows]))].tolist())
    return list(rows[np.argsort(ids, kind="stable")].tolist())


@pytest.mark.parametrize("shuffle", [False, True])
@pytest.mark.parametrize(
    "ids",
    [
        ["a", "a\x00", "b", "b\x00\x00", "é", "ü", "z", "日本", "😀", "\x00"],
        [10, 9, 100, 1, 2, 3, 4, 5, 6, 7],  # not text: sorted as text, "10" before "9"
    ],
)
def test_list_order_in_and_out_of_id_order(shuffle: bool, ids: list[object]) -> None:
    """Rows in id order (as a log is read) or not, text or not: stuck ones longest first, ties
    and other statuses by id, as a sort of the ids as text gives them."""
    from dataclasses import replace

    journey = parse_journey(JOURNEY)
    pos = positions(ibis.memtable(to_arrow(events_for(LOG))), journey)
    rng = np.random.default_rng(3)
    n = len(ids)
    column = np.empty(n, dtype=object)
    column[:] = sorted(ids, key=str) if not shuffle else ids
    fake = replace(
        pos,
        customer_ids=column,
        status=rng.integers(0, len(STATUSES), n),
        waiting_seconds=rng.choice([1.0, 2.0, 3.0], n),
    )
    for status in STATUSES:
        assert status_rows(fake, status) == _lexsorted(fake, status)
