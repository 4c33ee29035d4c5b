"""`import --from`, `sync` and `sources` as a user runs them, on a SQLite database (ibis's
sqlite backend): no server needed."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

from journeykit.cli import cli
from journeykit.workspace import Workspace

from .cases import workspace_rows

pytest.importorskip("ibis.backends.sqlite", reason="the sqlite extra is not installed")


@pytest.fixture
def shop(tmp_path: Path) -> Path:
    path = tmp_path / "shop.db"
    with sqlite3.connect(path) as con:
        con.execute(
            "CREATE TABLE orders (order_id INTEGER PRIMARY KEY, email TEXT, kind TEXT, "
            "placed_at TEXT, total REAL)"
        )
        con.executemany(
            "INSERT INTO orders VALUES (?, ?, ?, ?, ?)",
            [(1, "ana@example.com", "order", "2024-01-02 10:00:00", 30.0),
             (2, "ben@example.com", "order", "2024-01-03 11:00:00", 12.5),
             (3, "", "order", "2024-01-04 09:00:00", 5.0)],
        )  # fmt: skip
    return path


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_import_from_sqlite_then_sync_only_what_is_new(ws: Workspace, shop: Path) -> None:
    mapping = ["--customer-id", "email", "--event", "kind", "--timestamp", "placed_at",
               "--value", "total"]  # fmt: skip
    code, out, err = run("import", "--from", f"sqlite://{shop}", "--table", "orders",
                         "--workspace", str(ws.root), *mapping, "--format", "json")  # fmt: skip
    assert code == 0, err
    report = json.loads(out)
    assert (report["loaded"], report["rejected"], report["source"]) == (2, 1, "orders")
    assert "orders: read 3, loaded 2, replaced 0, unchanged 0, rejected 1" in err
    assert workspace_rows(ws, "SELECT source_key, field, reason FROM rejected") == [
        ("3", "email", "missing customer id")
    ]
    with sqlite3.connect(shop) as con:
        con.execute("INSERT INTO orders VALUES (4, 'cy@example.com', 'order', '2024-01-05', 8)")
    code, _, err = run("sync", "--workspace", str(ws.root))
    assert code == 0, err
    # Row 3, at the old cursor, is read again and found refused alike before: unchanged.
    assert "orders: read 2, loaded 1, replaced 0, unchanged 1, rejected 0" in err
    assert workspace_rows(ws, "SELECT customer_id, value FROM events ORDER BY 1") == [
        ("ana@example.com", 30.0), ("ben@example.com", 12.5), ("cy@example.com", 8.0),
    ]  # fmt: skip
    code, out, _ = run("sources", "--workspace", str(ws.root), "--format", "json")
    listed = json.loads(out)
    assert [(s["name"], s["cursor"], s["at"]) for s in listed["sources"]] == [
        ("orders", "order_id", 4)
    ]
    assert {p["preset"] for p in listed["presets"]} >= {"ga4", "mixpanel", "stripe-charges"}


def test_a_relative_sqlite_path_is_stored_absolute(
    ws: Workspace, shop: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(shop.parent)
    code, _, err = run("import", "--from", "sqlite://shop.db", "--table", "orders",
                       "--customer-id", "email", "--event", "kind", "--timestamp", "placed_at",
                       "--workspace", str(ws.root))  # fmt: skip
    assert code == 0, err
    ((spec,),) = workspace_rows(ws, "SELECT spec FROM sources")
    assert json.loads(spec)["url"] == f"sqlite://{shop}"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--table", "orders"], "--table go with --from URL"),
        (["--from", "sqlite:///x.db"], "--from needs --table NAME or --query SQL"),
        (["--from", "sqlite:///x.db", "--query", "SELECT 1"], "(with --query, also --name)"),
        (["--from", "sqlite:///x.db", "--table", "t", "--strict"], "--strict cannot be used"),
    ],
)
def test_option_mistakes_are_one_line(ws: Workspace, args: list[str], message: str) -> None:
    code, _, err = run("import", "--workspace", str(ws.root), *args)
    assert code == 2 and message in err


def test_an_unknown_table_is_named(ws: Workspace, shop: Path) -> None:
    code, _, err = run("import", "--from", f"sqlite://{shop}", "--table", "ordres",
                       "--workspace", str(ws.root))  # fmt: skip
    assert code == 1
    assert "source 'ordres': no table 'ordres'; did you mean 'orders'?" in err
    code, _, err = run("import", "--from", f"sqlite://{shop}x", "--table", "orders",
                       "--workspace", str(ws.root))  # fmt: skip
    assert code == 1 and f"no database file {shop}x" in err


def test_replace_reads_the_source_again_with_its_new_mapping(ws: Workspace, shop: Path) -> None:
    base = ["import", "--from", f"sqlite://{shop}", "--table", "orders", "--workspace",
            str(ws.root), "--customer-id", "email", "--timestamp", "placed_at"]  # fmt: skip
    code, _, err = run(*base, "--event", "kind")
    assert code == 0, err
    with sqlite3.connect(shop) as con:
        con.execute("DELETE FROM orders WHERE order_id = 2")
    # Another mapping is another source: refused, unless the source is replaced.
    code, _, err = run(*base, "--event", "email")
    assert code != 0 and "already registered" in err
    code, _, err = run(*base, "--event", "kind", "--value", "total", "--replace")
    assert code == 0, err
    assert "orders: read 2, loaded 1, replaced 0, unchanged 0, rejected 1" in err
    assert workspace_rows(ws, "SELECT customer_id, value FROM events") == [
        ("ana@example.com", 30.0)
    ]


def test_replace_is_refused_for_a_rest_source(ws: Workspace) -> None:
    code, _, err = run("import", "--from", "stripe://charges", "--replace",
                       "--workspace", str(ws.root))  # fmt: skip
    assert code == 2 and "--replace cannot be used with stripe://charges" in err
