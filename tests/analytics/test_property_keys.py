"""A property key, in a ``when`` rule or in ``--by property:KEY``, is one literal top-level key.

It used to be compiled into a JSON path on DuckDB: ``$browser`` read ``browser``, ``a.b`` read a
nested value, a quote made every analysis fail with a tokenizer error and ``*`` with a binder
error. PostHog's own properties all start with ``$``. Each case below holds on every engine.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import ibis
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from journeykit.analytics import funnel, milestone_log
from journeykit.analytics.compile import _json_member
from journeykit.analytics.segments import breakdowns
from journeykit.cli import cli
from journeykit.errors import JourneykitError
from journeykit.journey import Journey, parse_journey
from tests.builders import events_for, to_arrow

# key -> a properties object a JSON-path reading of the key would match, and a literal must not.
KEYS: dict[str, dict[str, Any]] = {
    "$browser": {"browser": "Safari"},
    "a.b": {"a": {"b": "Safari"}},
    "a[0]": {"a": ["Safari"]},
    "$.x": {"x": "Safari"},
    "$": {"x": "Safari"},
    "*": {"x": "Safari"},
    "product'x": {"product": "Safari", "productx": "Safari"},
    'say "hi"': {"say": "Safari", "say hi": "Safari"},
    "both'\"": {"both": "Safari"},
    "back\\slash": {"backslash": "Safari", "back": "Safari"},
    "sp ace": {"sp": "Safari", "space": "Safari"},
    "é日本": {"e": "Safari"},
    "~0/1": {"~": {"1": "Safari"}, "~0": {"1": "Safari"}},
    "?": {"x": "Safari"},
    "x']y": {"x": "Safari"},
    "": {"x": "Safari"},
}


def _journey(key: str, value: str = "Safari") -> Journey:
    """Milestone ``text``: the key equals ``value``; ``number``: the key is at least 2."""
    return Journey.model_validate(
        {
            "id": "keys",
            "title": "Keys",
            "transformation": {"from": "A", "to": "B"},
            "milestones": [
                {"id": "text", "title": "Text", "phase": "core",
                 "when": {"event": "a", "properties": {key: value}}},
                {"id": "number", "title": "Number", "phase": "core",
                 "when": {"event": "a", "properties": {key: {"gte": 2}}}},
            ],
        }
    )  # fmt: skip


def _log(key: str, decoy: dict[str, Any]) -> dict[str, list[Any]]:
    return {
        "hit": [("a", "2024-01-01", {key: "Safari"})],
        "num": [("a", "2024-01-02", {key: 3})],
        "decoy": [("a", "2024-01-01", decoy)],
    }


def _reached(events: ibis.Table, journey: Journey) -> set[tuple[str, str]]:
    log = milestone_log(events, journey).to_pyarrow()
    ids = [m.id for m in journey.milestones]
    return {
        (c, ids[m])
        for c, m in zip(
            log.column("customer_id").to_pylist(), log.column("milestone").to_pylist(), strict=True
        )
    }


class Engine:
    """Puts an event log on one engine as a table."""

    def __init__(self, name: str, upload: Any) -> None:
        self.name = name
        self._upload = upload
        self._n = 0

    def table(self, log: dict[str, list[Any]]) -> ibis.Table:
        self._n += 1
        return self._upload(to_arrow(events_for(log)), f"keys_{self._n}")


@pytest.fixture(scope="module")
def duckdb_engine() -> Engine:
    con = ibis.duckdb.connect()
    return Engine("duckdb", lambda t, name: con.create_table(name, t, overwrite=True))


@pytest.fixture(scope="module")
def spark_engine() -> Iterator[Engine]:
    pytest.importorskip("pyspark")
    from journeykit.engine.spark import SparkEngine

    spark = SparkEngine.from_url("spark://local[2]")
    yield Engine("spark", spark.upload)
    spark.con.disconnect()


@pytest.fixture(params=["duckdb", pytest.param("spark", marks=pytest.mark.spark)])
def engine(request: pytest.FixtureRequest) -> Engine:
    engine: Engine = request.getfixturevalue(f"{request.param}_engine")
    return engine


@pytest.mark.parametrize("key", list(KEYS), ids=[repr(k) for k in KEYS])
def test_a_rule_reads_the_literal_key(engine: Engine, key: str) -> None:
    events = engine.table(_log(key, KEYS[key]))
    assert _reached(events, _journey(key)) == {("hit", "text"), ("num", "number")}


@pytest.mark.parametrize("key", [k for k in KEYS if k], ids=[repr(k) for k in KEYS if k])
def test_by_property_groups_by_the_literal_key(engine: Engine, key: str) -> None:
    events = engine.table(_log(key, KEYS[key]))
    want = {"(none)": ["decoy"], "3": ["num"], "Safari": ["hit"]}
    assert breakdowns(events, _journey(key), f"property:{key}") == want
    assert breakdowns(events, _journey(key), f"first:{key}") == want


def test_other_backends_refuse_a_key_they_would_read_as_a_path() -> None:
    """Ibis hands the key to each dialect's JSON path reader; only plain keys are safe there."""
    events = ibis.table({"properties": "string"}, name="events")
    sql = ibis.to_sql(events.select(p=_json_member(events, "browser", "postgres")), "postgres")
    assert "'browser'" in sql
    for key in ("$browser", "a.b", "product'x"):
        with pytest.raises(JourneykitError, match="only keys of letters, digits and '_'"):
            _json_member(events, key, "postgres")


