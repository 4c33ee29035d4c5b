"""The journey parse cache: a journey read from it is the journey the file reads as.

``load_journey`` keeps what a file's text read as (journey.load); a later load of the same text
validates that data instead of reading the YAML again. Whatever comes from the cache must be
what a full read gives: the same model, the same lint warnings at the same lines, the same
saved YAML with the file's comments; and anything the cache cannot hold exactly, or a journey
with a problem, is read in full every time.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import pytest

import journeykit.journey.load as load
from journeykit.errors import JourneyFileError
from journeykit.journey import lint, load_journey
from journeykit.journey.load import dump_yaml, parse_journey

REPO = Path(__file__).resolve().parents[2]
JOURNEYS = sorted((REPO / "examples").glob("*.yaml")) + sorted(
    (REPO / "src" / "journeykit" / "templates").glob("*.yaml")
)


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return tmp_path / "cache" / "journeykit" / "journeys"


def without_yaml_reader(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse() -> Any:
        raise AssertionError("the YAML was read again")

    monkeypatch.setattr(load, "_yaml", refuse)


def as_data(journey: Any) -> Any:
    return journey.model_dump(mode="json", by_alias=True, exclude_unset=True)


@pytest.mark.parametrize("path", JOURNEYS, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_a_cached_journey_is_the_journey_the_file_reads_as(
    path: Path, cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    copy = tmp_path / "journey.yaml"
    copy.write_text(path.read_text() + "# a comment at the end, kept when saved\n")
    full = parse_journey(copy.read_text(), copy)
    first = load_journey(copy)  # read in full, and remembered
    assert len(list(cache.glob("*.json"))) == 1
    with monkeypatch.context() as m:
        without_yaml_reader(m)
        cached = load_journey(copy)
    assert cached._source is None  # not read: its tree comes on first use
    assert as_data(cached) == as_data(full) == as_data(first)
    assert cached == full
    assert cached._source_path == copy
    assert lint(cached) == lint(full)  # the same warnings, at the same lines
    assert dump_yaml(cached) == dump_yaml(full)
    assert "# a comment at the end" in dump_yaml(cached)


def test_lint_lines_of_a_cached_journey(
    cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = (REPO / "examples" / "coding-course.yaml").read_text()
    path = tmp_path / "journey.yaml"
    path.write_text("\n".join(x for x in text.splitlines() if not x.startswith("    message:")))
    full = lint(parse_journey(path.read_text(), path))
    assert full and all(w.line for w in full)  # plays without a message, at their lines
    load_journey(path)
    with monkeypatch.context() as m:
        without_yaml_reader(m)
        cached = load_journey(path)
    assert lint(cached) == full


@pytest.mark.parametrize(
    ("plain", "written"),
    [
        ("properties: {first: true}", "properties: {first: &first true}"),
        ("properties: {boards: {lte: 1}}", "properties: {boards: {lte: 0x1}}"),
        ("properties: {boards: {lte: 1}}", "properties: {boards: {lte: 1.0e0}}"),
        ("properties: {direction: up}", "properties: {direction: 'up'}"),
    ],
)
def test_scalars_ruamel_reads_as_its_own_types_come_back_the_same(
    plain: str, written: str, cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = (REPO / "examples" / "saas-trial.yaml").read_text()
    assert plain in text
    path = tmp_path / "journey.yaml"
    path.write_text(text.replace(plain, written))
    full = parse_journey(path.read_text(), path)
    load_journey(path)
    with monkeypatch.context() as m:
        without_yaml_reader(m)
        cached = load_journey(path)
    assert repr(as_data(cached)) == repr(as_data(full))  # the types too: 1 is not 1.0 or True


def test_a_journey_with_a_problem_is_never_remembered(cache: Path, tmp_path: Path) -> None:
    bad = tmp_path / "journey.yaml"
    bad.write_text((REPO / "examples" / "saas-trial.yaml").read_text() + "colour: blue\n")
    with pytest.raises(JourneyFileError) as first:
        load_journey(bad)
    with pytest.raises(JourneyFileError) as again:
        load_journey(bad)
    assert str(first.value) == str(again.value)
    assert ":" in str(again.value).split("colour")[0]  # FILE:LINE before the field
    assert not cache.exists() or not list(cache.glob("*.json"))


def test_data_json_cannot_hold_exactly_is_not_remembered(cache: Path, tmp_path: Path) -> None:
    text = (REPO / "examples" / "saas-trial.yaml").read_text()
    assert "properties: {boards: {lte: 1}}" in text
    path = tmp_path / "journey.yaml"
    path.write_text(
        text.replace("properties: {boards: {lte: 1}}", "properties: {boards: {lte: .inf}}")
    )
    journey = load_journey(path)
    assert journey._source is not None  # read in full
    assert not cache.exists() or not list(cache.glob("*.json"))
    assert load_journey(path) == journey


def test_a_damaged_or_unwritable_cache_changes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = REPO / "examples" / "coding-course.yaml"
    full = parse_journey(path.read_text(), path)
    blocked = tmp_path / "a-file"
    blocked.write_text("")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocked))  # no folder can be made under a file
    assert load_journey(path) == full
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    load_journey(path)
    (entry,) = (tmp_path / "cache" / "journeykit" / "journeys").glob("*.json")
    entry.write_text('{"id": "other", "truncated')  # not JSON
    assert load_journey(path) == full
    entry.write_text('{"id": "x"}')  # JSON, but no journey: read in full
    assert load_journey(path) == full


def test_the_cache_keeps_the_latest_journeys(
    cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(load, "_CACHE_ENTRIES", 2)
    text = (REPO / "examples" / "saas-trial.yaml").read_text()
    cache.mkdir(parents=True)
    killed, writing = cache / "a.1.2.tmp", cache / "b.1.2.tmp"
    killed.write_text("{")
    os.utime(killed, (time.time() - 7200, time.time() - 7200))
    writing.write_text("{")  # another process's, being written now
    for i in range(4):
        path = tmp_path / f"j{i}.yaml"
        path.write_text(text + f"# edit {i}\n")
        load_journey(path)
    assert len(list(cache.glob("*.json"))) == 2
    assert list(cache.glob("*.tmp")) == [writing]
