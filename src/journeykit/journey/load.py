"""Journey files: YAML in with errors that point at the line, YAML out that keeps the comments."""

from __future__ import annotations

import io
import json
import types
import typing
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, get_args, get_origin

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails
from ruamel.yaml import YAML
from ruamel.yaml import __version__ as _RUAMEL_VERSION
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.constructor import DuplicateKeyError, RoundTripConstructor, SafeConstructor
from ruamel.yaml.error import MarkedYAMLError

from journeykit.errors import DurationError, JourneyFileError, Problem, did_you_mean
from journeykit.journey.durations import parse_duration
from journeykit.journey.limits import (
    MAX_DEPTH,
    block_problem,
    flow_problem,
    size_problem,
    text_problem,
)
from journeykit.journey.schema import Journey, Loc, ReferenceProblems, _dotted

_TYPE_TAGS = {"str", "int", "float", "bool", "none"}


class _Constructor(RoundTripConstructor):
    def check_mapping_key(
        self, node: Any, key_node: Any, mapping: Any, key: Any, value: Any
    ) -> bool:
        # ruamel's own message prints both values, aliases expanded: a few lines of aliases made
        # it a 180 MB string (found by tests/journey/test_fuzz.py). Name the key only.
        if key in mapping:
            shown = key if isinstance(key, str | int | float | bool) else type(key).__name__
            raise DuplicateKeyError(
                "while constructing a mapping", node.start_mark,
                f'found duplicate key "{str(shown)[:80]}"', key_node.start_mark,
            )  # fmt: skip
        return True

    def construct_plain_bool(self, node: Any) -> bool:
        # ruamel reads an anchored boolean (`&yes true`) as its ScalarBoolean, an int: every
        # rule would compare it as the number 1 and a boolean field would refuse it.
        return bool(SafeConstructor.construct_yaml_bool(self, node))


_Constructor.add_constructor("tag:yaml.org,2002:bool", _Constructor.construct_plain_bool)


def _yaml() -> YAML:
    yaml = YAML(typ="rt")
    yaml.Constructor = _Constructor
    yaml.preserve_quotes = True
    yaml.width = 4096  # never re-flow the user's long lines
    yaml.indent(mapping=2, sequence=4, offset=2)
    return yaml


def load_journey(path: str | Path) -> Journey:
    """Read and validate a journey file.

    Raises ``JourneyFileError`` listing every problem as ``FILE:LINE: field: what was expected``.
    """
    path = Path(path)
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise JourneyFileError(path, [Problem("", f"not UTF-8 text (byte {exc.start})")]) from None
    except OSError as exc:
        raise JourneyFileError(path, [Problem("", f"cannot read: {exc.strerror}")]) from None
    data = _cached_data(text)
    if data is not None:
        journey = _valid_or_none(text, data)
        if journey is not None:
            journey._source_text = text
            journey._source_path = path
            return journey
    journey = parse_journey(text, path)
    _remember(text, journey._source)
    return journey


def parse_journey(text: str, path: str | Path | None = None) -> Journey:
    """Validate journey YAML held in a string; ``path`` only names it in messages."""
    if (too_long := text_problem(text)) is not None:
        raise JourneyFileError(path, [Problem("", too_long)])
    if (too_deep := flow_problem(text) or block_problem(text)) is not None:
        raise JourneyFileError(path, [Problem("", f"not valid YAML: {too_deep[1]}", too_deep[0])])
    try:
        data = _yaml().load(text)
    except MarkedYAMLError as exc:
        line = exc.problem_mark.line + 1 if exc.problem_mark else None
        raise JourneyFileError(
            path, [Problem("", f"not valid YAML: {exc.problem}", line)]
        ) from None
    except RecursionError:  # the YAML reader recurses once per level, before any limit of ours
        msg = f"not valid YAML: nested more than {MAX_DEPTH} levels deep"
        raise JourneyFileError(path, [Problem("", msg)]) from None
    if (too_big := size_problem(data)) is not None:
        loc, msg = too_big
        raise JourneyFileError(path, [Problem(_dotted(loc), msg, line_of(data, loc))])
    if not isinstance(data, Mapping):
        got = "an empty file" if data is None else f"a {type(data).__name__}"
        msg = f"expected a mapping of journey fields (id, title, milestones, ...), got {got}"
        raise JourneyFileError(path, [Problem("", msg, 1)])
    try:
        journey = Journey.model_validate(data)
    except ValidationError as exc:
        raise JourneyFileError(path, _problems(exc, data)) from None
    journey._source = data
    journey._source_path = path
    return journey


