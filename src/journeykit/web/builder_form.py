"""The visual builder's form model: a journey as the fields of one HTML form, and back.

The page is one plain form; every field is named by where its value goes in the journey file
(``milestones.2.title``, ``paths.0.steps.1.within``). What the builder has no widget for
(a milestone's evidence, a play's touchpoint, the community's north star, ...) travels in a hidden
``_rest`` field per item as JSON, so a save through the builder never loses part of a file. A
rule the condition rows cannot say exactly (a nested ``any``, mixed-type lists, text with line
breaks) travels whole in its own hidden field and is edited in the YAML editor.

``data_of(form)`` reads the posted fields into the plain data a journey validates from;
``apply(data, action)`` does the add / remove / reorder buttons on that data (nothing is saved
until Save). The template (``builder.html``) is the other half: it writes the fields this reads.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

from pydantic import ValidationError

from journeykit.errors import Problem
from journeykit.journey import Journey
from journeykit.journey.catalog import default_stages

# Keys each item's widgets edit; every other key of the item rides in its ``_rest`` field.
MANAGED: dict[str, tuple[str, ...]] = {
    "personas": ("id", "name", "description", "fears", "frustrations", "desires", "jobs",
                 "segment"),
    "stages": ("id", "title", "description"),
    "milestones": ("id", "title", "phase", "moment", "kind", "stage", "description",
                   "expected_within", "when"),
    "paths": ("id", "title", "description", "steps"),
    "touchpoints": ("from", "to", "channel", "action", "owner", "description"),
    "plays": ("id", "title", "description", "channel", "owner", "message", "who", "goal",
              "holdout", "cooldown"),
}  # fmt: skip
# Keys of an item that are small objects edited field by field (a play's audience and goal);
# their other keys (``who.after``, ``who.when``, ...) ride in the object's own ``_rest`` field.
GROUPS: dict[str, dict[str, tuple[str, ...]]] = {
    "plays": {"who": ("status", "path", "milestone"), "goal": ("milestone", "within")},
    "community": {"north_star": ("metric", "milestone")},
}
NUMBERS = {"plays": ("holdout",)}
SECTIONS = tuple(MANAGED)
TOP = ("id", "title", "description", "lapsed_after")
LINES = ("fears", "frustrations", "desires", "jobs")
RULES = {"personas": "segment", "milestones": "when"}
STEP_KEYS = ("milestone", "optional", "within")
COMMUNITY = ("purpose", "role", "milestones", "north_star")
OPS = ("eq", "ne", "in", "not_in", "gt", "gte", "lt", "lte", "exists")
LIST_OPS = ("in", "not_in")
NUMBER_OPS = ("gt", "gte", "lt", "lte")
TYPES = ("text", "number", "yes/no")
_INT = re.compile(r"-?[0-9]+")


class FormError(ValueError):
    """A posted form the builder did not write (a bad index, JSON that is not ours)."""


# --- rules: the rule builder's rows ------------------------------------------------------


def rule_view(rule: Any) -> dict[str, Any]:
    """A ``when``/``segment`` value (as dumped) as the rule builder shows it.

    ``events`` (names), ``conds`` (rows of subject, key, op, value lines, type), ``any`` (the
    nested rules, kept as JSON) and ``raw``: the whole rule as JSON when rows cannot say it.
    """
    view: dict[str, Any] = {"events": [], "conds": [], "any": "", "raw": ""}
    if rule is None:
        return view
    rule = _long(rule)
    events = rule.get("event") or []
    view["events"] = [events] if isinstance(events, str) else list(events)
    rows: list[dict[str, Any]] = []
    for key, cond in (rule.get("properties") or {}).items():
        rows += _cond_rows("property", key, cond)
    if rule.get("value") is not None:
        rows += _cond_rows("value", "", rule["value"])
    view["conds"] = rows
    if rule.get("any"):
        view["any"] = json.dumps(rule["any"], sort_keys=True)
    if not _rows_say_it(view):
        return {"events": [], "conds": [], "any": "", "raw": json.dumps(rule, sort_keys=True)}
    return view


def _long(rule: Any) -> Any:
    """A rule with its shorthand names written out: the model dumps a nested ``any`` rule
    as a bare name, which ``any`` does not read back."""
    if isinstance(rule, str | list):
        return {"event": rule}
    if isinstance(rule, dict) and rule.get("any"):
        return {**rule, "any": [_long(sub) for sub in rule["any"]]}
    return rule


def _cond_rows(subject: str, key: str, cond: Any) -> list[dict[str, Any]]:
    if not isinstance(cond, dict):
        cond = {"in": cond} if isinstance(cond, list) else {"eq": cond}
    rows = []
    for op, value in cond.items():
        values = value if isinstance(value, list) else [value]
        rows.append({
            "subject": subject, "key": key, "op": op,
            "value": "\n".join(_scalar_text(v) for v in values), "type": _type_of(values),
            "_values": values,
        })  # fmt: skip
    return rows


def _scalar_text(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


def _type_of(values: list[Any]) -> str:
    kinds = {"yes/no" if isinstance(v, bool) else "number" if isinstance(v, int | float)
             else "text" for v in values}  # fmt: skip
    return kinds.pop() if len(kinds) == 1 else "mixed"


def _rows_say_it(view: dict[str, Any]) -> bool:
    """Whether reading the rows back gives exactly the values they were made from."""
    for name in view["events"]:
        if name != name.strip() or "\n" in name or "\r" in name:
            return False
    for row in view["conds"]:
        if row["type"] == "mixed" or row["key"] != row["key"].strip():
            return False
        if row["subject"] == "property" and not row["key"]:
            return False
        try:
            back = _parse_values(row["value"], row["type"], row["op"])
        except FormError:
            return False
        values = row["_values"] if row["op"] in LIST_OPS else row["_values"][0]
        if not _same(back, values) or (row["op"] in LIST_OPS and not row["_values"]):
            return False
    return True


def _same(a: Any, b: Any) -> bool:
    return type(a) is type(b) and a == b if not isinstance(a, list) else (
        isinstance(b, list) and len(a) == len(b) and all(map(_same, a, b)))  # fmt: skip


def _parse_values(text: str, kind: str, op: str) -> Any:
    lines = [x for x in text.replace("\r\n", "\n").split("\n") if x != ""]
    if op in LIST_OPS:
        return [_parse_scalar(x, kind) for x in lines]
    if len(lines) != 1:
        raise FormError(f"expected one value for {op!r}, got {len(lines)}")
    if op in NUMBER_OPS:
        return _parse_scalar(lines[0], "number")
    if op == "exists":
        return _parse_scalar(lines[0], "yes/no")
    return _parse_scalar(lines[0], kind)


def _parse_scalar(text: str, kind: str) -> Any:
    if kind == "number":
        try:
            return int(text) if _INT.fullmatch(text) else float(text)
        except ValueError:
            raise FormError(f"expected a number, got {text!r}") from None
    if kind == "yes/no":
        if text.strip().lower() in ("true", "yes"):
            return True
        if text.strip().lower() in ("false", "no"):
            return False
        raise FormError(f"expected yes or no, got {text!r}")
    return text


def rule_of(fields: Mapping[str, Any]) -> Any:
    """The rule the builder's fields say, as journey data (None when they say nothing)."""
    if not isinstance(fields, Mapping):
        raise FormError("a rule: expected the rule builder's fields")
    if fields.get("raw"):
        return _json(fields["raw"], "rule")
    events = _lines(fields.get("events", ""))
    pick = str(fields.get("pick") or "")
    if pick and pick not in events:
        events.append(pick)
    rule: dict[str, Any] = {}
    if events:
        rule["event"] = events[0] if len(events) == 1 else events
    props: dict[str, dict[str, Any]] = {}
    value: dict[str, Any] = {}
    for row in _items(fields.get("c", {})):
        if not isinstance(row, dict):
            raise FormError("a condition: expected its subject, key, test, value and type")
        subject, key, op = _str(row, "subject") or "property", _str(row, "key"), _str(row, "op")
        text, kind = _str(row, "value"), _str(row, "type") or "text"
        op = op or "eq"
        if subject == "property" and not key:
            continue
        if subject == "value" and not text:
            continue
        if op not in OPS or kind not in TYPES:
            raise FormError(f"condition: unknown operator {op!r} or type {kind!r}")
        target = value if subject == "value" else props.setdefault(key, {})
        target[op] = _parse_values(text, kind, op)
    if props:
        rule["properties"] = props
    if value:
        rule["value"] = value
    if fields.get("any"):
        rule["any"] = _json(fields["any"], "rule")
    return rule or None


