"""Files from the pages: HTML and SVG as text; PNG and PDF through headless Chromium.

The browser is the system's Chromium (Debian ``chromium``), driven by Playwright from the ``pdf``
extra; journeykit never downloads a browser.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from journeykit._optional import require
from journeykit.report.errors import ExportError

BROWSER_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
FORMATS = (".html", ".svg", ".png", ".pdf")


def csv_safe(value: Any) -> Any:
    """A cell a spreadsheet will show as text: one starting with = + - @ would be a formula."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def chromium_path() -> str:
    """``$JOURNEYKIT_CHROMIUM``, else the Debian package's ``/usr/bin/chromium``."""
    path = os.environ.get("JOURNEYKIT_CHROMIUM", "/usr/bin/chromium")
    if not Path(path).is_file():
        raise ExportError(
            f"PNG and PDF are made by headless Chromium, and there is none at {path}: install "
            "the system package (apt-get install chromium) or set JOURNEYKIT_CHROMIUM"
        )
    return path


def format_of(output: Path) -> str:
    suffix = output.suffix.lower()
    if suffix not in FORMATS:
        raise ExportError(f"{output}: expected a file ending in {', '.join(FORMATS)}")
    return suffix


def render_in_browser(
    html: str, output: Path, *, kind: str, selector: str | None = None, scale: float = 1.0
) -> None:
    """Open ``html`` in headless Chromium and save it as ``kind`` ("png" or "pdf").

    ``scale`` is the device scale factor of a PNG: 2 gives twice the pixels, sharp on slides.
    """
    sync_api = require("playwright.sync_api", extra="pdf")
    executable = chromium_path()
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable, args=BROWSER_ARGS)
        try:
            page = browser.new_page(
                viewport={"width": 1400, "height": 900}, device_scale_factor=scale
            )
            page.set_content(html, wait_until="load")
            if kind == "pdf":
                page.emulate_media(media="print")
                page.pdf(path=str(output), print_background=True, landscape=True, format="A4")
            elif selector is not None:
                element = page.locator(selector).first
                box = element.bounding_box()
                if box is not None:
                    # Chromium paints only the viewport: a map wider than it came out cut off.
                    size = {"width": int(box["x"] + box["width"]) + 20}
                    size["height"] = int(box["y"] + box["height"]) + 20
                    page.set_viewport_size(size)
                element.screenshot(path=str(output))
            else:
                page.screenshot(path=str(output), full_page=True)
        finally:
            browser.close()