def source_of(journey: Journey) -> Any:
    """The YAML tree the journey was read from (comments, key order, lines), or None. A
    journey read through the parse cache gets its tree on first use: parsed from its text."""
    if journey._source is None and journey._source_text is not None:
        journey._source = _yaml().load(journey._source_text)
        journey._source_text = None
    return journey._source


# --- the parse cache ------------------------------------------------------------------------
# Reading the YAML (ruamel's round-trip reader, pure Python, for the lines and comments) is
# most of every command's journey load: 0.04 CPU s of a 10 kB journey, against 0.001 s to
# validate the same data from JSON. So what a file's text reads as is kept, keyed by the text
# and the reader's version, in the user's cache folder; the data is validated again on every
# load, and only data that JSON holds exactly (no dates, tags, NaN) is kept. A journey with a
# problem is always read again, so that its errors point at lines. The cache is a saving, not
# a store: any failure to read or write it is ignored.
_CACHE_FORMAT = "2"  # changed whenever _yaml() or _Constructor reads a text differently
_CACHE_ENTRIES = 256  # journeys kept, the least recently written dropped first


def _cache_file(text: str) -> Path | None:
    from journeykit._cache import entry_file

    return entry_file("journeys", _CACHE_FORMAT, _RUAMEL_VERSION, text)


def _cached_data(text: str) -> Any:
    from journeykit._cache import read_entry

    try:
        raw = read_entry(_cache_file(text))
        return None if raw is None else json.loads(raw)
    except ValueError:
        return None


def _valid_or_none(text: str, data: Any) -> Journey | None:
    """The journey ``data`` (read from ``text`` before) validates to, or None when either has
    any problem at all (the caller then reads the text again, for errors with lines)."""
    if text_problem(text) or flow_problem(text) or block_problem(text):
        return None
    if not isinstance(data, Mapping) or size_problem(data) is not None:
        return None
    try:
        return Journey.model_validate(data)
    except Exception:  # any problem: the full read gives it, with its line
        return None


def _remember(text: str, data: Any) -> None:
    from journeykit._cache import write_entry

    try:
        plain = json.dumps(data, allow_nan=False)
    except (TypeError, ValueError):
        return
    if json.loads(plain) == data:  # not, e.g., with a key that is not text
        write_entry(_cache_file(text), plain, _CACHE_ENTRIES)


def line_of(data: Any, loc: Loc) -> int | None:
    """The 1-based line of the deepest part of ``loc`` that exists in the loaded YAML."""
    line: int | None = None
    node = data
    for part in loc:
        if isinstance(node, CommentedMap) and part in node:
            line = node.lc.key(part)[0] + 1
        elif isinstance(node, CommentedSeq) and isinstance(part, int) and 0 <= part < len(node):
            line = node.lc.item(part)[0] + 1
        else:
            break
        node = node[part]
    return line


def _clean_loc(loc: Sequence[str | int]) -> Loc:
    """Drop pydantic's union and validator tags so the location matches the file's keys."""
    return tuple(
        p for p in loc
        if isinstance(p, int) or not (p in _TYPE_TAGS or "[" in p or p[:1].isupper())
    )  # fmt: skip


def _problems(exc: ValidationError, data: Any) -> list[Problem]:
    out: list[Problem] = []
    seen: set[str] = set()
    for err in exc.errors():
        error = err.get("ctx", {}).get("error")
        if isinstance(error, ReferenceProblems):
            base = _clean_loc(err["loc"])
            for loc, msg in error.problems:
                full = base + loc
                out.append(Problem(_dotted(full), msg, line_of(data, full)))
            continue
        loc = _clean_loc(err["loc"])
        if err["type"] == "too_short" and _has_deeper(exc, loc):
            continue  # "no items left" only because its items failed: those errors say why
        field = _dotted(loc)
        if field in seen:  # one message per place: a failed union reports each member
            continue
        seen.add(field)
        out.append(Problem(field or "(top level)", _message(err, loc), line_of(data, loc)))
    return out


def _has_deeper(exc: ValidationError, loc: Loc) -> bool:
    return any(
        len(other := _clean_loc(e["loc"])) > len(loc) and other[: len(loc)] == loc
        for e in exc.errors()
    )