# --- the whole form ------------------------------------------------------------------------


def nest(pairs: Iterable[tuple[str, str]]) -> dict[Any, Any]:
    """Posted (name, value) pairs as a tree: ``a.0.b`` -> {"a": {0: {"b": ...}}}.

    A name given more than once keeps every value in a list (checkboxes).
    """
    tree: dict[Any, Any] = {}
    for name, value in pairs:
        parts: list[str | int] = [int(p) if p.isdigit() else p for p in name.split(".")]
        node = tree
        for part in parts[:-1]:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                raise FormError(f"field {name!r} clashes with another field")
            node = child
        last = parts[-1]
        if last in node:
            old = node[last]
            node[last] = [*(old if isinstance(old, list) else [old]), value]
        else:
            node[last] = value
    return tree


def _items(node: Any) -> list[Any]:
    """A nested dict with integer keys as the list it stands for, in index order."""
    if not isinstance(node, dict):
        return []
    return [node[k] for k in sorted(k for k in node if isinstance(k, int))]


def _lines(text: Any) -> list[str]:
    return [x for x in str(text).replace("\r\n", "\n").split("\n") if x.strip()]


def _json(text: Any, what: str) -> Any:
    try:
        return json.loads(str(text))
    except ValueError:
        raise FormError(f"{what}: the form's hidden data is not JSON; reload the page") from None


