"""Discovery in the app: upload answers, choose the column, edit themes, accept a milestone."""

from __future__ import annotations

import csv
import io
import json
from html import unescape
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from journeykit.cli import cli
from journeykit.journey import load_journey
from tests.web.conftest import Site, make_site

DEMO = Path(__file__).parents[2] / "src/journeykit/discover/data/demo_answers.csv"
TEXT = "What happened?"


def survey_csv() -> bytes:
    """The demo answers under the column names a survey tool would give them."""
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(["Respondent", "Stage", TEXT, "OK to quote"])
    for r in csv.DictReader(DEMO.open(encoding="utf-8")):
        w.writerow([r["respondent"], r["stage"], r["answer"], r["consent"]])
    return out.getvalue().encode()


def cli_themes(site: Site, method: str) -> dict[str, Any]:
    """``journeykit discover themes`` on the uploaded file with the columns chosen in the app."""
    run = CliRunner().invoke(cli, [
        "discover", "themes", str(site.root / "answers/my_survey.csv"), "--text-column", TEXT,
        "--stage-column", "Stage", "--respondent-column", "Respondent", "--consent-column",
        "OK to quote", "--format", "json", "--method", method,
    ])  # fmt: skip
    assert run.exit_code == 0, run.output
    out: dict[str, Any] = json.loads(run.stdout)
    return out


@pytest.fixture()
def fresh(tmp_path: Path) -> Site:
    return make_site(tmp_path / "ws", customers=40)


def _upload(site: Site, name: str = "my survey.csv", body: bytes | None = None) -> str:
    editor = site.client("editor")
    r = editor.post("/journeys/journey/answers", files={"file": (name, body or survey_csv())},
                    follow_redirects=False)  # fmt: skip
    assert r.status_code == 303, r.text
    return str(r.headers["location"])


def _choose(site: Site, where: str) -> None:
    form = {"text": TEXT, "stage": "Stage", "respondent": "Respondent", "consent": "OK to quote"}
    r = site.client("editor").post(where, data=form, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].endswith("answers=my_survey.csv")


def test_upload_shows_a_preview_and_the_chosen_column_is_read(fresh: Site) -> None:
    where = _upload(fresh)
    assert where == "/journeys/journey/answers/my_survey.csv"
    page = fresh.client("viewer").get(where).text
    assert TEXT in page and "onboarding webinar showed me" in page  # the first rows
    assert page.count("<tr>") == 1 + 5
    themes = fresh.client("viewer").get("/api/journeys/journey/themes?answers=my_survey.csv")
    assert themes.status_code == 400 and "no column 'answer'" in themes.json()["detail"]
    _choose(fresh, where)
    result = fresh.client("viewer").get("/api/journeys/journey/themes?answers=my_survey.csv")
    data = result.json()
    assert data["themes"]
    from_cli = cli_themes(fresh, data["method"])
    assert [t["id"] for t in from_cli["themes"]] == [t["id"] for t in data["themes"]]
    assert from_cli["counts"] == data["counts"]
    bad = fresh.client("editor").post(where, data={"text": "nope"})
    assert bad.status_code == 400 and "no column 'nope'" in unescape(bad.text)


@pytest.mark.parametrize("kind", ["xlsx", "jsonl"])
def test_xlsx_and_json_lines_answers_are_read_too(fresh: Site, kind: str, tmp_path: Path) -> None:
    import pandas as pd

    frame = pd.read_csv(io.BytesIO(survey_csv()), dtype=str, keep_default_na=False)
    path = tmp_path / f"survey.{kind}"
    if kind == "xlsx":
        pytest.importorskip("openpyxl")
        frame.to_excel(path, index=False)
    else:
        frame.to_json(path, orient="records", lines=True, force_ascii=False)
    where = _upload(fresh, f"survey.{kind}", path.read_bytes())
    assert where == f"/journeys/journey/answers/survey.{kind}"
    form = {"text": TEXT, "stage": "Stage", "consent": "OK to quote"}
    assert fresh.client("editor").post(where, data=form).status_code == 200
    _choose(fresh, _upload(fresh))  # the same answers as CSV give the same themes
    viewer = fresh.client("viewer")
    got = viewer.get(f"/api/journeys/journey/themes?answers=survey.{kind}").json()
    want = viewer.get("/api/journeys/journey/themes?answers=my_survey.csv").json()
    assert got["counts"] == want["counts"]
    assert [t["id"] for t in got["themes"]] == [t["id"] for t in want["themes"]]


@pytest.mark.parametrize(
    ("name", "body", "problem"),
    [
        ("notes.txt", b"answer\nhello\n", "expected an answers file"),
        ("empty.csv", b"", "the file is empty"),
        ("broken.xlsx", b"not a spreadsheet", "cannot be read"),
        ("header.csv", b"answer\n", "no rows"),
        ("bad.jsonl", b"[1, 2]\n", "no rows"),
    ],
)
def test_bad_uploads_are_refused_and_leave_nothing(
    fresh: Site, name: str, body: bytes, problem: str
) -> None:
    r = fresh.client("editor").post("/journeys/journey/answers", files={"file": (name, body)})
    assert r.status_code == 400 and problem in r.text, r.text[:400]
    folder = fresh.root / "answers"
    assert not folder.exists() or not list(folder.iterdir())