def _message(err: ErrorDetails, loc: Loc) -> str:
    kind, ctx, value = err["type"], err.get("ctx", {}), err.get("input")
    if kind == "extra_forbidden":
        allowed = _allowed_keys(loc[:-1])
        hint = did_you_mean(str(loc[-1]), allowed)
        if hint or not allowed:
            return f"unknown key{hint}"
        return f"unknown key (expected one of: {', '.join(allowed)})"
    if kind == "missing":
        return "required, but missing"
    if kind == "literal_error":
        return f"expected {ctx.get('expected')}, got {value!r}"
    if kind == "string_pattern_mismatch":
        return (
            "expected an id of lowercase letters, digits, '_' or '-' (such as 'free_trial'), "
            f"got {value!r}"
        )
    if kind == "string_too_short":
        return "expected some text, got an empty string"
    if kind == "too_short":
        return f"expected at least {ctx.get('min_length', 1)} item(s), got none"
    if kind in ("value_error", "assertion_error"):
        error = ctx.get("error")
        return str(error) if error is not None else err["msg"]
    got = "" if isinstance(value, Mapping | list) else f", got {value!r}"
    return f"{err['msg'][0].lower()}{err['msg'][1:]}{got}"


def _allowed_keys(loc: Loc) -> list[str]:
    tp: Any = Journey
    for part in loc:
        tp = _descend(tp, part)
        if tp is None:
            return []
    tp = _unwrap(tp)
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        return [f.alias or name for name, f in tp.model_fields.items()]
    return []


def _descend(tp: Any, part: str | int) -> Any:
    tp = _unwrap(tp)
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        for name, f in tp.model_fields.items():
            if part in (name, f.alias):
                return f.annotation
        return None
    origin, args = get_origin(tp), get_args(tp)
    if origin in (tuple, list) and isinstance(part, int):
        return args[0]
    if origin is dict:
        return args[1]
    return None


def _unwrap(tp: Any) -> Any:
    while True:
        origin = get_origin(tp)
        if origin is typing.Annotated:
            tp = get_args(tp)[0]
        elif origin in (typing.Union, types.UnionType):
            members = [a for a in get_args(tp) if a is not type(None)]
            if len(members) != 1:
                return tp
            tp = members[0]
        else:
            return tp


# --- saving -------------------------------------------------------------------------------


def dump_yaml(journey: Journey) -> str:
    data = journey.model_dump(mode="json", by_alias=True, exclude_unset=True)
    source = source_of(journey)
    merged = _merge(source, data) if isinstance(source, CommentedMap) else data
    out = io.StringIO()
    _yaml().dump(merged, out)
    return out.getvalue()


def _merge(old: Any, new: Any) -> Any:
    """Write ``new`` into the loaded YAML tree in place, so comments and key order survive."""
    if isinstance(old, CommentedMap) and isinstance(new, dict):
        for key in [k for k in old if k not in new]:
            del old[key]
        for key, value in new.items():
            old[key] = _merge(old[key], value) if key in old else value
        return old
    if isinstance(old, CommentedSeq) and isinstance(new, list):
        for i, value in enumerate(new):
            if i < len(old):
                old[i] = _merge(old[i], value)
            else:
                old.append(value)
        del old[len(new) :]
        return old
    return old if _equivalent(old, new) else new


_SHORTHAND_KEYS = ("event", "eq", "in", "milestone")


def _equivalent(old: Any, new: Any) -> bool:
    """Whether ``old`` says the same as ``new``, perhaps in the long form of a shorthand."""
    if isinstance(old, Mapping) and isinstance(new, Mapping):
        return old.keys() == new.keys() and all(_equivalent(old[k], new[k]) for k in old)
    if isinstance(old, Mapping) and len(old) == 1 and next(iter(old)) in _SHORTHAND_KEYS:
        return _equivalent(next(iter(old.values())), new)
    if isinstance(old, list) and isinstance(new, list):
        return len(old) == len(new) and all(map(_equivalent, old, new))
    if isinstance(old, list) and len(old) == 1:
        return _equivalent(old[0], new)
    return _same_scalar(old, new)


def _same_scalar(old: Any, new: Any) -> bool:
    if isinstance(old, Mapping | list) or isinstance(new, Mapping | list):
        return False
    if old == new or str(old) == str(new):
        return True
    try:  # '2w' and '14d' are the same duration: keep what the person wrote
        return parse_duration(str(old)) == parse_duration(str(new))
    except DurationError:
        return False