def _rest_of(node: Mapping[Any, Any], what: str) -> dict[str, Any]:
    """The keys an item's widgets do not edit, from its hidden ``_rest`` field."""
    rest = _json(node["_rest"], what) if node.get("_rest") else {}
    if not isinstance(rest, dict):
        raise FormError(f"{what}: the form's hidden data is not ours; reload the page")
    return rest


def _number(text: str) -> Any:
    """A number field's value; text that is not a number goes on for the model to name."""
    try:
        return _parse_scalar(text, "number")
    except FormError:
        return text


def _str(node: Mapping[Any, Any], key: str) -> str:
    v = node.get(key, "")
    if isinstance(v, list):  # a name posted twice: the last one, as a dict would keep
        v = v[-1] if v else ""
    return v if isinstance(v, str) else str(v)


def data_of(pairs: Iterable[tuple[str, str]]) -> dict[str, Any]:
    """The journey data the posted builder fields say (not validated yet)."""
    tree = nest((k, v.replace("\r\n", "\n")) for k, v in pairs)  # browsers send CRLF
    data: dict[str, Any] = {}
    for key in TOP:
        if _str(tree, key):
            data[key] = _str(tree, key)
    tf = {k: _str(tree, k) for k in ("from", "to")}
    data["transformation"] = {k: v for k, v in tf.items() if v} if any(tf.values()) else {}
    for section in SECTIONS:
        items = [_item(section, node) for node in _items(tree.get(section, {}))]
        if items:
            data[section] = items
    if _str(tree, "stages_default") == "1" and data.get("stages") == _default_stage_data():
        del data["stages"]
    if isinstance(tree.get("community"), dict):
        community = _community(tree["community"])
        if community is not None:
            data["community"] = community
    return data


def _item(section: str, node: Any) -> dict[str, Any]:
    if not isinstance(node, dict):
        raise FormError(f"{section}: expected the builder's fields")
    out: dict[str, Any] = {}
    rest = _rest_of(node, section)
    for key in MANAGED[section]:
        if key in LINES:
            value: Any = _lines(node.get(key, ""))
        elif section in RULES and key == RULES[section]:
            value = rule_of(node.get(key, {}))
        elif section == "paths" and key == "steps":
            value = [_step(s) for s in _items(node.get("steps", {}))]
            value = [s for s in value if s is not None]
        elif key in GROUPS.get(section, {}):
            value = _group(section, key, node.get(key, {}))
        elif key in NUMBERS.get(section, ()):
            value = _number(_str(node, key)) if _str(node, key).strip() else ""
        else:
            value = _str(node, key)
        if value not in ("", [], {}, None):
            out[key] = value
    out.update({k: v for k, v in rest.items() if k not in MANAGED[section]})
    return out


def _group(section: str, key: str, node: Any) -> dict[str, Any]:
    if not isinstance(node, dict):
        raise FormError(f"{section} {key}: expected the builder's fields")
    managed = GROUPS[section][key]
    out = {k: _str(node, k) for k in managed if _str(node, k)}
    out.update({k: v for k, v in _rest_of(node, f"{section} {key}").items() if k not in managed})
    return out


def _step(node: Any) -> Any:
    if not isinstance(node, dict) or not _str(node, "milestone"):
        return None
    step: dict[str, Any] = {"milestone": _str(node, "milestone")}
    if node.get("optional"):
        step["optional"] = True
    if _str(node, "within"):
        step["within"] = _str(node, "within")
    return step["milestone"] if list(step) == ["milestone"] else step


