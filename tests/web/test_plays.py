"""The Plays page and API: viewers see each play's audience and ledger, editors run it."""

from __future__ import annotations

import csv
import io

from tests.web.conftest import Site


def test_viewer_sees_the_plays_and_cannot_run_them(site: Site) -> None:
    viewer = site.client("viewer")
    page = viewer.get("/journeys/journey/plays")
    assert page.status_code == 200
    assert 'id="plays"' in page.text and "Enter who is due now" not in page.text
    body = viewer.get("/api/journeys/journey/plays").json()
    assert body["now"] and [p["id"] for p in body["plays"]] == [
        "run_first_program", "project_clinic_invite", "welcome_back", "refer_after_hired",
    ]  # fmt: skip
    for p in body["plays"]:
        assert p["entered"] == p["treatment"] + p["holdout"]
        assert set(p["ledger"]) >= {"treatment", "holdout", "delivered", "pending", "per_day"}
    assert viewer.post("/api/journeys/journey/plays/run").status_code == 403


def test_editor_runs_the_plays_once_and_the_page_shows_the_ledger(site: Site) -> None:
    editor = site.client("editor")
    before = editor.get("/api/journeys/journey/plays").json()
    due = {p["id"]: p["entered"] for p in before["plays"]}
    ran = editor.post("/api/journeys/journey/plays/run").json()
    assert {p["id"]: p["entered"] for p in ran["plays"]} == due
    again = editor.post("/api/journeys/journey/plays/run").json()
    assert all(p["entered"] == 0 for p in again["plays"])  # nobody twice
    after = editor.get("/api/journeys/journey/plays").json()
    for p in after["plays"]:
        assert p["entered"] == 0 and p["already_in"] == p["due"]
        ledger = p["ledger"]
        assert ledger["treatment"] + ledger["holdout"] == due[p["id"]]
        assert ledger["pending"] == ledger["treatment"]  # nothing is sent from the web
    play = after["plays"][0]["id"]
    export = editor.get(f"/journeys/journey/plays/{play}/entries.csv")
    rows = list(csv.DictReader(io.StringIO(export.text)))
    assert len(rows) == due[play] and {r["arm"] for r in rows} <= {"treatment", "holdout"}
    assert editor.get("/journeys/journey/plays/nope/entries.csv").status_code == 404
