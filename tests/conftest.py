"""Shared fixtures: the example journeys and paths to the shared data sets."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.storage import SmallDisk, can_mount, mount_tmpfs, unmount

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = sorted((REPO / "examples").glob("*.yaml"))
SHARED_DATA = REPO.parent / "shared" / "data"

# Browser tests drive Debian's Chromium (never a downloaded browser); .ci/run installs it.
CHROMIUM = os.environ.get("JOURNEYKIT_CHROMIUM", "/usr/bin/chromium")

# The journey parse cache (journey.load) in a folder of the test run's own, not the user's;
# the commands the tests start inherit it.
_CACHE = tempfile.TemporaryDirectory(prefix="journeykit-test-cache-")
os.environ["XDG_CACHE_HOME"] = _CACHE.name


def browser_marks(playwright_found: bool) -> list[pytest.MarkDecorator]:
    """The marks of a module of browser tests: skipped, saying why, without Playwright or
    Chromium."""
    return [
        pytest.mark.browser,
        pytest.mark.skipif(not playwright_found, reason="playwright is not installed (dev extra)"),
        pytest.mark.skipif(
            not Path(CHROMIUM).is_file(),
            reason=f"no Chromium at {CHROMIUM}: apt-get install chromium (.ci/run does)",
        ),
    ]


@pytest.fixture(params=EXAMPLES, ids=[p.stem for p in EXAMPLES])
def example_path(request: pytest.FixtureRequest) -> Path:
    path: Path = request.param
    return path


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Debian's Chromium through Playwright, for the modules marked with ``browser_marks``."""
    from playwright.sync_api import sync_playwright

    from journeykit.report.export import BROWSER_ARGS

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS)
        yield b
        b.close()


@pytest.fixture(params=["tmpfs", "rlimit"])
def small_disk(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SmallDisk]:
    """A folder whose disk the test fills (tests/storage.py): a real tmpfs as root, and a
    file-size limit in the command's process either way."""
    where = tmp_path / "disk"
    if request.param == "rlimit":
        where.mkdir()
        yield SmallDisk(where, "rlimit")
        return
    if not can_mount() or not mount_tmpfs(where, size_mb=32):
        pytest.skip("a real full disk needs root to mount a tmpfs; the rlimit case still runs")
    try:
        yield SmallDisk(where, "tmpfs")
    finally:
        unmount(where)