def _community(node: Mapping[Any, Any]) -> dict[str, Any] | None:
    if _str(node, "present") != "1":
        return None
    out: dict[str, Any] = {}
    for key in ("purpose", "role"):
        if _str(node, key):
            out[key] = _str(node, key)
    marks = node.get("milestones", [])
    marks = [marks] if isinstance(marks, str) else list(marks)
    if marks:
        out["milestones"] = marks
    star = _group("community", "north_star", node.get("north_star", {}))
    if _str(node.get("north_star", {}), "target").strip():
        star["target"] = _number(_str(node["north_star"], "target"))
    if star:
        out["north_star"] = star
    rest = _rest_of(node, "community")
    out.update({k: v for k, v in rest.items() if k not in COMMUNITY})
    return out


def _default_stage_data() -> list[dict[str, Any]]:
    return [
        {"id": s.id, "title": s.title, **({"description": s.description} if s.description else {})}
        for s in default_stages()
    ]


# --- from a journey to the form -------------------------------------------------------------


def data_from(journey: Journey) -> dict[str, Any]:
    """The journey as the plain data the builder draws (what its file says, no defaults)."""
    data: dict[str, Any] = journey.model_dump(mode="json", by_alias=True, exclude_unset=True)
    return data


def view_of(data: Mapping[str, Any]) -> dict[str, Any]:
    """What the template needs beyond the data: per item, its rest JSON and rule rows."""
    out: dict[str, Any] = {"stages_default": "stages" not in data}
    stages = (data.get("stages") or []) if "stages" in data else _default_stage_data()
    for section in SECTIONS:
        items = stages if section == "stages" else data.get(section) or []
        views = []
        for item in items:
            item = item if isinstance(item, dict) else {}
            v: dict[str, Any] = {"item": item, "rest": _rest_json(item, MANAGED[section])}
            if section in RULES:
                v["rule"] = rule_view(item.get(RULES[section]))
            v["groups"] = {
                key: _rest_json(item.get(key), managed)
                for key, managed in GROUPS.get(section, {}).items()
            }
            if section == "paths":
                v["steps"] = [_step_view(s) for s in item.get("steps") or []]
            views.append(v)
        out[section] = views
    community = data.get("community")
    if isinstance(community, dict):
        out["community"] = {
            "item": community,
            "rest": _rest_json(community, COMMUNITY),
            "star_rest": _rest_json(community.get("north_star"), ("metric", "milestone", "target")),
        }
    else:
        out["community"] = None
    return out


def _rest_json(group: Any, managed: tuple[str, ...]) -> str:
    """The hidden ``_rest`` value: the keys of ``group`` its widgets do not edit, as JSON."""
    rest = {k: v for k, v in group.items() if k not in managed} if isinstance(group, dict) else {}
    return json.dumps(rest, sort_keys=True) if rest else ""


def _step_view(step: Any) -> dict[str, Any]:
    return {"milestone": step} if isinstance(step, str) else dict(step)


# --- the buttons ----------------------------------------------------------------------------

_ACTION = re.compile(
    r"(add|remove|up|down|addstep)(?::([a-z_]+(?:\.[0-9]+)?(?:\.steps(?:\.[0-9]+)?)?))?(?::(pre|core|post))?"
)


def apply(data: dict[str, Any], action: str, pairs: Mapping[str, str]) -> dict[str, Any]:
    """Do one builder button on the (unsaved) data: add, remove or move an item, add a step."""
    m = _ACTION.fullmatch(action)
    if m is None or m.group(2) is None:
        raise FormError(f"unknown builder action {action!r}")
    verb, target, phase = m.group(1), m.group(2), m.group(3)
    parts = target.split(".")
    section = parts[0]
    if section not in (*SECTIONS, "community") or (section == "community" and verb != "add"):
        raise FormError(f"unknown builder action {action!r}")
    if verb == "add" and len(parts) == 1:
        return _add(data, section, phase or "pre")
    if verb == "addstep" and section == "paths" and len(parts) == 2:
        chosen = pairs.get(f"paths.{parts[1]}.add", "")
        path = _at(data, section, int(parts[1]))
        if chosen:
            path.setdefault("steps", []).append(chosen)
        return data
    if len(parts) == 2:
        items = data.setdefault(section, [])
        i = int(parts[1])
        _at(data, section, i)
        if verb == "remove":
            removed = items.pop(i)
            if section == "milestones" and isinstance(removed, dict):
                _drop_steps(data, removed.get("id"))
            if not items:
                del data[section]
        elif section == "milestones":
            _move_milestone(data, i, -1 if verb == "up" else 1)
        else:
            _swap(items, i, -1 if verb == "up" else 1)
        return data
    if section == "paths" and len(parts) == 4 and verb in ("remove", "up", "down"):
        steps = _at(data, "paths", int(parts[1])).get("steps", [])
        k = int(parts[3])
        if not 0 <= k < len(steps):
            raise FormError(f"no step {k} on that path")
        if verb == "remove":
            steps.pop(k)
        else:
            _swap(steps, k, -1 if verb == "up" else 1)
        return data
    raise FormError(f"unknown builder action {action!r}")


