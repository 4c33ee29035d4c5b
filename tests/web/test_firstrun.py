"""First run: an empty workspace opens on the steps; a blank journey validates; the mapping
screen shows what the importer will keep and refuse, and imports with the columns chosen."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from journeykit.journey import load_journey
from journeykit.web.app import create_app
from journeykit.web.store import Store
from journeykit.workspace import create_workspace
from tests.web.conftest import PASSWORD, Site

CSV = (
    "who,what,when,amount\n"
    "ana,signed_up,2024-01-01 10:00:00,\n"
    "ana,purchase,2024-01-03 10:00:00,30\n"
    "ben,signed_up,yesterday,\n"  # line 4: refused
    "ben,purchase,2024-01-05 10:00:00,abc\n"  # line 5: refused (value)
)


@pytest.fixture
def fresh(tmp_path: Path) -> Iterator[Site]:
    root = tmp_path / "ws"
    create_workspace(root, template="saas-trial")
    store = Store.of_workspace(root)
    store.add_user("editor", "editor", PASSWORD)
    store.add_user("viewer", "viewer", PASSWORD)
    site = Site(root, create_app(root), store)
    yield site
    site.app.state.ctx.imports.wait()


def test_an_empty_workspace_opens_on_the_first_steps(fresh: Site) -> None:
    c = fresh.client("viewer")
    assert c.get("/", follow_redirects=False).headers["location"] == "/welcome"
    page = c.get("/welcome").text
    assert "Step 1: choose a journey" in page and "Ask an editor to import" in page


def test_a_blank_journey_is_valid_and_opens_in_the_builder(fresh: Site) -> None:
    c = fresh.client("editor")
    r = c.post("/welcome/journey", data={"name": "mine", "template": "blank"},
               follow_redirects=False)  # fmt: skip
    assert r.status_code == 303
    journey = load_journey(fresh.root / "journeys" / "mine.yaml")
    assert journey.id == "mine" and [m.phase for m in journey.milestones] == ["core"]
    assert "Open My journey in the builder" in c.get(r.headers["location"]).text
    assert c.get("/journeys/mine/builder").status_code == 200


def test_the_mapping_screen_previews_then_imports_with_the_columns_chosen(fresh: Site) -> None:
    c = fresh.client("editor")
    r = c.post("/imports/upload", files={"file": ("ours.csv", CSV.encode(), "text/csv")},
               follow_redirects=False)  # fmt: skip
    url = r.headers["location"]
    guessed = c.get(url).text
    assert "ours.csv: no column" in guessed and "uploads/" not in guessed  # nothing guessed
    chosen = {"customer_id": "who", "event": "what", "timestamp": "when", "value": "amount"}
    page = c.get(url, params=chosen).text
    assert "Of the first 4 rows: 2 will be imported, 2 refused." in page
    lines = re.findall(r'<tr><td class="num">(\d+)</td>', page)
    assert lines == ["4", "5"]
    assert "yesterday" in page
    assert c.get("/api/imports").json()["history"] == []  # the preview imported nothing
    r = c.post(url, data=chosen, follow_redirects=False)
    assert r.status_code == 303
    fresh.app.state.ctx.imports.wait()
    job = c.get(r.headers["location"]).text
    assert "read 4, loaded 2, duplicates 0, rejected 2" in job
    assert "Next: open your living map" in job
    assert c.get(url).status_code == 404  # the upload is gone once imported
    assert c.get("/", follow_redirects=False).headers["location"] == "/journeys"


def test_viewers_cannot_upload_or_map(fresh: Site) -> None:
    c = fresh.client("viewer")
    r = c.post("/imports/upload", files={"file": ("ours.csv", CSV.encode(), "text/csv")})
    assert r.status_code == 403
    assert not (fresh.root / "uploads").exists() or not list((fresh.root / "uploads").iterdir())
