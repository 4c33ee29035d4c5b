"""The milestone log kept at import equals the log tagged from all events, after every write.

Random sequences of imports (new files, the same file again, overlapping files, ``replace``),
identity maps, and edits of the journey file (a changed rule must never be served a log tagged
by the old one): after each step the stored log, when it is read at all, is exactly
``fetch_milestones`` over the workspace's events, and after each import it is read.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from itertools import pairwise
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from journeykit.analytics import fetch_milestones, funnel, positions
from journeykit.analytics.fit import journey_fit
from journeykit.analytics.milestones import MilestoneFrame
from journeykit.engine.maplog import stored_frame
from journeykit.engine.workspace import import_files, load_identities, workspace_fit
from journeykit.events.importer import ImportOptions
from journeykit.journey import load_journey
from journeykit.web.data import Data, db_alias
from journeykit.workspace import Workspace, create_workspace

CUSTOMERS = ["c0", "c1", "c2", "c3", "c4"]
# Events of the saas-trial template's rules, with values and properties on both sides of them.
EVENTS = [
    ("signed_up", None, "{}"),
    ("webinar_joined", None, "{}"),
    ("board_created", None, "{}"),
    ("teammate_invited", 2.0, "{}"),
    ("teammate_invited", 0.0, "{}"),
    ("plan_changed", None, '{"direction": "up"}'),
    ("plan_changed", None, '{"direction": "down"}'),
    ("subscription_started", 49.0, '{"first": true}'),
    ("session_started", None, '{"days_since_last": 45}'),
    ("page_viewed", None, "{}"),
]
START = datetime(2024, 1, 1)
# The edit: webinar attendance recognised by board_created too, so two rules match one event
# (the log then keys each event) — and back.
RULE_A, RULE_B = "when: webinar_joined", "when: {event: [webinar_joined, board_created]}"

row = st.tuples(
    st.sampled_from(CUSTOMERS),
    st.sampled_from(range(len(EVENTS))),
    st.integers(0, 60 * 24),  # minutes, so equal timestamps happen
)
rows = st.lists(row, min_size=1, max_size=12)
step = st.one_of(
    st.tuples(st.just("import"), st.integers(0, 2)),
    st.tuples(st.just("replace"), st.integers(0, 2)),
    st.tuples(st.just("edit"), st.just(0)),
    st.tuples(st.just("identities"), st.integers(0, 4)),
)


def write_events(path: Path, data: list[tuple[str, int, int]]) -> Path:
    lines = ["customer_id,event,timestamp,value,properties"]
    for customer, e, minutes in data:
        name, value, props = EVENTS[e]
        at = (START + timedelta(minutes=minutes)).isoformat()
        quoted = '"' + props.replace('"', '""') + '"'
        lines.append(f"{customer},{name},{at},{'' if value is None else value},{quoted}")
    path.write_text("\n".join(lines) + "\n")
    return path


def log_rows(frame: MilestoneFrame) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """The rows, and which rows are one event (keys are only compared as a partition: the
    stored log keys an event by its content, a fetched one by its row)."""
    rows = [
        (
            str(frame.customer_ids[frame.cust[i]]),
            int(frame.milestone[i]),
            int(frame.ts[i]),
            -1.0 if math.isnan(frame.value[i]) else float(frame.value[i]),
        )
        for i in range(len(frame.ts))
    ]
    events: dict[int, list[tuple[Any, ...]]] = {}
    if frame.shared_keys:
        for i, r in enumerate(rows):
            events.setdefault(int(frame.event_key[i]), []).append(r)
    return sorted(rows), sorted(tuple(sorted(e)) for e in events.values())


def check(ws: Workspace, *, must_be_stored: bool) -> None:
    journey = load_journey(ws.journey_file)
    with Data(ws).engine() as eng:
        alias = db_alias(eng)
        if alias is None:
            return
        stored = stored_frame(eng, alias, journey)
        full = fetch_milestones(eng.events(str(ws.root)), journey)
        fit = journey_fit(eng.events(str(ws.root)), journey)
        if must_be_stored:
            assert stored is not None
        if stored is not None:
            same_log(stored, full)
    # The import's fit check reads the stored log's counts: the same as every rule's matches.
    assert workspace_fit(ws, journey) == (fit if stored is not None else None)


def same_log(stored: MilestoneFrame, full: MilestoneFrame) -> None:
    journey = full.journey
    assert (stored.now, stored.shared_keys) == (full.now, full.shared_keys)
    assert log_rows(stored) == log_rows(full)
    assert list(stored.customer_ids) == list(full.customer_ids)
    assert stored.last_seen is not None
    for path in ("team", None):
        assert funnel(stored, journey, path=path).counts == funnel(full, journey, path=path).counts
        a, b = positions(stored, journey, path=path), positions(full, journey, path=path)
        assert [c.to_dict() for c in a.customers] == [c.to_dict() for c in b.customers]


@pytest.mark.slow
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
    # No shrinking: each step opens and writes a database, and shrinking one failure took
    # more than five minutes; the failing sequence is printed as generated.
    phases=[Phase.generate],
)
@given(files=st.lists(rows, min_size=3, max_size=3), steps=st.lists(step, min_size=1, max_size=6))
def test_stored_log_equals_full_recomputation_after_every_import(
    tmp_path_factory: pytest.TempPathFactory,
    files: list[list[tuple[str, int, int]]],
    steps: list[tuple[str, int]],
) -> None:
    root = tmp_path_factory.mktemp("maplog")
    ws = create_workspace(root / "ws", template="saas-trial")
    # File 2 overlaps file 0: its rows plus its own.
    paths = [
        write_events(root / "a.csv", files[0]),
        write_events(root / "b.csv", files[1]),
        write_events(root / "c.csv", files[0][: len(files[0]) // 2] + files[2]),
    ]
    for kind, arg in steps:
        if kind in ("import", "replace"):
            import_files(ws, [paths[arg]], ImportOptions(replace=kind == "replace"))
        elif kind == "edit":
            text = ws.journey_file.read_text()
            flipped = (
                text.replace(RULE_A, RULE_B) if RULE_A in text else text.replace(RULE_B, RULE_A)
            )
            ws.journey_file.write_text(flipped)
        else:
            ids = root / "ids.csv"
            ids.write_text(f"alias,customer_id\nc{arg},c{(arg + 1) % 5}\n")
            if ws.database.exists():
                load_identities(ws, ids)
        check(ws, must_be_stored=kind != "edit" and ws.database.exists())


def test_the_stored_log_is_kept_in_reading_order(tmp_path: Path) -> None:
    """The import stores the log sorted by customer, then time (so that no read sorts it),
    also when the sort and the insert run in parallel over several row groups."""
    rng = np.random.default_rng(7)
    n = 300_000  # past two of DuckDB's row groups (122,880 rows)
    names = np.array(["signed_up", "webinar_joined", "board_created", "page_viewed"])
    minutes = rng.integers(0, 60 * 24 * 90, n)
    table = pa.table({
        "customer_id": pa.array([f"c{c}" for c in rng.integers(0, 20_000, n)]),
        "event": pa.array(names[rng.integers(0, len(names), n)]),
        "timestamp": pa.array(np.datetime64("2024-01-01", "us") + minutes.astype("timedelta64[m]")),
    })  # fmt: skip
    pq.write_table(table, tmp_path / "events.parquet")
    ws = create_workspace(tmp_path / "ws", template="saas-trial")
    import_files(ws, [tmp_path / "events.parquet"], ImportOptions())
    con = duckdb.connect(str(ws.database), read_only=True)
    con.execute("SET threads = 1")  # one thread reads the rows in the order they are stored
    rows = con.execute("SELECT customer_id, timestamp FROM milestone_rows").fetchall()
    con.close()
    columns = [table.column(c).to_pylist() for c in table.column_names]
    tagged = {r for r in zip(*columns, strict=True) if r[1] in names[:3]}
    assert len(rows) == len(tagged)  # each distinct event once (the import drops repeats)
    assert all(a <= b for a, b in pairwise(rows))
