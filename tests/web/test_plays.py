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


def test_proof_page_and_api_give_the_numbers_prove_gives(site: Site) -> None:
    from journeykit.engine import connect
    from journeykit.journey import load_journey
    from journeykit.prove import prove
    from journeykit.workspace import open_workspace

    editor = site.client("editor")
    editor.post("/api/journeys/journey/plays/run")
    resp = editor.get("/api/journeys/journey/proof")
    assert resp.status_code == 200, resp.text
    body = resp.json()
    ws = open_workspace(site.root)
    journey = load_journey(ws.journey_file)
    direct = prove(connect().events(str(ws.root)), journey, workspace=ws).to_dict()
    assert body["results"] == direct["results"] and body["now"] == direct["now"]
    assert [r["id"] for r in body["results"]] == [p.id for p in journey.plays]
    # Everyone just entered: their windows are open, so they are pending, never failures.
    for r in body["results"]:
        for arm in r["arms"].values():
            assert arm["entered"] == 0 and arm["reached"] == 0
        assert r["verdict"] == "too early"
    page = site.client("viewer").get("/journeys/journey/proof")
    assert page.status_code == 200 and page.text.count('class="proof"') == len(journey.plays)
    assert 'href="/journeys/journey/proof" class="on"' in page.text
    size = editor.get("/api/sample-size?base_rate=0.2&lift=0.05&holdout_share=0.1").json()
    assert size["entries"] == size["treatment"] + size["holdout"] and size["holdout"] > 500
    assert editor.get("/api/sample-size?base_rate=2&lift=0.05").status_code == 400


def test_hostile_play_text_is_escaped_on_the_proof_page(site: Site) -> None:
    path = site.root / "journey.yaml"
    text = path.read_text(encoding="utf-8")
    hostile = "<script>alert(1)</script>"
    first = text.index("title:", text.index("plays:"))
    end = text.index("\n", first)
    path.write_text(text[:first] + f'title: "{hostile}"' + text[end:], encoding="utf-8")
    page = site.client("viewer").get("/journeys/journey/proof")
    assert page.status_code == 200
    assert hostile not in page.text and "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
