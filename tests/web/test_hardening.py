"""Issue 23: inputs an attacker or an unlucky user sends, through the ASGI app."""

from __future__ import annotations

import csv
import io
import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from journeykit.engine.workspace import import_files
from journeykit.web.app import create_app
from journeykit.web.security import LoginLimiter
from journeykit.web.store import Store
from journeykit.workspace import create_workspace, open_workspace
from tests.builders import database_held
from tests.journey.test_limits import alias_fan_out
from tests.storage import SmallDisk, damage
from tests.web.conftest import PASSWORD, Site

# Each was loaded before, and then every analysis of the workspace answered 500.
ODD_TIMES = ("infinity", "inf", "-infinity", "10000-01-01", "294247-01-10", "0000-01-01",
             "8999999999999999", "-62135596801", "2024-03-01T09:30:00+25:00", "epoch")  # fmt: skip
EDGE_TIMES = ("0001-01-01", "9999-12-31 23:59:59.999999")


def signed_in(app: object, store: Store, name: str = "ana") -> TestClient:
    c = TestClient(app, base_url="http://127.0.0.1")  # type: ignore[arg-type]
    token, session = store.new_session(store.user(name))  # type: ignore[arg-type]
    c.cookies.set("jk_session", token)
    c.headers["X-CSRF-Token"] = session.csrf
    return c


@pytest.fixture
def odd_site(tmp_path: Path) -> tuple[TestClient, Path]:
    root = tmp_path / "ws"
    ws = create_workspace(root, template="saas-trial")
    rows = ["customer_id,event,timestamp"]
    for i, t in enumerate((*EDGE_TIMES, *ODD_TIMES)):
        rows += [f"c{i},signed_up,{t}", f"c{i},board_created,{t}"]
    rows += ["ok,signed_up,2024-01-01", "ok,board_created,2024-01-02"]
    events = tmp_path / "odd.csv"
    events.write_text("\n".join(rows) + "\n", encoding="utf-8")
    import_files(ws, [events])
    store = Store.of_workspace(root)
    store.add_user("ana", "admin", PASSWORD)
    return signed_in(create_app(root), store), root


def test_odd_timestamps_are_rejected_and_every_analysis_still_answers(
    odd_site: tuple[TestClient, Path],
) -> None:
    c, _ = odd_site
    (imp,) = c.get("/api/imports").json()["history"]
    assert (imp["loaded"], imp["rejected"]) == (2 * len(EDGE_TIMES) + 2, 2 * len(ODD_TIMES))
    reasons = {r["reason"] for r in c.get(f"/api/imports/{imp['import_id']}/rejected").json()}
    assert reasons == {"unparseable timestamp", "timestamp out of range (years 1 to 9999)"}
    for kind in ("funnel", "paths", "positions", "cohorts"):
        assert c.get(f"/journeys/journey/dashboards/{kind}").status_code == 200, kind
        assert c.get(f"/api/journeys/journey/{kind}").status_code == 200, kind
    assert c.get("/api/journeys/journey/map").status_code == 200
    assert c.get("/journeys/journey/lists/stuck").status_code == 200
    assert c.get("/api/journeys/journey/customers/c1").json()["customer_id"] == "c1"


def test_the_alias_attack_and_deep_nesting_are_refused_fast_on_validate_and_save(
    site: Site,
) -> None:
    viewer, editor = site.client("viewer"), site.client("editor")
    for text in (alias_fan_out(7), "a: " + "[" * 1000 + "]" * 1000 + "\n"):
        start = time.perf_counter()
        r = viewer.post("/api/journeys/journey/validate", json={"text": text})
        assert r.status_code == 200 and r.json()["valid"] is False, r.text
        assert time.perf_counter() - start < 2  # 7 levels: 210 s and 7 GB before
        r = editor.put("/api/journeys/journey", json={"text": text})
        assert r.status_code == 422
        assert "expands to" in r.text or "nested more than" in r.text
    assert len(site.store.revisions("journey")) <= 1  # nothing was saved


@pytest.mark.parametrize(
    ("url", "status", "says"),
    [
        ("/journeys/journey/dashboards/funnel?window=999999999d", 400, "at most 36500d"),
        ("/api/journeys/journey/funnel?window=999999999d", 400, "at most 36500d"),
        ("/journeys/journey/dashboards/paths?window=99999999999999999999d", 400, "at most 36500d"),
        ("/journeys/journey/revisions/12345678901234567890", 404, "has no revision"),
        ("/api/journeys/journey/revisions/12345678901234567890", 404, "has no revision"),
        ("/journeys/journey/revisions?a=1&b=99999999999999999999", 404, "has no revision"),
        ("/journeys/journey/lists/on_track?top=-1", 400, "top: expected"),
        ("/journeys/journey/lists/on_track?top=0", 400, "top: expected"),
        ("/journeys/journey/lists/stuck?top=-1&format=csv", 400, "top: expected"),
        ("/api/journeys/journey/lists/stuck?top=0", 422, "greater than or equal to 1"),
    ],
)
def test_out_of_range_numbers_are_a_message_not_a_500(
    site: Site, url: str, status: int, says: str
) -> None:
    r = site.client("viewer").get(url)
    assert r.status_code == status, r.text[:300]
    assert says in r.text


