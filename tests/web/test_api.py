"""The API answers what the CLI answers; editing keeps revisions; imports show their rejects."""

from __future__ import annotations

import csv
import io
import json
import time
from typing import Any

from click.testing import CliRunner

from journeykit.cli import cli
from tests.web.conftest import Site


def cli_json(site: Site, *args: str) -> Any:
    r = CliRunner().invoke(
        cli, [args[0], str(site.root / "journey.yaml"), "--workspace", str(site.root), *args[1:]]
    )
    assert r.exit_code == 0, r.output
    return json.loads(r.stdout) if "--format" in args and "json" in args else r.stdout


def test_results_are_the_clis(site: Site) -> None:
    c = site.client("viewer")
    got = c.get("/api/journeys/journey/funnel", params={"window": "14d"}).json()
    assert got == cli_json(site, "funnel", "--window", "14d", "--format", "json")
    assert got["steps"][0]["customers"] > got["steps"][1]["customers"] > 0
    month = c.get("/api/journeys/journey/funnel", params={"window": "1mo"}).json()
    assert month == cli_json(site, "funnel", "--window", "1mo", "--format", "json")
    assert month["window"] == "1 calendar month"
    # one default window on every surface: the path's designed one, stated with the numbers
    default = c.get("/api/journeys/journey/funnel").json()
    assert default == cli_json(site, "funnel", "--format", "json")
    assert default["window"].startswith("designed, ")
    shown = c.get("/api/journeys/journey/map").json()  # the living map's numbers
    assert shown["funnels"][default["path"]] == default
    card = shown["cards"][default["steps"][1]["milestone"]]
    assert card["reached"] == default["steps"][1]["customers"]
    assert card["health"] in {"ok", "slow", "off"}
    for kind in ("paths", "cohorts"):
        assert c.get(f"/api/journeys/journey/{kind}").json() == cli_json(
            site, kind, "--format", "json"
        )
    want = cli_json(site, "positions", "--format", "json")
    got = c.get("/api/journeys/journey/positions", params={"limit": 100_000}).json()
    assert got["total"] == len(want["customers"]) > 100
    assert {k: got[k] for k in want} == want
    page = c.get("/api/journeys/journey/positions", params={"limit": 7, "offset": 5}).json()
    assert page["customers"] == want["customers"][5:12]
    stuck = c.get("/api/journeys/journey/lists/stuck").json()
    assert stuck == cli_json(site, "stuck", "--format", "json")
    assert stuck["customers"], "the sample must have someone stuck"
    exported = c.get("/journeys/journey/lists/stuck", params={"format": "csv"})
    assert exported.headers["content-type"].startswith("text/csv")
    assert "attachment" in exported.headers["content-disposition"]
    assert exported.text == cli_json(site, "stuck", "--format", "csv").replace("\r\n", "\n")


def test_persona_and_date_filters(site: Site) -> None:
    c = site.client("viewer")
    journey = c.get("/api/journeys/journey").json()["journey"]
    persona = journey["personas"][0]["id"]
    by = cli_json(site, "funnel", "--by", "persona", "--format", "json")
    got = c.get("/api/journeys/journey/funnel", params={"persona": persona}).json()
    group = by["breakdown"][journey["personas"][0]["id"]]
    assert [s["customers"] for s in got["steps"]] == [s["customers"] for s in group]
    assert got["steps"][0]["customers"] < by["steps"][0]["customers"]
    until = "2024-02-15"
    got = c.get("/api/journeys/journey/funnel", params={"until": until}).json()
    want = cli_json(site, "funnel", "--now", f"{until}T23:59:59", "--format", "json")
    assert got == want
    r = c.get("/api/journeys/journey/funnel", params={"since": "2024-03-01", "until": "2024-01-01"})
    assert r.status_code == 400 and "since" in r.json()["detail"]
    r = c.get("/api/journeys/journey/funnel", params={"persona": "nobody"})
    assert r.status_code == 400 and "expected one of" in r.json()["detail"]
    r = c.get("/api/journeys/journey/funnel", params={"window": "soon"})
    assert r.status_code == 400 and r.json()["detail"].startswith("window:")


def test_customer_look_up(site: Site) -> None:
    c = site.client("viewer")
    stuck = c.get("/api/journeys/journey/lists/stuck").json()["customers"][0]
    got = c.get(f"/api/journeys/journey/customers/{stuck['customer_id']}").json()
    # the list adds what should move them on: the next step and its designed touchpoints
    assert stuck.pop("next") and stuck.pop("touchpoints")[0]["channel"]
    assert got["position"] == stuck
    times = [t["at"] for t in got["timeline"]]
    assert times == sorted(times) and got["timeline"]
    assert got["timeline"][-1]["at"] >= stuck["reached_at"]
    page = c.get("/journeys/journey/customers", params={"q": stuck["customer_id"]})
    assert "status-stuck" in page.text
    missing = c.get("/api/journeys/journey/customers/nobody-at-all")
    assert missing.status_code == 404


def _line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


