"""The milestone log's SQL kept in the user's cache: read back without ibis, never stale.

A kept query must be exactly the one a build gives; an edited rule, a damaged entry or changed
code must build it again. The import that reads it back must not import ibis at all (that was
the saving: 0.44-0.49 CPU s of each ``journeykit import``).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from journeykit.engine import maplog
from journeykit.engine.maplog import LogQuery, code_stamp, log_query
from journeykit.journey import load_journey

REPO = Path(__file__).resolve().parents[2]
TEMPLATE = REPO / "examples" / "saas-trial.yaml"

# Builds the query of the journey given and prints it, with whether ibis was imported.
CHILD = """
import json, sys
from journeykit.engine.maplog import log_query
from journeykit.journey import load_journey
q = log_query(load_journey(sys.argv[1]))
print(json.dumps([q.digest, q.sql, q.keyed, "ibis" in sys.modules]))
"""


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return tmp_path / "cache" / "journeykit" / "logsql"


def same(a: LogQuery | None, b: LogQuery | None) -> bool:
    """One query, but for the names ibis makes up for each build (``ibis_..._<26 random>``)."""
    assert a is not None and b is not None

    def plain(q: LogQuery) -> tuple[str, str, bool]:
        return q.digest, re.sub(r"ibis_[a-z_]+_[a-z0-9]{26}", "ibis_name", q.sql), q.keyed

    return plain(a) == plain(b)


def built(journey_path: Path) -> LogQuery:
    """The query as built, the cache bypassed."""
    import ibis

    from journeykit.analytics.milestones import milestone_log
    from journeykit.events.schema import EVENT_COLUMNS

    journey = load_journey(journey_path)
    tagged = milestone_log(ibis.table(EVENT_COLUMNS, name="jk_log_events"), journey)
    sql = ibis.to_sql(tagged, dialect="duckdb")
    return LogQuery(maplog.log_digest(journey), sql, "event_key" in tagged.columns)


def child(journey_path: Path, cache_home: Path) -> tuple[LogQuery, bool]:
    env = {**os.environ, "XDG_CACHE_HOME": str(cache_home)}
    out = subprocess.run(
        [sys.executable, "-c", CHILD, str(journey_path)],
        env=env, capture_output=True, text=True, check=True,
    )  # fmt: skip
    digest, sql, keyed, ibis_imported = json.loads(out.stdout)
    return LogQuery(digest, sql, keyed), ibis_imported


def test_a_kept_query_is_the_built_one_and_needs_no_ibis(tmp_path: Path, cache: Path) -> None:
    path = tmp_path / "journey.yaml"
    path.write_text(TEMPLATE.read_text())
    first, ibis_first = child(path, tmp_path / "cache")
    again, ibis_again = child(path, tmp_path / "cache")
    assert ibis_first and not ibis_again
    assert first == again and same(first, built(path))
    assert len(list(cache.glob("*.json"))) == 1


def test_an_edited_rule_is_built_again_not_served_the_old(tmp_path: Path, cache: Path) -> None:
    path = tmp_path / "journey.yaml"
    text = TEMPLATE.read_text()
    path.write_text(text)
    old = log_query(load_journey(path))
    edited = "when: {event: [webinar_joined, board_created]}"
    assert "when: webinar_joined" in text
    path.write_text(text.replace("when: webinar_joined", edited))
    new = log_query(load_journey(path))
    assert same(new, built(path))
    assert old is not None and new is not None
    assert (new.digest, new.keyed) != (old.digest, old.keyed) and new.sql != old.sql
    path.write_text(text)  # and back: the first one, from the cache, still the built one
    assert log_query(load_journey(path)) == old and same(old, built(path))


@pytest.mark.parametrize(
    "entry",
    [
        "{not json",
        '{"digest": "other", "sql": "SELECT 1", "keyed": false}',
        '{"digest": "%s", "sql": 1, "keyed": false}',
        '{"digest": "%s", "sql": "SELECT 1", "keyed": "no"}',
        "[]",
    ],
)
def test_a_damaged_entry_is_built_again(tmp_path: Path, cache: Path, entry: str) -> None:
    path = tmp_path / "journey.yaml"
    path.write_text(TEMPLATE.read_text())
    journey = load_journey(path)
    log_query(journey)
    (kept,) = cache.glob("*.json")
    kept.write_text(entry.replace("%s", maplog.log_digest(journey)))
    rebuilt = log_query(journey)
    assert same(rebuilt, built(path))
    assert rebuilt is not None and json.loads(kept.read_text())["sql"] == rebuilt.sql


def test_without_a_cache_folder_the_query_is_built(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocked = tmp_path / "file"
    blocked.write_text("")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocked))  # no folder can be made under a file
    path = tmp_path / "journey.yaml"
    path.write_text(TEMPLATE.read_text())
    assert same(log_query(load_journey(path)), built(path))


def test_the_code_stamp_follows_every_module_or_the_init(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pkg = tmp_path / "jkstamp_pkg"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "sub" / "__init__.py").write_text("")
    (pkg / "sub" / "rules.py").write_text("A = 1\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    every, init = code_stamp({"jkstamp_pkg": True}), code_stamp({"jkstamp_pkg": False})
    (pkg / "sub" / "rules.py").write_text("A = 12\n")  # an edit deep inside
    assert code_stamp({"jkstamp_pkg": True}) != every
    assert code_stamp({"jkstamp_pkg": False}) == init
    (pkg / "__init__.py").write_text("# reinstalled\n")
    assert code_stamp({"jkstamp_pkg": False}) != init
    (pkg / "sub" / "new.py").write_text("")  # a module added
    stamp = code_stamp({"jkstamp_pkg": True})
    (pkg / "sub" / "new.py").unlink()
    assert code_stamp({"jkstamp_pkg": True}) != stamp
    assert code_stamp({"jkstamp_missing_pkg": True}) == code_stamp({"jkstamp_missing_pkg": True})


def test_changed_code_builds_the_query_again(
    tmp_path: Path, cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "journey.yaml"
    path.write_text(TEMPLATE.read_text())
    journey = load_journey(path)
    log_query(journey)
    (kept,) = cache.glob("*.json")
    kept.write_text(kept.read_text().replace("SELECT", "SELECT /* old code */", 1))
    assert "old code" in log_query(journey).sql  # type: ignore[union-attr]
    monkeypatch.setattr(maplog, "_code_stamp", lambda: "other code")
    assert same(log_query(journey), built(path))


def test_a_stamp_that_cannot_be_taken_builds_the_query(
    tmp_path: Path, cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Never a journey left without its log because its cache could not be looked up."""

    def gone() -> str:
        raise FileNotFoundError("a module removed while it was looked at")

    monkeypatch.setattr(maplog, "_code_stamp", gone)
    path = tmp_path / "journey.yaml"
    path.write_text(TEMPLATE.read_text())
    assert same(log_query(load_journey(path)), built(path))
    assert not cache.exists()
