"""PDF and PNG exports through the system Chromium (own module: the exporter starts its own
Playwright, which cannot run while another test module holds one open)."""

from __future__ import annotations

import base64
import re
import struct
from pathlib import Path

from journeykit.journey import load_journey
from journeykit.report.export import BROWSER_ARGS
from tests.conftest import CHROMIUM, EXAMPLES
from tests.report.test_browser import SCREENSHOTS, pytestmark  # noqa: F401


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def test_pdf_and_png_exports(tmp_path: Path) -> None:
    from click.testing import CliRunner
    from playwright.sync_api import sync_playwright

    from journeykit.cli import cli
    from journeykit.events.simulate import SimulationOptions, simulate_to_file

    path = next(p for p in EXAMPLES if p.stem == "coding-course")
    events = tmp_path / "ev.parquet"
    simulate_to_file(load_journey(path), SimulationOptions(customers=300, seed=2), events)
    runner = CliRunner()
    rep = runner.invoke(cli, ["report", str(path), "--events", str(events), "-o",
                              str(tmp_path / "r.html"), "--pdf", str(tmp_path / "r.pdf")])  # fmt: skip
    assert rep.exit_code == 0, rep.output
    pdf = (tmp_path / "r.pdf").read_bytes()
    assert pdf[:5] == b"%PDF-"
    # The map is wider than a page: printed whole, then in parts, each a page of its own.
    parts = (tmp_path / "r.html").read_text("utf-8").count('<figure class="map-part')
    assert parts >= 2
    assert len(re.findall(rb"/Type\s*/Page[^s]", pdf)) >= parts + 2
    scale = 2.0
    png = runner.invoke(cli, ["map", str(path), "--events", str(events), "--scale", str(scale),
                              "-o", str(tmp_path / "m.png")])  # fmt: skip
    assert png.exit_code == 0, png.output
    assert runner.invoke(cli, ["map", str(path), "--events", str(events),
                               "-o", str(tmp_path / "m.html")]).exit_code == 0  # fmt: skip
    data = (tmp_path / "m.png").read_bytes()
    width, height = png_size(data)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            page.goto((tmp_path / "m.html").as_uri())
            box = page.locator("svg.journey-map").bounding_box()
            cards = page.eval_on_selector_all(
                "g.card rect.body",
                "rs => rs.map(r => { const b = r.getBoundingClientRect();"
                " return [b.left, b.top, b.right, b.bottom]; })",
            )
            assert box is not None and box["width"] > 1400  # wider than the viewport
            # The whole map, at the device scale factor (the old bug: cut at 1,400 px).
            assert abs(width - box["width"] * scale) <= scale
            assert abs(height - box["height"] * scale) <= scale
            # The right-most card is in the picture: its pixels are not blank.
            left, top, right, bottom = max(cards, key=lambda c: c[2])
            region = [(left - box["x"]) * scale, (top - box["y"]) * scale,
                      (right - left) * scale, (bottom - top) * scale]  # fmt: skip
            assert region[0] + region[2] <= width
            shown = page.evaluate(
                """([src, r]) => new Promise(done => {
                    const img = new Image();
                    img.onload = () => {
                        const c = document.createElement('canvas');
                        c.width = img.width; c.height = img.height;
                        const g = c.getContext('2d');
                        g.drawImage(img, 0, 0);
                        const px = g.getImageData(r[0], r[1], r[2], r[3]).data;
                        const colours = new Set();
                        let ink = 0;
                        for (let i = 0; i < px.length; i += 4) {
                            colours.add(px[i] + ',' + px[i + 1] + ',' + px[i + 2]);
                            if (px[i] + px[i + 1] + px[i + 2] < 600 && px[i + 3] > 0) ink++;
                        }
                        done([colours.size, ink, img.width, img.height]);
                    };
                    img.src = src;
                })""",
                ["data:image/png;base64," + base64.b64encode(data).decode(), region],
            )
            assert shown[2:] == [width, height]
            assert shown[0] > 10 and shown[1] > 200, shown  # text and borders, not blank
        finally:
            browser.close()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    (SCREENSHOTS / "map-export-coding-course.png").write_bytes(data)
