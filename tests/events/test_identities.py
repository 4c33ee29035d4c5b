"""One customer under several names: the identity map merges them for every analysis."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from click.testing import CliRunner

from journeykit.cli import cli
from journeykit.engine.workspace import import_files, load_identities
from journeykit.events.errors import EventFileError
from journeykit.events.identities import read_identity_map
from journeykit.workspace import Workspace

from .conftest import db_rows, snapshot


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def test_payments_and_product_events_become_one_customer(ws: Workspace, tmp_path: Path) -> None:
    app = write(tmp_path / "app.csv", "customer_id,event,timestamp\n"
                "u1,signed_up,2024-01-01\nu2,signed_up,2024-01-02\n")  # fmt: skip
    pay = write(tmp_path / "pay.csv", "customer_id,event,timestamp,value\n"
                "cus_A,charge_succeeded,2024-01-05,49\nana@example.com,charge_succeeded,2024-02-05,49\n"
                "cus_Z,charge_succeeded,2024-01-09,9\n")  # fmt: skip
    import_files(ws, [app, pay])
    ids = write(tmp_path / "ids.csv", "email,customer_id\nana@example.com,cus_A\ncus_A,u1\n")
    report = load_identities(ws, ids)
    assert (report.pairs, report.aliases, report.customers) == (2, 2, 1)
    assert db_rows(ws, "SELECT customer_id, source_customer_id, event FROM events ORDER BY timestamp") == [
        ("u1", "u1", "signed_up"), ("u2", "u2", "signed_up"),
        ("u1", "cus_A", "charge_succeeded"), ("cus_Z", "cus_Z", "charge_succeeded"),
        ("u1", "ana@example.com", "charge_succeeded"),
    ]  # fmt: skip
    # Every analysis reads the view: u1 signed up and paid twice, as one customer.
    runner = CliRunner()
    journey = write(
        tmp_path / "j.yaml",
        """\
id: j
title: J
transformation: {from: a, to: b}
milestones:
  - {id: signed_up, title: Signed up, phase: pre, when: signed_up}
  - {id: paid, title: Paid, phase: core, when: charge_succeeded}
""",
    )
    out = runner.invoke(
        cli, ["funnel", str(journey), "--workspace", str(ws.root), "--format", "json"]
    )
    assert out.exit_code == 0, out.output
    assert [s["customers"] for s in json.loads(out.stdout)["steps"]] == [2, 1]


def test_the_map_follows_chains_and_refuses_a_name_with_two_customers(tmp_path: Path) -> None:
    ok = write(tmp_path / "ok.csv", "alias,customer\na,b\nb,c\nd,c\nc,c\n")
    assert read_identity_map(ok) == {"a": "c", "b": "c", "d": "c"}
    two = write(tmp_path / "two.csv", "alias,customer\na,b\na,c\n")
    with pytest.raises(
        EventFileError, match=r"two.csv:3: 'a' stands for 'b' \(line 2\) and for 'c'"
    ):
        read_identity_map(two)
    circle = write(tmp_path / "circle.csv", "alias,customer\na,b\nb,a\n")
    with pytest.raises(EventFileError, match=r"lines \[2, 3\] stand for each other in a circle"):
        read_identity_map(circle)
    blank = write(tmp_path / "blank.csv", "alias,customer\na,\n")
    with pytest.raises(EventFileError, match=r"blank.csv:2: expected two non-empty fields"):
        read_identity_map(blank)


def test_a_refused_map_changes_nothing(ws: Workspace, tmp_path: Path) -> None:
    import_files(ws, [write(tmp_path / "e.csv", "customer_id,event,timestamp\na,x,2024-01-01\n")])
    load_identities(ws, write(tmp_path / "ok.csv", "alias,customer\na,b\n"))
    before = snapshot(ws, ("events", "identities"))
    with pytest.raises(EventFileError):
        load_identities(ws, write(tmp_path / "bad.csv", "alias,customer\na,b\na,c\n"))
    assert snapshot(ws, ("events", "identities")) == before


def test_merged_customers_agree_with_a_dictionary_oracle(ws: Workspace, tmp_path: Path) -> None:
    rng = random.Random(3)
    names = [f"n{i}" for i in range(300)]
    rows = [(rng.choice(names), f"e{rng.randrange(5)}", f"2024-01-{rng.randrange(1, 28):02d}")
            for _ in range(2000)]  # fmt: skip
    events = write(tmp_path / "e.csv", "customer_id,event,timestamp\n"
                   + "".join(f"{c},{e},{t}\n" for c, e, t in rows))  # fmt: skip
    import_files(ws, [events])
    pairs = {rng.choice(names): f"cust{rng.randrange(40)}" for _ in range(150)}
    load_identities(ws, write(tmp_path / "ids.csv", "alias,customer\n"
                              + "".join(f"{a},{c}\n" for a, c in pairs.items())))  # fmt: skip
    expected = sorted({(pairs.get(c, c), e, t) for c, e, t in rows})
    got = db_rows(
        ws, "SELECT DISTINCT customer_id, event, strftime(timestamp, '%Y-%m-%d') FROM events"
    )
    assert sorted(got) == expected


def test_a_new_map_changes_the_web_apps_data_version(ws: Workspace, tmp_path: Path) -> None:
    from journeykit.web.data import Data

    import_files(ws, [write(tmp_path / "e.csv", "customer_id,event,timestamp\na,x,2024-01-01\n")])
    data = Data(ws)
    before = data.version()
    load_identities(ws, write(tmp_path / "ids.csv", "alias,customer\na,b\n"))
    assert data.version() != before
