"""Start-up stays cheap: help and light commands import no numba, Ibis or pandas (issue 22).

Each check runs in a fresh interpreter (the test process has imported everything already) and
reads ``sys.modules`` after the command: what was imported, not how long it took.
"""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
from pathlib import Path

import click
import duckdb
import pytest
from click.testing import CliRunner

from journeykit.cli import COMMANDS, cli
from tests.conftest import EXAMPLES

HEAVY = ("numba", "ibis", "pandas", "pyarrow", "polars", "scipy", "sqlglot")

_PROBE = """
import json, sys
from journeykit.cli import cli
try:
    cli(sys.argv[1:], prog_name="journeykit")
except SystemExit:
    pass
print(json.dumps(sorted(m for m in sys.modules if "." not in m)), file=sys.stderr)
"""


def imported_by(*args: str) -> set[str]:
    """Top-level modules a fresh ``journeykit ARGS`` imported."""
    src = Path(__file__).resolve().parents[2] / "src"
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, *args],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONPATH": str(src)},
    )
    return set(json.loads(done.stderr.strip().splitlines()[-1]))


@pytest.mark.parametrize(
    "args",
    [
        ["--help"],
        ["funnel", "--help"],
        ["import", "--help"],
        ["sync", "--help"],
        ["clv", "--help"],
        ["validate", str(EXAMPLES[0])],
    ],
    ids=lambda a: " ".join(a[:2]).replace("/", "_")[:30],
)
def test_help_and_light_commands_import_nothing_heavy(args: list[str]) -> None:
    assert imported_by(*args) & set(HEAVY) == set()


def test_help_lists_every_command() -> None:
    listed = CliRunner().invoke(cli, ["--help"]).output
    for name in COMMANDS:
        assert f"  {name} " in listed


def test_the_lazy_table_names_what_each_module_registers() -> None:
    by_module: dict[str, set[str]] = {}
    for name, module in COMMANDS.items():
        by_module.setdefault(module, set()).add(name)
    for module, names in by_module.items():
        group = click.Group()
        importlib.import_module(f"journeykit.cli.{module}").register(group)
        assert set(group.commands) == names, module


def test_an_import_loads_no_pandas(tmp_path: Path) -> None:
    """Binding a query parameter makes DuckDB's client import pandas (0.4-0.55 s of CPU):
    the engine writes parameters in as literals, and the import's fit check reads the stored
    milestone log instead of evaluating rules through ibis."""
    ws = tmp_path / "ws"
    assert CliRunner().invoke(cli, ["init", str(ws)]).exit_code == 0
    events = tmp_path / "e.csv"
    events.write_text(
        "customer_id,event,timestamp,value,properties\n"
        "a,signed_up,2024-01-01 10:00:00,,{}\n"
        'a,page_viewed,2024-01-02 10:00:00,1.5,"{""x"": 1}"\n'
    )
    loaded = imported_by("import", "--workspace", str(ws), str(events))
    assert "pandas" not in loaded and "duckdb" in loaded
    con = duckdb.connect(str(ws / "journeykit.duckdb"), read_only=True)
    assert con.execute("SELECT count(*) FROM events").fetchone() == (2,)  # it did import
    con.close()