def _at(data: Mapping[str, Any], section: str, i: int) -> dict[str, Any]:
    items = data.get(section) or []
    if not 0 <= i < len(items) or not isinstance(items[i], dict):
        raise FormError(f"no item {i} in {section}")
    item: dict[str, Any] = items[i]
    return item


def _swap(items: list[Any], i: int, by: int) -> None:
    j = i + by
    if 0 <= j < len(items):
        items[i], items[j] = items[j], items[i]


def _fresh_id(data: Mapping[str, Any], section: str, stem: str) -> str:
    used = {str(x.get("id")) for x in data.get(section) or [] if isinstance(x, dict)}
    n = 1
    while f"{stem}_{n}" in used:
        n += 1
    return f"{stem}_{n}"


def _add(data: dict[str, Any], section: str, phase: str) -> dict[str, Any]:
    if section == "community":
        data.setdefault("community", {"purpose": "", "role": ""})
        return data
    if section == "stages" and "stages" not in data:
        data["stages"] = _default_stage_data()
    makers: dict[str, Any] = {
        "milestones": lambda: {"id": _fresh_id(data, "milestones", "milestone"),
                               "title": "New milestone", "phase": phase},
        "personas": lambda: {"id": _fresh_id(data, "personas", "persona"), "name": "New persona"},
        "stages": lambda: {"id": _fresh_id(data, "stages", "stage"), "title": "New stage"},
        "paths": lambda: {"id": _fresh_id(data, "paths", "path"), "steps": []},
        "touchpoints": lambda: {"from": "", "to": "", "channel": "", "action": ""},
        "plays": lambda: {"id": _fresh_id(data, "plays", "play"), "title": "New play",
                          "channel": "", "who": {"status": "strayed"}},
    }  # fmt: skip
    new: dict[str, Any] = makers[section]()
    data.setdefault(section, []).append(new)
    return data


def _drop_steps(data: Mapping[str, Any], milestone: Any) -> None:
    for p in data.get("paths") or []:
        if isinstance(p, dict):
            p["steps"] = [
                s for s in p.get("steps") or [] if _step_view(s).get("milestone") != milestone
            ]


def board(data: Mapping[str, Any]) -> dict[str, list[int]]:
    """Milestone indexes per phase, in path order: the first path's steps, then file order."""
    items = [m if isinstance(m, dict) else {} for m in data.get("milestones") or []]
    paths = [p for p in data.get("paths") or [] if isinstance(p, dict)]
    order = [_step_view(s).get("milestone") for s in (paths[0].get("steps") or [])] if paths else []
    rank = {mid: k for k, mid in enumerate(order)}
    out: dict[str, list[int]] = {"pre": [], "core": [], "post": []}
    ranked = sorted(range(len(items)), key=lambda i: (rank.get(items[i].get("id"), len(rank)), i))
    for i in ranked:
        out.setdefault(str(items[i].get("phase") or "pre"), []).append(i)
    return out


def _move_milestone(data: dict[str, Any], i: int, by: int) -> None:
    """Swap a card with its neighbour on the board: in the file and on every path with both."""
    items = data["milestones"]
    column = next(c for c in board(data).values() if i in c)
    k = column.index(i) + by
    if not 0 <= k < len(column):
        return
    j = column[k]
    a, b = items[i].get("id"), items[j].get("id")
    items[i], items[j] = items[j], items[i]
    for p in data.get("paths") or []:
        steps = p.get("steps") or [] if isinstance(p, dict) else []
        ids = [_step_view(s).get("milestone") for s in steps]
        if a in ids and b in ids:
            x, y = ids.index(a), ids.index(b)
            steps[x], steps[y] = steps[y], steps[x]


# --- validation ----------------------------------------------------------------------------


def validate(data: Mapping[str, Any]) -> tuple[Journey | None, list[Problem]]:
    """The journey, or the problems, each named by the field it concerns."""
    from journeykit.journey.load import _problems

    try:
        return Journey.model_validate(data), []
    except ValidationError as exc:
        return None, _problems(exc, data)


def field_id(field: str) -> str:
    """The HTML id of the control a problem's field names: ``milestones[2].title`` ->
    ``f-milestones-2-title``."""
    return "f-" + re.sub(r"[^A-Za-z0-9_]+", "-", field).strip("-")