def test_uploads_are_limited_in_size(fresh: Site, monkeypatch: pytest.MonkeyPatch) -> None:
    from journeykit.web import discovery

    monkeypatch.setattr(discovery, "MAX_ANSWERS", 1000)
    r = fresh.client("editor").post("/journeys/journey/answers",
                                    files={"file": ("big.csv", survey_csv())})  # fmt: skip
    assert r.status_code == 400 and "larger than" in r.text
    assert not list((fresh.root / "answers").iterdir())


def test_theme_edits_are_the_clis_and_hold_across_runs(fresh: Site) -> None:
    _choose(fresh, _upload(fresh))
    editor = fresh.client("editor")
    api = "/api/journeys/journey/themes?answers=my_survey.csv"
    themes = editor.get(api).json()["themes"]
    first, a, b, c = (t["id"] for t in themes[:4])
    form = {"answers": "my_survey.csv", "op": "rename", "themes": first, "label": "Onboarding"}
    assert editor.post("/journeys/journey/themes/edit", data=form).status_code == 200
    form = {"answers": "my_survey.csv", "op": "merge", "themes": [a, b], "label": "Both"}
    assert editor.post("/journeys/journey/themes/edit", data=form).status_code == 200
    form = {"answers": "my_survey.csv", "op": "split", "themes": c}
    assert editor.post("/journeys/journey/themes/edit", data=form).status_code == 200
    after = editor.get(api).json()
    labels = {t["label"]: t for t in after["themes"]}
    assert labels["Onboarding"]["id"] == first
    sizes = {t["id"]: t["size"] for t in themes}
    assert labels["Both"]["size"] == sizes[a] + sizes[b]
    assert len(after["themes"]) == len(themes) - 1 + 1  # merged two into one, split one in two
    # The CLI reads the same edits file and replays it.
    from_cli = cli_themes(fresh, after["method"])
    assert {t["label"] for t in from_cli["themes"]} == set(labels)
    # A re-upload with one answer more keeps the edits: they follow their themes' answers.
    more = survey_csv() + b"r99,nurture,The onboarding webinar helped me a lot,yes\n"
    _upload(fresh, body=more)
    again = {t["label"] for t in editor.get(api).json()["themes"]}
    assert {"Onboarding", "Both"} <= again
    bad = {"answers": "my_survey.csv", "op": "merge", "themes": first}
    r = editor.post("/journeys/journey/themes/edit", data=bad)
    assert r.status_code == 400 and "two or more" in r.text


def test_accepting_a_theme_adds_its_milestone_as_a_revision(fresh: Site) -> None:
    _choose(fresh, _upload(fresh))
    editor = fresh.client("editor")
    theme = editor.get("/api/journeys/journey/themes?answers=my_survey.csv").json()["themes"][0]
    before = (fresh.root / "journey.yaml").read_text("utf-8")
    revisions = len(fresh.store.revisions("journey"))
    form = {"answers": "my_survey.csv", "theme": theme["id"]}
    r = editor.post("/journeys/journey/themes/accept", data=form, follow_redirects=False)
    assert r.status_code == 303, r.text
    after = (fresh.root / "journey.yaml").read_text("utf-8")
    comments = [line for line in before.splitlines() if line.lstrip().startswith("#")]
    assert comments and all(line in after.splitlines() for line in comments)
    assert len(fresh.store.revisions("journey")) == revisions + 1
    journey = load_journey(fresh.root / "journey.yaml")
    added = journey.milestones[-1]
    assert added.status == "accepted" and added.when is None
    assert [e.quote for e in added.evidence] == [q["text"] for q in theme["quotes"][:3]]
    assert all(e.theme == theme["id"] for e in added.evidence)
    assert all(added.id not in [s.milestone for s in p.steps] for p in journey.paths)
    page = editor.get("/journeys/journey/themes?answers=my_survey.csv").text
    assert "In the journey as" in page
    again = editor.post("/journeys/journey/themes/accept", data=form)
    assert again.status_code == 400 and "already in the journey" in again.text
    assert len(fresh.store.revisions("journey")) == revisions + 1
    missing = editor.post("/journeys/journey/themes/accept",
                          data={"answers": "my_survey.csv", "theme": "nope"})  # fmt: skip
    assert missing.status_code == 400 and "no theme 'nope'" in unescape(missing.text)


def test_every_discovery_change_needs_the_csrf_token(fresh: Site) -> None:
    where = _upload(fresh)
    editor = fresh.client("editor")
    editor.headers.pop("X-CSRF-Token")
    theme = {"answers": "my_survey.csv", "theme": "x", "op": "rename", "themes": "x", "label": "y"}
    posts = {
        "/journeys/journey/answers": {"files": {"file": ("other.csv", survey_csv())}},
        where: {"data": {"text": TEXT}},
        "/journeys/journey/themes/edit": {"data": theme},
        "/journeys/journey/themes/accept": {"data": theme},
    }
    for url, body in posts.items():
        for token in ({}, {"csrf_token": "forged"}):
            if "data" in body:
                r = editor.post(url, data={**body["data"], **token})
            else:
                r = editor.post(url, data=token, files=body["files"])
            assert r.status_code == 403 and "CSRF" in r.text, url
    assert sorted(p.name for p in (fresh.root / "answers").iterdir()) == ["my_survey.csv"]
    assert len(fresh.store.revisions("journey")) == 1
