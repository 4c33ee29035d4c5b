"""PDF and PNG exports through the system Chromium (own module: the exporter starts its own
Playwright, which cannot run while another test module holds one open)."""

from __future__ import annotations

from pathlib import Path

from journeykit.journey import load_journey
from tests.conftest import EXAMPLES
from tests.report.test_browser import pytestmark  # noqa: F401  (same skips and marker)


def test_pdf_and_png_exports(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from journeykit.cli import cli
    from journeykit.events.simulate import SimulationOptions, simulate_to_file

    path = next(p for p in EXAMPLES if p.stem == "coding-course")
    events = tmp_path / "ev.parquet"
    simulate_to_file(load_journey(path), SimulationOptions(customers=300, seed=2), events)
    runner = CliRunner()
    rep = runner.invoke(cli, ["report", str(path), "--events", str(events), "-o",
                              str(tmp_path / "r.html"), "--pdf", str(tmp_path / "r.pdf")])  # fmt: skip
    assert rep.exit_code == 0, rep.output
    assert (tmp_path / "r.pdf").read_bytes()[:5] == b"%PDF-"
    png = runner.invoke(
        cli, ["map", str(path), "--events", str(events), "-o", str(tmp_path / "m.png")]
    )
    assert png.exit_code == 0, png.output
    assert (tmp_path / "m.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