def test_out_of_range_restore_is_a_404(site: Site) -> None:
    r = site.client("editor").post("/api/journeys/journey/revisions/99999999999999999999/restore")
    assert r.status_code == 404 and "has no revision" in r.json()["detail"]


def test_the_rejects_download_hides_the_server_path_and_keeps_formulas_text(
    tmp_path: Path,
) -> None:
    root = tmp_path / "ws"
    ws = create_workspace(root, template="saas-trial")
    events = tmp_path / "private-folder" / "events.csv"
    events.parent.mkdir()
    rows = ['=HYPERLINK("http://x"),signed_up,never', "+1,signed_up,never", "@SUM(A1),,2024-01-01"]
    events.write_text("customer_id,event,timestamp\n" + "\n".join(rows) + "\n", encoding="utf-8")
    (report,) = import_files(ws, [events])
    store = Store.of_workspace(root)
    store.add_user("ana", "viewer", PASSWORD)
    c = signed_in(create_app(root), store)
    r = c.get(f"/imports/{report.import_id}/rejected.csv")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert "private-folder" not in r.text and str(tmp_path) not in r.text
    got = list(csv.reader(io.StringIO(r.text)))
    assert got[0] == ["source", "line", "field", "reason", "raw"]
    assert [row[0] for row in got[1:]] == ["events.csv"] * 3
    assert [row[4] for row in got[1:]][1:] == ["'+1,signed_up,never", "'@SUM(A1),,2024-01-01"]
    assert not [cell for row in got for cell in row if cell[:1] in ("=", "+", "-", "@")]
    assert "private-folder" not in r.headers["content-disposition"]