def test_editor_saves_revisions_and_restores(site: Site) -> None:
    editor = site.client("editor")
    original = editor.get("/api/journeys/journey").json()
    text = original["text"]
    start = len(editor.get("/api/journeys/journey/revisions").json())
    line = _line_of(text, "phase: core")
    broken = text.replace("phase: core", "phase: middle", 1)
    page = editor.post("/journeys/journey/edit", data={"text": broken, "csrf_token": editor.headers["X-CSRF-Token"]})  # fmt: skip
    assert page.status_code == 422
    assert f'<span id="L{line}" data-line="{line}" class="err">' in page.text
    assert f"line {line}</a>" in page.text and "nothing was saved" in page.text
    checked = editor.post("/api/journeys/journey/validate", json={"text": broken}).json()
    assert checked["valid"] is False and checked["problems"][0]["line"] == line
    assert editor.get("/api/journeys/journey").json()["text"] == text  # not written
    retitled = text.replace(original["journey"]["title"], "A new title", 1)
    saved = editor.put("/api/journeys/journey", json={"text": retitled, "note": "retitle"})
    assert saved.status_code == 200 and saved.json()["number"] == start + 1
    assert (site.root / "journey.yaml").read_text() == retitled
    assert "A new title" in editor.get("/journeys").text
    revs = editor.get("/api/journeys/journey/revisions").json()
    assert [r["number"] for r in revs][:2] == [start + 1, start]
    diff = editor.get(f"/api/journeys/journey/revisions/{start}").json()["diff_to_current"]
    assert any(d.startswith("-") and original["journey"]["title"] in d for d in diff)
    assert any(d.startswith("+") and "A new title" in d for d in diff)
    restored = editor.post(f"/api/journeys/journey/revisions/{start}/restore").json()
    assert restored["number"] == start + 2 and restored["note"] == f"restored revision {start}"
    assert (site.root / "journey.yaml").read_text() == text
    viewer = site.client("viewer")
    assert viewer.put("/api/journeys/journey", json={"text": text}).status_code == 403


def test_outside_changes_become_revisions(site: Site) -> None:
    c = site.client("viewer")
    before = c.get("/api/journeys/journey/revisions").json()
    path = site.root / "journey.yaml"
    text = path.read_text()
    path.write_text(text + "# a comment added in an editor\n")
    after = c.get("/api/journeys/journey/revisions").json()
    assert after[0]["number"] == before[0]["number"] + 1
    assert after[0]["note"] == "changed on disk outside the app"
    path.write_text(text)


def _wait(c: Any, job: dict[str, Any]) -> dict[str, Any]:
    for _ in range(200):
        if job["state"] != "running":
            return job
        time.sleep(0.05)
        job = c.get(f"/api/imports/jobs/{job['id']}").json()
    raise AssertionError(f"import still running: {job}")


def test_import_reports_rejects_and_changes_the_data_version(site: Site) -> None:
    editor = site.client("editor")
    data = site.app.state.ctx.data
    version = data.version()
    before = editor.get("/api/journeys/journey/funnel").json()["steps"][0]["customers"]
    first_event = "lesson_downloaded"  # the first step of the template's first path
    rows = io.StringIO()
    w = csv.writer(rows, lineterminator="\n")
    w.writerow(["customer_id", "event", "timestamp"])
    for i in range(25):
        w.writerow([f"new{i}", first_event, "2024-03-01T10:00:00"])
    w.writerow(["", first_event, "2024-03-01T10:00:00"])  # line 27: no customer
    w.writerow(["bad", first_event, "not a time"])  # line 28
    job = editor.post("/api/imports", files={"file": ("more.csv", rows.getvalue().encode(), "text/csv")})  # fmt: skip
    assert job.status_code == 202
    done = _wait(editor, job.json())
    assert done["state"] == "done", done
    (report,) = done["reports"]
    assert (report["read"], report["loaded"], report["rejected"]) == (27, 25, 2)
    assert [r["line"] for r in done["rejected"]] == [27, 28]
    assert all(r["source"] == report["rejected_file"].split("-")[0] or r["source"].endswith("more.csv") for r in done["rejected"])  # fmt: skip
    assert data.version() != version
    after = editor.get("/api/journeys/journey/funnel").json()["steps"][0]["customers"]
    assert after == before + 25
    assert after == cli_json(site, "funnel", "--format", "json")["steps"][0]["customers"]
    history = editor.get("/api/imports").json()["history"]
    assert history[0]["rejected"] == 2 and history[0]["source"].endswith("more.csv")
    rejects = editor.get(f"/imports/{report['import_id']}/rejected.csv")
    assert rejects.status_code == 200 and "not a time" in rejects.text
    page = editor.get(f"/imports/jobs/{done['id']}")
    assert 'id="rejects"' in page.text and "not a time" in page.text


def test_results_are_cached_per_revision_and_data_version(site: Site) -> None:
    c = site.client("viewer")
    data = site.app.state.ctx.data
    c.get("/api/journeys/journey/funnel", params={"window": "9d"})
    keys = [k for k in data.cache if k[0] == "funnel" and timedelta_days(k[4]) == 9]
    assert len(keys) == 1
    sha = c.get("/api/journeys/journey/revisions").json()[0]["sha256"]
    assert keys[0][1] == sha and keys[0][2] == data.version()
    calls = []
    original = data.cached

    def spy(key: Any, compute: Any) -> Any:
        return original(key, lambda: (calls.append(key[0]), compute())[1])

    data.cached = spy  # type: ignore[method-assign]
    try:
        c.get("/api/journeys/journey/funnel", params={"window": "9d"})
        assert calls == []
    finally:
        del data.cached


def timedelta_days(value: Any) -> float:
    """A cache key's window in days (-1: none or 'designed')."""
    return value.total_seconds() / 86400 if hasattr(value, "total_seconds") else -1