def test_a_nul_in_a_key_is_a_validation_error() -> None:
    with pytest.raises(ValueError, match="cannot contain the NUL character"):
        _journey("a\x00b")
    events = ibis.table({"properties": "string"}, name="events")
    with pytest.raises(JourneykitError, match="cannot contain the NUL character"):
        _json_member(events, "a\x00b", "duckdb")


# Text with the characters JSON paths treat specially, plus any other (no NUL, no surrogates).
_SPECIAL = st.sampled_from(list("$.'\"\\*[]~/?@ 0:"))
_ANY = st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00")
keys = st.text(st.one_of(_SPECIAL, _ANY), max_size=10)
# Spark runs few examples: each key there has at least one special character.
spark_keys = st.builds(lambda a, c, b: a + c + b, keys, _SPECIAL, keys)
values = st.text(st.characters(whitelist_categories=("L", "N")), min_size=1, max_size=6)


def _path_reading(key: str, value: str) -> dict[str, Any]:
    """What the key meant as a JSON path: `$` and a leading `.` dropped, `.` for nesting."""
    parts = [p for p in key.lstrip("$").lstrip(".").split(".") if p] or ["x"]
    doc: Any = value
    for part in reversed(parts):
        doc = {part: doc}
    return dict(doc)


def _check_key(engine: Engine, key: str, other: str, value: str) -> None:
    log = {
        "hit": [("a", "2024-01-01", {key: value})],
        "other": [("a", "2024-01-01", {other: value})],
        "path": [("a", "2024-01-01", _path_reading(key, value))],
    }
    if _path_reading(key, value) == {key: value}:
        del log["path"]
    events = engine.table(log)
    journey = _journey(key, value)
    assert _reached(events, journey) == {("hit", "text")}
    if key:  # `--by property:` with no key is a usage error
        groups = breakdowns(events, journey, f"property:{key}")
        assert groups == {"(none)": sorted(set(log) - {"hit"}), value: ["hit"]}


@settings(settings.get_profile("analytics"))
@given(key=keys, other=keys, value=values)
def test_any_key_is_read_literally_on_duckdb(
    duckdb_engine: Engine, key: str, other: str, value: str
) -> None:
    if other == key:
        other += "_"
    _check_key(duckdb_engine, key, other, value)


@pytest.mark.spark
@settings(settings.get_profile("analytics"), max_examples=6)
@given(key=spark_keys, other=keys, value=values)
def test_any_key_is_read_literally_on_spark(
    spark_engine: Engine, key: str, other: str, value: str
) -> None:
    if other == key:
        other += "_"
    _check_key(spark_engine, key, other, value)


JOURNEY = """\
id: posthog
title: PostHog browsers
transformation: {from: Visiting, to: Buying}
milestones:
  - {id: visit, title: Visited on Safari, phase: pre,
     when: {event: pageview, properties: {"$browser": Safari}}}
  - {id: bought, title: Bought, phase: core,
     when: {event: purchase, properties: {"product'x": {exists: true}, "a.b": 1}}}
paths:
  - {id: main, steps: [visit, bought]}
"""


def test_cli_funnel_by_a_dollar_key(tmp_path: Path) -> None:
    (tmp_path / "j.yaml").write_text(JOURNEY)
    log = {
        "ana": [
            ("pageview", "2024-01-01", {"$browser": "Safari"}),
            ("purchase", "2024-01-02", {"product'x": "yes", "a.b": 1}),
        ],
        "ben": [("pageview", "2024-01-01", {"$browser": "Firefox"})],
        # what the old JSON-path reading matched: `browser`, and a nested `a.b`
        "cy": [
            ("pageview", "2024-01-01", {"browser": "Safari"}),
            ("purchase", "2024-01-02", {"product'x": "yes", "a": {"b": 1}}),
        ],
    }
    to_arrow(events_for(log)).to_pandas().to_csv(tmp_path / "e.csv", index=False)
    validated = CliRunner().invoke(cli, ["validate", str(tmp_path / "j.yaml")])
    assert validated.exit_code == 0, validated.output
    args = ["funnel", str(tmp_path / "j.yaml"), "--events", str(tmp_path / "e.csv")]
    out = CliRunner().invoke(cli, [*args, "--by", "property:$browser", "--format", "json"])
    assert out.exit_code == 0, out.output
    got = json.loads(out.output)
    assert [s["customers"] for s in got["steps"]] == [1, 1]
    assert {g: [s["customers"] for s in v] for g, v in got["breakdown"].items()} == {
        "(none)": [0, 0],
        "Firefox": [0, 0],
        "Safari": [1, 1],
    }


def test_funnel_of_a_parsed_journey_with_odd_keys() -> None:
    """The YAML route: quoted keys survive loading and reach the engine as written."""
    journey = parse_journey(JOURNEY)
    events = ibis.duckdb.connect().create_table(
        "events",
        to_arrow(
            events_for(
                {
                    "ana": [
                        ("pageview", "2024-01-01", {"$browser": "Safari"}),
                        ("purchase", "2024-01-02", {"product'x": 0, "a.b": 1.0}),
                    ]
                }
            )
        ),
    )
    assert funnel(events, journey).counts == [1, 1]