def test_concurrent_wrong_passwords_cannot_outrun_the_sign_in_limit(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    ctx = site.app.state.ctx
    monkeypatch.setattr(ctx, "limiter", LoginLimiter(per_user=5, per_ip=1000, window=900))
    real = ctx.store.check_password

    def slow_check(name: str, password: str) -> object:
        time.sleep(0.05)  # a real hash's time: the window the check-then-count race used
        return real(name, password)

    monkeypatch.setattr(ctx.store, "check_password", slow_check)
    start = threading.Barrier(40)

    def attempt(_: int) -> int:
        c = site.client(None)
        start.wait()
        return c.post("/api/login", json={"name": "editor", "password": "wrong"}).status_code

    with ThreadPoolExecutor(max_workers=40) as pool:
        codes = list(pool.map(attempt, range(40)))
    assert sorted(codes) == [401] * 5 + [429] * 35
    ok = site.client(None)
    assert ok.post("/api/login", json={"name": "viewer", "password": PASSWORD}).status_code == 200
    assert ctx.limiter.attempt("testclient", "viewer")[0] == 0  # a success leaves no mark


def test_concurrent_saves_serialise_and_the_latest_revision_is_the_file(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    ws = create_workspace(root, template="saas-trial")
    store = Store.of_workspace(root)
    store.add_user("ana", "editor", PASSWORD)
    app = create_app(root)
    base = ws.journey_file.read_text("utf-8")
    start = threading.Barrier(12)

    def save(i: int) -> int:
        c = signed_in(app, store)
        start.wait()
        return c.put("/api/journeys/journey", json={"text": base + f"# save {i}\n"}).status_code

    for _ in range(2):  # 20 concurrent saves gave 13-14 errors (500) per round before
        with ThreadPoolExecutor(max_workers=12) as pool:
            assert list(pool.map(save, range(12))) == [200] * 12
    revisions = store.revisions("journey")
    assert [r.number for r in revisions] == list(range(len(revisions), 0, -1))
    assert revisions[0].text == ws.journey_file.read_text("utf-8")
    assert not [r for r in revisions if r.note == "changed on disk outside the app"]
    assert not list(ws.journey_file.parent.glob(".*.tmp"))


def test_concurrent_creates_of_one_name_give_one_journey_and_409s(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    create_workspace(root, template="saas-trial")
    store = Store.of_workspace(root)
    store.add_user("ana", "editor", PASSWORD)
    app = create_app(root)
    start = threading.Barrier(16)

    def create(name: str) -> int:
        c = signed_in(app, store)
        start.wait()
        return c.post("/api/journeys", json={"name": name, "template": "saas-trial"}).status_code

    for name in ("twin0", "twin1", "twin2", "twin3", "twin4"):
        with ThreadPoolExecutor(max_workers=16) as pool:
            codes = sorted(pool.map(create, [name] * 16))
        assert codes == [201] + [409] * 15
        assert [r.number for r in store.revisions(name)] == [1]


def test_a_busy_workspace_is_a_page_saying_so_not_a_500(
    odd_site: tuple[TestClient, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    from journeykit.engine import duckdb as duckdb_engine

    c, root = odd_site
    monkeypatch.setattr(duckdb_engine, "LOCK_WAIT", 0.3, raising=False)
    with database_held(open_workspace(root).database, write=True):  # a CLI import running
        page = c.get("/journeys/journey/dashboards/funnel")
        api = c.get("/api/journeys/journey/positions")
    assert page.status_code == 503 and "the workspace is busy" in page.text
    assert "<html" in page.text.lower()
    assert api.status_code == 503 and "the workspace is busy" in api.json()["detail"]
    assert c.get("/journeys/journey/dashboards/funnel").status_code == 200  # and after it


def test_signing_in_ends_the_browsers_previous_session(site: Site) -> None:
    c = site.client("viewer")
    before = c.cookies["jk_session"]
    assert site.store.session(before) is not None
    r = c.post("/api/login", json={"name": "editor", "password": PASSWORD})
    assert r.status_code == 200 and r.json()["user"] == "editor"
    assert site.store.session(before) is None  # it stayed valid for the viewer before


def test_an_upload_is_removed_once_its_import_has_run(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    create_workspace(root, template="saas-trial")
    store = Store.of_workspace(root)
    store.add_user("ana", "editor", PASSWORD)
    app = create_app(root)
    c = signed_in(app, store)
    body = b"customer_id,event,timestamp\na,signed_up,2024-01-01\n"
    for _ in range(3):  # the same file three times: one import, then "already imported"
        r = c.post("/api/imports", files={"file": ("events.csv", body, "text/csv")})
        assert r.status_code == 202, r.text
        app.state.ctx.imports.wait()
    assert list((root / "uploads").iterdir()) == []  # 98 MB of identical uploads before
    assert len(c.get("/api/imports").json()["history"]) == 1


def test_a_damaged_workspace_is_a_page_naming_the_file_not_a_bare_500(
    odd_site: tuple[TestClient, Path],
) -> None:
    c, root = odd_site
    database = open_workspace(root).database
    # The dashboards read the milestone log the import keeps (engine/maplog.py), not the events.
    damage(database, "milestone_rows")
    page = c.get("/journeys/journey/dashboards/funnel")
    assert page.status_code == 500 and "<html" in page.text.lower()
    assert "the workspace database is damaged" in page.text and "journeykit doctor" in page.text
    for url in ("/api/journeys/journey/positions", "/api/journeys/journey/funnel"):
        api = c.get(url)
        assert api.status_code == 500, url
        assert api.json()["detail"].startswith(f"{database}: the workspace database is damaged")


SAVE_ON_A_FULL_DISK = """
import json, sys
from pathlib import Path
from fastapi.testclient import TestClient
from journeykit.web.app import create_app

root, token, csrf, text = sys.argv[1], sys.argv[2], sys.argv[3], Path(sys.argv[4]).read_text()
c = TestClient(create_app(Path(root)), base_url="http://127.0.0.1")
c.cookies.set("jk_session", token)
c.headers["X-CSRF-Token"] = csrf
r = c.put("/api/journeys/journey", json={"text": text})
print(json.dumps({"status": r.status_code, "body": r.json()}))
"""


def test_saving_a_journey_on_a_full_disk_says_so_and_keeps_the_file(
    small_disk: SmallDisk, tmp_path: Path
) -> None:
    root = small_disk.root / "ws"
    ws = create_workspace(root, template="saas-trial")
    store = Store.of_workspace(root)
    store.add_user("ana", "editor", PASSWORD)
    token, session = store.new_session(store.user("ana"))  # type: ignore[arg-type]
    before = ws.journey_file.read_text("utf-8")
    signed_in(create_app(root), store).get("/api/journeys/journey")  # its first revision
    revisions = [r.number for r in store.revisions("journey")]
    text = tmp_path / "new.yaml"  # a valid journey larger than the room left
    text.write_text(before + "".join(f"# note {i:06d} {'x' * 80}\n" for i in range(1500)), "utf-8")

    small_disk.fill(room=64 * 1024)
    done = small_disk.python("-c", SAVE_ON_A_FULL_DISK, str(root), token, session.csrf, str(text))
    small_disk.free()
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout.strip().splitlines()[-1])
    assert answer["status"] == 503, answer
    assert answer["body"]["detail"].startswith(f"{ws.journey_file}: no room left to write")
    assert "the journey was not saved; the file is as it was" in answer["body"]["detail"]
    assert ws.journey_file.read_text("utf-8") == before
    assert [r.number for r in store.revisions("journey")] == revisions
    assert not list(root.glob(".*.tmp"))
